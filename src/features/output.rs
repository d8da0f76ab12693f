//! Feature encodings: GeoJSON objects, and CSV and FlatGeobuf downloads.

use std::io::Write;

use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geozero::{ColumnValue, PropertyProcessor};
use serde_json::Value as Json;

use crate::catalog::Layer;
use crate::feature::{Feature, FieldType, Value};

/// One GeoJSON Feature (RFC 7946); `links` are added by the caller where wanted.
pub fn feature_json(layer: &Layer, feature: &Feature) -> Json {
    // Through the same serialisation as pages of features, so a feature is written one way.
    serde_json::to_value(FeatureOut { layer, feature }).unwrap_or(Json::Null)
}

/// [`feature_json`] as a serialisable view, for pages of features written straight to text
/// (a page of 10,000 features built as JSON trees first spent most of its time allocating).
/// Properties come in the layer's field order.
pub struct FeatureOut<'a> {
    pub layer: &'a Layer,
    pub feature: &'a Feature,
}

impl serde::Serialize for FeatureOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Properties<'a>(&'a Layer, &'a Feature);
        impl serde::Serialize for Properties<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.fields.len()))?;
                for (field, value) in self.0.fields.iter().zip(&self.1.properties) {
                    map.serialize_entry(&field.name, value)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("type", "Feature")?;
        map.serialize_entry("id", &self.feature.id)?;
        map.serialize_entry(
            "geometry",
            &geojson::Geometry::new(geojson::Value::from(&self.feature.geometry)),
        )?;
        map.serialize_entry("properties", &Properties(self.layer, self.feature))?;
        map.end()
    }
}

fn all_points(layer: &Layer, positions: &[u32]) -> bool {
    positions.iter().all(|p| {
        matches!(
            layer.features[*p as usize].geometry,
            geo::Geometry::Point(_)
        )
    })
}

/// A property as a CSV cell. Text that a spreadsheet would run as a formula (it begins with
/// `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, as OWASP recommends
/// against CSV injection; numbers are written as numbers.
fn csv_cell(value: &Value) -> String {
    match value {
        Value::String(s) => neutralise(s),
        other => other.to_text(),
    }
}

fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// CSV with a header row. Point layers get `longitude,latitude` columns; other
/// geometries a `WKT` column, which GDAL's CSV driver reads as geometry.
pub fn write_csv(layer: &Layer, positions: &[u32], out: impl Write) -> Result<(), String> {
    use wkt::ToWkt;
    let points = all_points(layer, positions);
    let mut csv = csv::Writer::from_writer(out);
    let mut header: Vec<String> = layer.fields.iter().map(|f| neutralise(&f.name)).collect();
    if points {
        header.extend(["longitude".to_string(), "latitude".to_string()]);
    } else {
        header.push("WKT".to_string());
    }
    csv.write_record(&header).map_err(|e| e.to_string())?;
    for &pos in positions {
        let feature = &layer.features[pos as usize];
        let mut row: Vec<String> = feature.properties.iter().map(csv_cell).collect();
        match &feature.geometry {
            geo::Geometry::Point(p) if points => {
                row.push(p.x().to_string());
                row.push(p.y().to_string());
            }
            other => row.push(other.wkt_string()),
        }
        csv.write_record(&row).map_err(|e| e.to_string())?;
    }
    csv.flush().map_err(|e| e.to_string())
}

fn fgb_geometry_type(layer: &Layer, positions: &[u32]) -> GeometryType {
    use geo::Geometry as G;
    let kind = |g: &G| match g {
        G::Point(_) => GeometryType::Point,
        G::MultiPoint(_) => GeometryType::MultiPoint,
        G::LineString(_) | G::Line(_) => GeometryType::LineString,
        G::MultiLineString(_) => GeometryType::MultiLineString,
        G::Polygon(_) | G::Rect(_) | G::Triangle(_) => GeometryType::Polygon,
        G::MultiPolygon(_) => GeometryType::MultiPolygon,
        G::GeometryCollection(_) => GeometryType::GeometryCollection,
    };
    let mut kinds = positions
        .iter()
        .map(|p| kind(&layer.features[*p as usize].geometry));
    match kinds.next() {
        Some(first) if kinds.all(|k| k == first) => first,
        Some(_) => GeometryType::Unknown,
        None => GeometryType::Point,
    }
}

/// FlatGeobuf in feature order (no spatial index, so it can be read front to back).
pub fn write_fgb(layer: &Layer, positions: &[u32], out: impl Write) -> Result<(), String> {
    let options = FgbWriterOptions {
        write_index: false,
        detect_type: false,
        promote_to_multi: false,
        crs: FgbCrs {
            code: 4326,
            ..Default::default()
        },
        title: Some(&layer.meta.title),
        description: Some(&layer.meta.description),
        ..Default::default()
    };
    let mut fgb = FgbWriter::create_with_options(
        &layer.meta.id,
        fgb_geometry_type(layer, positions),
        options,
    )
    .map_err(|e| e.to_string())?;
    for field in &layer.fields {
        let ty = match field.field_type {
            FieldType::String => ColumnType::String,
            FieldType::Integer => ColumnType::Long,
            FieldType::Number => ColumnType::Double,
            FieldType::Boolean => ColumnType::Bool,
        };
        fgb.add_column(&field.name, ty, |_, col| col.nullable = true);
    }
    for &pos in positions {
        let feature = &layer.features[pos as usize];
        let mut result = Ok(());
        fgb.add_feature_geom(feature.geometry.clone(), |writer| {
            for (i, (field, value)) in layer.fields.iter().zip(&feature.properties).enumerate() {
                let column = match value {
                    Value::Null => continue,
                    Value::Bool(b) => ColumnValue::Bool(*b),
                    Value::Int(v) => ColumnValue::Long(*v),
                    Value::Float(v) => ColumnValue::Double(*v),
                    Value::String(s) => ColumnValue::String(s),
                };
                if let Err(e) = writer.property(i, &field.name, &column) {
                    result = Err(e);
                }
            }
        })
        .map_err(|e| e.to_string())?;
        result.map_err(|e| e.to_string())?;
    }
    fgb.write(out).map_err(|e| e.to_string())
}
