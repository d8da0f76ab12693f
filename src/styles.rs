//! MapLibre styles: a hand-written basemap template plus thematic layers generated from the
//! catalog, so a layer that appears later (an agency upload) is drawn and explained in the
//! legend from its kind and classifying property, with no file edited by hand.

use serde_json::{Value as Json, json};

use crate::catalog::{Layer, Snapshot};

/// Layer kinds the basemap template already draws.
const BASEMAP_KINDS: [&str; 2] = ["basemap", "boundaries"];
/// Distinct classes drawn in their own colour; the rest share "other".
const MAX_CLASSES: usize = 12;
const OTHER_COLOUR: &str = crate::vocab::UNSPECIFIED_COLOUR;
/// Colour-blind-friendly qualitative palette (Tableau 10 + 2).
const PALETTE: [&str; MAX_CLASSES] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1b9e77", "#d95f02",
];

/// Which renderer a style is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// MapLibre GL (the web map): data-driven colours and sizes.
    MapLibre,
    /// QGIS's MapLibre style converter (3.22 and later), which reads data-driven colours on
    /// lines and fills but not on circles: occurrences get one circle layer per commodity
    /// group, selected by a filter it does convert.
    Qgis,
}

pub fn build(
    template: &str,
    base_url: &str,
    snapshot: &Snapshot,
    flavour: Flavour,
) -> Result<Json, serde_json::Error> {
    let mut style: Json = serde_json::from_str(&template.replace("{base_url}", base_url))?;
    // Country names: one point per country of the world outlines (or, without them, of the
    // boundaries layer), inside its largest part.
    let countries = snapshot
        .get("world-countries-50m")
        .or_else(|| snapshot.layers.iter().find(|l| l.meta.kind == "boundaries"));
    if let Some(countries) = countries {
        style["sources"]["country-labels"] =
            json!({ "type": "geojson", "data": label_points(countries) });
    }
    keep_what_is_served(&mut style, base_url, snapshot);
    // One source for every thematic layer (a composite tile each), so the map fetches one
    // tile per place for them all rather than one per layer.
    let themes: Vec<&std::sync::Arc<Layer>> = snapshot
        .layers
        .iter()
        .filter(|l| !BASEMAP_KINDS.contains(&l.meta.kind.as_str()))
        .collect();
    let mut thematic = Vec::new();
    for chunk in themes.chunks(crate::tiles::http::MAX_COMPOSITE_LAYERS) {
        let ids: Vec<&str> = chunk.iter().map(|l| l.meta.id.as_str()).collect();
        let source = format!("layers-{}", ids[0]);
        style["sources"][&source] =
            json!({ "type": "vector", "url": format!("{base_url}/tiles/{}.json", ids.join(",")) });
        for layer in chunk {
            thematic.extend(thematic_layers(layer, &source, flavour));
        }
    }
    // Areas under lines under points under names, whatever order the catalog lists them in.
    thematic.sort_by_key(|l| match l["type"].as_str() {
        Some("fill") => 0,
        Some("line") => 1,
        Some("circle") => 2,
        _ => 3,
    });
    // Below the first label of the template: labels are never hidden under points.
    if let Some(layers) = style["layers"].as_array_mut() {
        let at = layers
            .iter()
            .position(|l| l["type"] == "symbol")
            .unwrap_or(layers.len());
        layers.splice(at..at, thematic);
    }
    Ok(style)
}

/// Narrows the template to the layers this server has: a template tile source lists only
/// the layers of the catalog (and is removed if it has none), and a style layer whose source
/// or source layer is gone is removed. A server started without some of the bundled data (or
/// none: run from another folder) then still draws what it has, uploads included; MapLibre
/// rejects a whole style that names a missing source, and a tile URL with a missing layer
/// is a 404.
fn keep_what_is_served(style: &mut Json, base_url: &str, snapshot: &Snapshot) {
    let prefix = format!("{base_url}/tiles/");
    // Each source kept, with the layers it serves if it is one of this server's tile sources.
    let mut kept: std::collections::HashMap<String, Option<Vec<String>>> = Default::default();
    if let Some(sources) = style["sources"].as_object_mut() {
        sources.retain(|name, source| {
            let Some(ids) = source["url"]
                .as_str()
                .and_then(|url| url.strip_prefix(&prefix))
                .and_then(|rest| rest.strip_suffix(".json"))
            else {
                kept.insert(name.clone(), None);
                return true;
            };
            let present: Vec<String> = ids
                .split(',')
                .filter(|id| snapshot.get(id).is_some())
                .map(str::to_string)
                .collect();
            if present.is_empty() {
                return false;
            }
            source["url"] = json!(format!("{prefix}{}.json", present.join(",")));
            kept.insert(name.clone(), Some(present));
            true
        });
    }
    if let Some(layers) = style["layers"].as_array_mut() {
        layers.retain(|layer| {
            let Some(source) = layer["source"].as_str() else {
                return true; // the background
            };
            match (kept.get(source), layer["source-layer"].as_str()) {
                (None, _) => false,
                (Some(Some(ids)), Some(source_layer)) => ids.iter().any(|id| id == source_layer),
                (Some(_), _) => true,
            }
        });
    }
}

/// The layer's label points (see [`crate::facts::LayerFacts::label_points`]) as GeoJSON.
fn label_points(layer: &Layer) -> Json {
    let features: Vec<Json> = layer
        .facts
        .label_points
        .iter()
        .map(|p| {
            json!({ "type": "Feature", "properties": { "name": p.name, "asean": p.asean },
                     "geometry": { "type": "Point", "coordinates": [p.x, p.y] } })
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features })
}

/// A `match` expression colouring by class, and the legend that explains it.
fn colour_by(layer: &Layer, fallback: &str) -> (Json, Vec<Json>) {
    let Some(classify) = layer.meta.classify.clone() else {
        return (
            json!(fallback),
            vec![json!({ "label": layer.meta.title, "color": fallback })],
        );
    };
    if layer.meta.kind == "occurrences" {
        // Coloured by the group of the primary commodity (every occurrences layer has one:
        // the protocol derives it from the list), with the whole vocabulary in the match,
        // so an upload's commodities are coloured whatever it lists.
        // A commodity in no list is kept as written and drawn as "Other commodities"; grey
        // is for a point that names none.
        let mut expr = vec![json!("match"), json!(["get", "primary_commodity"])];
        let mut legend = Vec::new();
        for group in crate::vocab::COLOUR_GROUPS {
            expr.push(json!(group.commodities));
            expr.push(json!(group.color));
            legend.push(
                json!({ "label": group.label, "color": group.color, "values": group.commodities }),
            );
        }
        legend.push(json!({ "label": crate::vocab::OTHER_COMMODITIES, "color": crate::vocab::OTHER_COMMODITIES_COLOUR }));
        legend.push(
            json!({ "label": "No commodity listed", "color": crate::vocab::UNSPECIFIED_COLOUR }),
        );
        expr.push(json!(crate::vocab::OTHER_COMMODITIES_COLOUR));
        let expr = json!([
            "case",
            ["has", "primary_commodity"],
            Json::Array(expr),
            crate::vocab::UNSPECIFIED_COLOUR
        ]);
        return (expr, legend);
    }
    let classes = &layer.facts.classes;
    if classes.is_empty() {
        return (
            json!(fallback),
            vec![json!({ "label": layer.meta.title, "color": fallback })],
        );
    }
    let mut expr = vec![json!("match"), json!(["get", classify])];
    let mut legend = Vec::new();
    for (value, colour) in classes.iter().zip(PALETTE) {
        // A one-element list: MapLibre and QGIS's converter both read lists of labels.
        expr.push(json!([value]));
        expr.push(json!(colour));
        legend.push(json!({ "label": value, "color": colour }));
    }
    legend.push(json!({ "label": "Other / unspecified", "color": OTHER_COLOUR }));
    expr.push(json!(OTHER_COLOUR));
    (Json::Array(expr), legend)
}

fn thematic_layers(layer: &Layer, source: &str, flavour: Flavour) -> Vec<Json> {
    let id = &layer.meta.id;
    let metadata = |legend: Vec<Json>| {
        json!({ "amis:layer": id, "amis:title": layer.meta.title, "amis:kind": layer.meta.kind,
                "amis:classify": layer.meta.classify, "amis:legend": legend,
                "amis:license": layer.meta.license, "amis:attribution": layer.meta.attribution,
                "amis:source": layer.meta.source })
    };
    let polygons = layer.facts.has_polygons;
    let lines = layer.facts.has_lines;
    let (colour, legend) = colour_by(layer, "#7b3294");
    let mut out = Vec::new();
    if polygons {
        out.push(json!({ "id": format!("{id}-fill"), "type": "fill", "source": source, "source-layer": id,
            "filter": ["==", ["geometry-type"], "Polygon"],
            "paint": { "fill-color": colour, "fill-opacity": 0.55, "fill-outline-color": "#555555" },
            "metadata": metadata(legend.clone()) }));
    }
    if lines {
        out.push(json!({ "id": format!("{id}-line"), "type": "line", "source": source, "source-layer": id,
            "filter": ["==", ["geometry-type"], "LineString"],
            "paint": { "line-color": colour, "line-width": ["interpolate", ["linear"], ["zoom"], 3, 1, 10, 2.5] },
            "metadata": metadata(legend.clone()) }));
    }
    if !polygons && !lines || layer.facts.has_points {
        let is_point = json!(["==", ["geometry-type"], "Point"]);
        if flavour == Flavour::Qgis && layer.meta.kind == "occurrences" {
            for group in crate::vocab::COLOUR_GROUPS {
                out.push(json!({ "id": format!("{id}-points-{}", group.label), "type": "circle", "source": source, "source-layer": id,
                    "filter": ["all", is_point, ["match", ["get", "primary_commodity"], group.commodities, true, false]],
                    "paint": { "circle-color": group.color, "circle-radius": 5, "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.8 },
                    "metadata": metadata(legend.clone()) }));
            }
            out.push(json!({ "id": format!("{id}-points-{}", crate::vocab::OTHER_COMMODITIES), "type": "circle", "source": source, "source-layer": id,
                "filter": ["all", is_point, ["has", "primary_commodity"], ["match", ["get", "primary_commodity"], crate::vocab::COMMODITIES, false, true]],
                "paint": { "circle-color": crate::vocab::OTHER_COMMODITIES_COLOUR, "circle-radius": 5, "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.8 },
                "metadata": metadata(legend.clone()) }));
            out.push(json!({ "id": format!("{id}-points-unspecified"), "type": "circle", "source": source, "source-layer": id,
                "filter": ["all", is_point, ["!", ["has", "primary_commodity"]]],
                "paint": { "circle-color": crate::vocab::UNSPECIFIED_COLOUR, "circle-radius": 4, "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.8 },
                "metadata": metadata(legend.clone()) }));
        } else {
            out.push(json!({ "id": format!("{id}-points"), "type": "circle", "source": source, "source-layer": id,
                "filter": is_point,
                "paint": {
                    "circle-color": colour,
                    "circle-radius": ["interpolate", ["linear"], ["zoom"], 3, ["case", ["has", "point_count"], 4, 3], 10, 7],
                    "circle-stroke-color": "#ffffff",
                    "circle-stroke-width": 0.8
                },
                "metadata": metadata(legend.clone()) }));
        }
        // Names of what is drawn, once there is room for them.
        if layer.fields.iter().any(|f| f.name == "name") {
            out.push(json!({ "id": format!("{id}-names"), "type": "symbol", "source": source, "source-layer": id,
                "minzoom": 8, "filter": is_point,
                "layout": { "text-field": ["get", "name"], "text-font": ["DejaVu Sans Book"], "text-size": 11,
                            "text-anchor": "left", "text-offset": [0.7, 0], "text-max-width": 10 },
                "paint": { "text-color": "#1d2733", "text-halo-color": "#ffffff", "text-halo-width": 1.2 },
                "metadata": metadata(legend) }));
        }
    }
    out
}
