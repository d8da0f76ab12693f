//! TileJSON 3.0.0 documents for one layer or a composite of several.

use std::sync::Arc;

use serde_json::{Value as Json, json};

use crate::catalog::Layer;

/// Tiles are cut for any zoom up to 22, but clients overzoom beyond this, which keeps
/// the number of distinct tiles (and cache misses) down without visible loss.
pub const TILEJSON_MAXZOOM: u8 = 14;

pub fn build(layers: &[Arc<Layer>], spec: &str, base_url: &str) -> Json {
    let bbox = layers
        .iter()
        .filter_map(|l| l.bbox)
        .reduce(crate::index::union);
    let bounds = bbox.map_or([-180.0, -85.051_128_78, 180.0, 85.051_128_78], |r| {
        [
            r.min().x,
            r.min().y.max(-85.051_128_78),
            r.max().x,
            r.max().y.min(85.051_128_78),
        ]
    });
    let width = (bounds[2] - bounds[0]).max(1e-9);
    let center_zoom = (360.0 / width)
        .log2()
        .floor()
        .clamp(0.0, f64::from(TILEJSON_MAXZOOM));
    let center = [
        (bounds[0] + bounds[2]) / 2.0,
        (bounds[1] + bounds[3]) / 2.0,
        center_zoom,
    ];

    let mut attributions: Vec<&str> = Vec::new();
    for l in layers {
        if !l.meta.attribution.is_empty() && !attributions.contains(&l.meta.attribution.as_str()) {
            attributions.push(&l.meta.attribution);
        }
    }
    let vector_layers: Vec<Json> = layers.iter().map(|l| vector_layer(l)).collect();
    let title = layers
        .iter()
        .map(|l| l.meta.title.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    json!({
        "tilejson": "3.0.0",
        "name": title,
        "description": layers.iter().map(|l| l.meta.description.as_str()).collect::<Vec<_>>().join(" "),
        "version": format!("{:x}", layers.iter().fold(0u64, |h, l| h.rotate_left(7) ^ l.version)),
        "attribution": attributions.join("; "),
        "scheme": "xyz",
        "tiles": [format!("{base_url}/tiles/{spec}/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": TILEJSON_MAXZOOM,
        "bounds": bounds,
        "center": center,
        "vector_layers": vector_layers,
    })
}

fn vector_layer(layer: &Layer) -> Json {
    let mut fields = serde_json::Map::new();
    for f in &layer.fields {
        fields.insert(f.name.clone(), Json::from(f.field_type.tilejson_name()));
    }
    if layer.facts.has_points {
        fields.insert("point_count".into(), Json::from("Number"));
    }
    json!({
        "id": layer.meta.id,
        "description": layer.meta.title,
        "minzoom": layer.meta.minzoom.unwrap_or(0),
        "maxzoom": layer.meta.maxzoom.unwrap_or(TILEJSON_MAXZOOM).min(TILEJSON_MAXZOOM),
        "fields": fields,
    })
}
