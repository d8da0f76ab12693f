//! MapLibre styles: a hand-written basemap template plus thematic layers generated from the
//! catalog, so a layer that appears later (an agency upload) is drawn and explained in the
//! legend from its kind and classifying property, with no file edited by hand.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::catalog::{Layer, Snapshot};
use crate::feature::Value;

/// Layer kinds the basemap template already draws.
const BASEMAP_KINDS: [&str; 2] = ["basemap", "boundaries"];
/// Distinct classes drawn in their own colour; the rest share "other".
const MAX_CLASSES: usize = 12;
const OTHER_COLOUR: &str = "#8c8c8c";
/// Colour-blind-friendly qualitative palette (Tableau 10 + 2).
const PALETTE: [&str; MAX_CLASSES] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1b9e77", "#d95f02",
];

/// Commodity groups an investor thinks in, with their colours. A commodity not listed is "other".
pub const COMMODITY_GROUPS: [(&str, &str, &[&str]); 5] = [
    (
        "Precious metals",
        "#d4a017",
        &[
            "Gold",
            "Silver",
            "Platinum group elements",
            "Platinum",
            "Palladium",
        ],
    ),
    (
        "Base metals",
        "#c0504d",
        &[
            "Copper",
            "Zinc",
            "Lead",
            "Iron",
            "Aluminum",
            "Aluminium",
            "Molybdenum",
        ],
    ),
    (
        "Battery & critical minerals",
        "#2e86ab",
        &[
            "Nickel",
            "Cobalt",
            "Lithium",
            "Graphite",
            "Manganese",
            "Rare Earth Elements",
            "Lanthanum",
            "Cerium",
            "Neodymium",
            "Tin",
            "Tungsten",
            "Chromium",
            "Titanium",
            "Zirconium",
            "Vanadium",
            "Antimony",
            "Bismuth",
            "Gallium",
            "Germanium",
            "Indium",
            "Tantalum",
            "Niobium",
            "Scandium",
            "Magnesium",
        ],
    ),
    (
        "Industrial minerals",
        "#6a994e",
        &[
            "Phosphorus-Phosphates",
            "Potassium",
            "Clay",
            "Sulfur",
            "Gypsum",
            "Salt",
            "Limestone",
            "Magnesite",
            "Gemstone > Jade",
            "Gemstone > Sapphire",
            "Silica",
            "Barite",
            "Fluorite",
        ],
    ),
    (
        "Energy minerals",
        "#3d3d3d",
        &["Coal", "Uranium", "Thorium", "Petroleum", "Natural gas"],
    ),
];

pub fn build(
    template: &str,
    base_url: &str,
    snapshot: &Snapshot,
) -> Result<Json, serde_json::Error> {
    let mut style: Json = serde_json::from_str(&template.replace("{base_url}", base_url))?;
    if let Some(boundaries) = snapshot.layers.iter().find(|l| l.meta.kind == "boundaries") {
        style["sources"]["country-labels"] =
            json!({ "type": "geojson", "data": label_points(boundaries) });
    }
    let mut thematic = Vec::new();
    for layer in snapshot
        .layers
        .iter()
        .filter(|l| !BASEMAP_KINDS.contains(&l.meta.kind.as_str()))
    {
        let source = format!("layer-{}", layer.meta.id);
        style["sources"][&source] =
            json!({ "type": "vector", "url": format!("{base_url}/tiles/{}.json", layer.meta.id) });
        thematic.extend(thematic_layers(layer, &source));
    }
    // Areas under lines under points, whatever order the catalog lists them in.
    thematic.sort_by_key(|l| match l["type"].as_str() {
        Some("fill") => 0,
        Some("line") => 1,
        _ => 2,
    });
    if let Some(layers) = style["layers"].as_array_mut() {
        layers.extend(thematic);
    }
    Ok(style)
}

/// One label point per named feature, inside its largest polygon: a tiled polygon would be
/// labelled once per tile and per island.
fn label_points(layer: &Layer) -> Json {
    use geo::{Area, InteriorPoint};
    let Some(name_idx) = layer.field_index("name") else {
        return json!({ "type": "FeatureCollection", "features": [] });
    };
    let features: Vec<Json> = layer
        .features
        .iter()
        .filter_map(|f| {
            let largest = match &f.geometry {
                geo::Geometry::Polygon(p) => Some(p.clone()),
                geo::Geometry::MultiPolygon(mp) => {
                    mp.0.iter()
                        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
                        .cloned()
                }
                _ => None,
            }?;
            let point = largest.interior_point()?;
            let name = f.properties[name_idx].to_json();
            Some(json!({ "type": "Feature", "properties": { "name": name },
                         "geometry": { "type": "Point", "coordinates": [point.x(), point.y()] } }))
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features })
}

/// The values of the classifying property, most frequent first (ties by name).
fn classes(layer: &Layer) -> Vec<String> {
    let Some(idx) = layer
        .meta
        .classify
        .as_deref()
        .and_then(|c| layer.field_index(c))
    else {
        return Vec::new();
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for f in &layer.features {
        if let Value::String(s) = &f.properties[idx] {
            *counts.entry(s.to_string()).or_default() += 1;
        }
    }
    let mut sorted: Vec<(String, usize)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    sorted.into_iter().map(|(v, _)| v).collect()
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
        let present = classes(layer);
        let mut expr = vec![json!("match"), json!(["get", classify])];
        let mut legend = Vec::new();
        for (label, colour, members) in COMMODITY_GROUPS {
            let values: Vec<&str> = members
                .iter()
                .copied()
                .filter(|m| present.iter().any(|p| p == m))
                .collect();
            if !values.is_empty() {
                expr.push(json!(values));
                expr.push(json!(colour));
                legend.push(json!({ "label": label, "color": colour, "values": values }));
            }
        }
        legend.push(json!({ "label": "Other / unspecified", "color": OTHER_COLOUR }));
        expr.push(json!(OTHER_COLOUR));
        return (
            if expr.len() > 3 {
                Json::Array(expr)
            } else {
                json!(OTHER_COLOUR)
            },
            legend,
        );
    }
    let classes = classes(layer);
    if classes.is_empty() {
        return (
            json!(fallback),
            vec![json!({ "label": layer.meta.title, "color": fallback })],
        );
    }
    let mut expr = vec![json!("match"), json!(["get", classify])];
    let mut legend = Vec::new();
    for (value, colour) in classes.iter().zip(PALETTE) {
        expr.push(json!(value));
        expr.push(json!(colour));
        legend.push(json!({ "label": value, "color": colour }));
    }
    legend.push(json!({ "label": "Other / unspecified", "color": OTHER_COLOUR }));
    expr.push(json!(OTHER_COLOUR));
    (Json::Array(expr), legend)
}

fn thematic_layers(layer: &Layer, source: &str) -> Vec<Json> {
    let id = &layer.meta.id;
    let metadata = |legend: Vec<Json>| {
        json!({ "amis:layer": id, "amis:title": layer.meta.title, "amis:kind": layer.meta.kind,
                "amis:classify": layer.meta.classify, "amis:legend": legend })
    };
    let polygons = layer.features.iter().any(|f| {
        matches!(
            f.geometry,
            geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_)
        )
    });
    let lines = layer.features.iter().any(|f| {
        matches!(
            f.geometry,
            geo::Geometry::LineString(_) | geo::Geometry::MultiLineString(_)
        )
    });
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
    if !polygons && !lines
        || layer.features.iter().any(|f| {
            matches!(
                f.geometry,
                geo::Geometry::Point(_) | geo::Geometry::MultiPoint(_)
            )
        })
    {
        out.push(json!({ "id": format!("{id}-points"), "type": "circle", "source": source, "source-layer": id,
            "filter": ["==", ["geometry-type"], "Point"],
            "paint": {
                "circle-color": colour,
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 3, ["case", ["has", "point_count"], 4, 3], 10, 7],
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 0.8
            },
            "metadata": metadata(legend) }));
    }
    out
}
