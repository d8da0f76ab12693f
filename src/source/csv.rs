//! CSV point layers: a `longitude`/`latitude` (or `lon`/`lat`, `x`/`y`) column pair.
//!
//! Column types are inferred: a column whose every non-empty cell parses as an
//! integer is an integer, likewise number and boolean; anything else is text.

use std::io::{Read, Seek, SeekFrom};

use geo::{Geometry, Point};

use super::validate::check_decoded;
use super::{Budget, Decoded, SourceError};
use crate::feature::{Feature, FeatureSet, Field, FieldType, Invalid, StringInterner, Value};

const LON_NAMES: [&str; 4] = ["longitude", "lon", "lng", "x"];
const LAT_NAMES: [&str; 3] = ["latitude", "lat", "y"];

/// Two passes over the stream: the first infers each column's type, the second builds the
/// features, so no row is held beyond the one being read.
pub fn read<R: Read + Seek>(input: R, budget: &mut Budget) -> Result<Decoded, SourceError> {
    let bad = |m: String| SourceError::Csv(m);
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
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
    let property_cols: Vec<usize> = (0..headers.len())
        .filter(|c| *c != lon_col && *c != lat_col)
        .collect();

    let mut types: Vec<Option<FieldType>> = vec![None; property_cols.len()];
    let mut row = csv::StringRecord::new();
    let mut line = 1;
    let mut next_row = |reader: &mut csv::Reader<R>, row: &mut csv::StringRecord| {
        line += 1;
        reader
            .read_record(row)
            .map_err(|e| bad(format!("row {line}: {e}")))
    };
    while next_row(&mut reader, &mut row)? {
        for (ty, &c) in types.iter_mut().zip(&property_cols) {
            if *ty != Some(FieldType::String)
                && let Some(cell) = cell_type(&row[c])
            {
                *ty = Some(ty.map_or(cell, |t| t.widen(cell)));
            }
        }
    }
    let fields: Vec<Field> = property_cols
        .iter()
        .zip(&types)
        .map(|(&c, ty)| Field {
            name: headers[c].trim().to_string(),
            field_type: ty.unwrap_or(FieldType::String),
        })
        .collect();

    let mut input = reader.into_inner();
    input.seek(SeekFrom::Start(0))?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    reader.headers().map_err(|e| bad(e.to_string()))?;
    let mut strings = StringInterner::default();
    let mut features = Vec::new();
    let mut invalid_geometries = Invalid::default();
    let mut id = 0;
    while reader
        .read_record(&mut row)
        .map_err(|e| bad(format!("row {}: {e}", id + 2)))?
    {
        id += 1;
        let coord = |col: usize, what: &str| {
            row[col]
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("{what} {:?} is not a number", &row[col]))
        };
        let geometry = coord(lon_col, "longitude")
            .and_then(|x| Ok(Geometry::Point(Point::new(x, coord(lat_col, "latitude")?))))
            .and_then(check_decoded);
        let geometry = match geometry {
            Ok(Some(g)) => g,
            Ok(None) => continue,
            Err(reason) => {
                invalid_geometries.push(id, &reason);
                continue;
            }
        };
        let properties = property_cols
            .iter()
            .zip(&fields)
            .map(|(&c, f)| parse_cell(&row[c], f.field_type, &mut strings))
            .collect();
        budget.keep(
            &mut features,
            Feature {
                id,
                geometry,
                properties,
            },
            &strings,
        )?;
    }
    Ok(Decoded {
        set: FeatureSet {
            fields,
            features,
            warnings: Vec::new(),
            invalid: invalid_geometries,
            crs: None,
            decoded_bytes: budget.used(),
        },
        // CSV cannot say its CRS; `?crs=` does.
        crs: None,
    })
}

/// The narrowest type of one cell; `None` for an empty cell, which fits any column.
fn cell_type(cell: &str) -> Option<FieldType> {
    let cell = cell.trim();
    if cell.is_empty() {
        None
    } else if cell.parse::<i64>().is_ok() {
        Some(FieldType::Integer)
    } else if cell.parse::<f64>().is_ok_and(f64::is_finite) {
        Some(FieldType::Number)
    } else if cell == "true" || cell == "false" {
        Some(FieldType::Boolean)
    } else {
        Some(FieldType::String)
    }
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
