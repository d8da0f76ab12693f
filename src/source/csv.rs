//! CSV point layers: a `longitude`/`latitude` (or `lon`/`lat`, `x`/`y`) column pair.
//!
//! Column types are inferred: a column whose every non-empty cell parses as an
//! integer is an integer, likewise number and boolean; anything else is text.

use geo::{Geometry, Point};

use super::SourceError;
use super::validate::check_geometry;
use crate::feature::{Feature, FeatureSet, Field, FieldType, StringInterner, Value};

const LON_NAMES: [&str; 4] = ["longitude", "lon", "lng", "x"];
const LAT_NAMES: [&str; 3] = ["latitude", "lat", "y"];

pub fn read(bytes: &[u8]) -> Result<FeatureSet, SourceError> {
    let bad = |m: String| SourceError::Csv(m);
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let (Some(lon_col), Some(lat_col)) = (find(&LON_NAMES), find(&LAT_NAMES)) else {
        return Err(bad(
            "no longitude/latitude columns (expected e.g. 'longitude' and 'latitude')".into(),
        ));
    };
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        rows.push(record.map_err(|e| bad(format!("row {}: {e}", i + 2)))?);
    }
    let property_cols: Vec<usize> = (0..headers.len())
        .filter(|c| *c != lon_col && *c != lat_col)
        .collect();
    let fields: Vec<Field> = property_cols
        .iter()
        .map(|&c| Field {
            name: headers[c].trim().to_string(),
            field_type: infer(rows.iter().map(|r| &r[c])),
        })
        .collect();

    let mut strings = StringInterner::default();
    let mut features = Vec::with_capacity(rows.len());
    let mut invalid_geometries = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let id = i as u64 + 1;
        let coord = |col: usize, what: &str| {
            row[col]
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("{what} {:?} is not a number", &row[col]))
        };
        let geometry = coord(lon_col, "longitude")
            .and_then(|x| Ok(Geometry::Point(Point::new(x, coord(lat_col, "latitude")?))))
            .and_then(|g| check_geometry(&g).map(|()| g));
        let geometry = match geometry {
            Ok(g) => g,
            Err(reason) => {
                invalid_geometries.push((id, reason));
                continue;
            }
        };
        let properties = property_cols
            .iter()
            .zip(&fields)
            .map(|(&c, f)| parse_cell(&row[c], f.field_type, &mut strings))
            .collect();
        features.push(Feature {
            id,
            geometry,
            properties,
        });
    }
    Ok(FeatureSet {
        fields,
        features,
        warnings: Vec::new(),
        invalid: invalid_geometries,
    })
}

fn infer<'a>(cells: impl Iterator<Item = &'a str>) -> FieldType {
    let mut ty: Option<FieldType> = None;
    for cell in cells.map(str::trim).filter(|c| !c.is_empty()) {
        let this = if cell.parse::<i64>().is_ok() {
            FieldType::Integer
        } else if cell.parse::<f64>().is_ok_and(f64::is_finite) {
            FieldType::Number
        } else if cell == "true" || cell == "false" {
            FieldType::Boolean
        } else {
            return FieldType::String;
        };
        ty = Some(ty.map_or(this, |t| t.widen(this)));
    }
    ty.unwrap_or(FieldType::String)
}

fn parse_cell(cell: &str, ty: FieldType, strings: &mut StringInterner) -> Value {
    let trimmed = cell.trim();
    if trimmed.is_empty() {
        return Value::Null;
    }
    match ty {
        FieldType::Integer => trimmed.parse().map(Value::Int).unwrap_or(Value::Null),
        FieldType::Number => trimmed.parse().map(Value::Float).unwrap_or(Value::Null),
        FieldType::Boolean => trimmed.parse().map(Value::Bool).unwrap_or(Value::Null),
        FieldType::String => Value::String(strings.intern(cell)),
    }
}
