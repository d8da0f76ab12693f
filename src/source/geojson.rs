//! RFC 7946 GeoJSON: a FeatureCollection, a single Feature, or a bare geometry.

use geojson::GeoJson;

use super::SourceError;
use super::validate::check_geometry;
use crate::feature::{Feature, FeatureSet, Field, FieldType, StringInterner, Value};

pub fn read(bytes: &[u8]) -> Result<FeatureSet, SourceError> {
    let bad = |m: String| SourceError::GeoJson(m);
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    if let Some(crs) = json.get("crs") {
        check_legacy_crs(crs)?;
    }
    let features = match GeoJson::from_json_value(json).map_err(|e| bad(e.to_string()))? {
        GeoJson::FeatureCollection(fc) => fc.features,
        GeoJson::Feature(f) => vec![f],
        GeoJson::Geometry(g) => vec![geojson::Feature {
            geometry: Some(g),
            ..Default::default()
        }],
    };

    let mut fields: Vec<Field> = Vec::new();
    for feature in &features {
        for (name, value) in feature.properties.iter().flatten() {
            let Some(ty) = json_type(value) else { continue };
            match fields.iter_mut().find(|f| f.name == *name) {
                Some(field) => field.field_type = field.field_type.widen(ty),
                None => fields.push(Field {
                    name: name.clone(),
                    field_type: ty,
                }),
            }
        }
    }
    // Names seen only with null values still belong to the schema.
    for feature in &features {
        for name in feature.properties.iter().flatten().map(|(n, _)| n) {
            if !fields.iter().any(|f| f.name == *name) {
                fields.push(Field {
                    name: name.clone(),
                    field_type: FieldType::String,
                });
            }
        }
    }

    let mut strings = StringInterner::default();
    let mut out = Vec::with_capacity(features.len());
    let mut skipped = 0usize;
    let mut invalid_geometries = Vec::new();
    for (i, feature) in features.into_iter().enumerate() {
        let id = i as u64 + 1;
        let Some(geometry) = feature.geometry else {
            skipped += 1;
            continue;
        };
        if let Some(reason) = unclosed_ring(&geometry.value) {
            invalid_geometries.push((id, reason));
            continue;
        }
        let geometry = match geo::Geometry::<f64>::try_from(geometry.value)
            .map_err(|e| format!("invalid geometry: {e}"))
            .and_then(|g| check_geometry(&g).map(|()| g))
        {
            Ok(g) => g,
            Err(reason) => {
                invalid_geometries.push((id, reason));
                continue;
            }
        };
        let mut properties = vec![Value::Null; fields.len()];
        for (name, value) in feature.properties.into_iter().flatten() {
            if let Some(idx) = fields.iter().position(|f| f.name == name) {
                properties[idx] = typed(&value, fields[idx].field_type, &mut strings);
            }
        }
        out.push(Feature {
            id,
            geometry,
            properties,
        });
    }
    let mut warnings = Vec::new();
    if skipped > 0 {
        warnings.push(format!(
            "{skipped} feature(s) without geometry were skipped"
        ));
    }
    Ok(FeatureSet {
        fields,
        features: out,
        warnings,
        invalid: invalid_geometries,
    })
}

/// RFC 7946 requires closed rings; `geo` would close them silently, so check the raw rings.
fn unclosed_ring(value: &geojson::Value) -> Option<String> {
    let polygons: Vec<&Vec<Vec<Vec<f64>>>> = match value {
        geojson::Value::Polygon(rings) => vec![rings],
        geojson::Value::MultiPolygon(polygons) => polygons.iter().collect(),
        _ => return None,
    };
    for (p, rings) in polygons.iter().enumerate() {
        for (r, ring) in rings.iter().enumerate() {
            if ring.len() < 4 || ring.first() != ring.last() {
                return Some(format!(
                    "polygon {} ring {} is not closed (needs 4 or more positions, the last equal to the first)",
                    p + 1,
                    r + 1
                ));
            }
        }
    }
    None
}

/// GeoJSON 2008's `crs` member is obsolete, but files still carry it; honour what it says.
fn check_legacy_crs(crs: &serde_json::Value) -> Result<(), SourceError> {
    let name = crs
        .pointer("/properties/name")
        .and_then(|n| n.as_str())
        .unwrap_or_default();
    let upper = name.to_ascii_uppercase();
    let lonlat = upper.ends_with("CRS84")
        || upper.ends_with("EPSG::4326")
        || upper.ends_with("EPSG:4326")
        || upper.ends_with("EPSG/0/4326");
    if lonlat {
        Ok(())
    } else {
        Err(SourceError::Crs(name.to_string()))
    }
}

fn json_type(value: &serde_json::Value) -> Option<FieldType> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(_) => Some(FieldType::Boolean),
        serde_json::Value::Number(n) if n.is_i64() => Some(FieldType::Integer),
        serde_json::Value::Number(_) => Some(FieldType::Number),
        _ => Some(FieldType::String),
    }
}

fn typed(value: &serde_json::Value, ty: FieldType, strings: &mut StringInterner) -> Value {
    use serde_json::Value as J;
    match (value, ty) {
        (J::Null, _) => Value::Null,
        (J::Bool(b), FieldType::Boolean) => Value::Bool(*b),
        (J::Number(n), FieldType::Integer) => n.as_i64().map(Value::Int).unwrap_or(Value::Null),
        (J::Number(n), FieldType::Number) => n.as_f64().map(Value::Float).unwrap_or(Value::Null),
        (J::String(s), _) => Value::String(strings.intern(s)),
        (other, _) => Value::String(strings.intern(&other.to_string())),
    }
}
