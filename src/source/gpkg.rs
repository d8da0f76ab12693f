//! OGC GeoPackage: one feature table of an SQLite file, read in feature-id order.
//!
//! The file is opened read-only and immutable (SQLite writes nothing, not even a journal),
//! its header is checked before SQLite sees it, and a progress handler stops any statement
//! that runs too long, so a hostile file (a view that recurses, a corrupt b-tree) costs a
//! bounded amount of time and gets a clear refusal.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{Budget, Collected, DeclaredCrs, Decoded, ReadOptions, SourceError, wkb};
use crate::feature::{Feature, Field, FieldType, StringInterner, Value};

/// The longest any statement on an uploaded file may run.
const STATEMENT_TIME_LIMIT: Duration = Duration::from_secs(120);

fn bad(message: impl Into<String>) -> SourceError {
    SourceError::GeoPackage(message.into())
}

fn sql(e: rusqlite::Error) -> SourceError {
    match e {
        rusqlite::Error::SqliteFailure(code, _)
            if code.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            bad("reading took longer than the time limit (a table defined by a runaway view?)")
        }
        other => bad(other.to_string()),
    }
}

/// `"name"` with embedded quotes doubled, for identifiers that come from the file.
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

pub fn read(
    path: &Path,
    options: &ReadOptions,
    budget: &mut Budget,
) -> Result<Decoded, SourceError> {
    let mut magic = [0u8; 16];
    let read = std::io::Read::read(&mut std::fs::File::open(path)?, &mut magic)?;
    if read < 16 || &magic != b"SQLite format 3\0" {
        return Err(bad("the file is not an SQLite database"));
    }
    let uri = format!(
        "file:{}?immutable=1",
        path.to_string_lossy()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23")
    );
    let mut conn = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql)?;
    let started = Instant::now();
    conn.progress_handler(
        10_000,
        Some(move || started.elapsed() > STATEMENT_TIME_LIMIT),
    )
    .map_err(sql)?;
    // Views and triggers in the file must not call functions with side effects.
    conn.pragma_update(None, "trusted_schema", "OFF")
        .map_err(sql)?;

    let tables: Vec<String> = conn
        .prepare("SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY rowid")
        .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect())
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(..) if e.to_string().contains("no such table") => {
                bad("the database has no gpkg_contents table: it is SQLite, but not a GeoPackage")
            }
            other => sql(other),
        })?;
    let mut warnings = Vec::new();
    let table = match &options.layer {
        Some(layer) if tables.contains(layer) => layer.clone(),
        Some(layer) => {
            return Err(SourceError::Options(format!(
                "the GeoPackage has no feature table {layer:?}; it has {}",
                list(&tables)
            )));
        }
        None => match tables.as_slice() {
            [] => return Err(bad("the GeoPackage has no feature table")),
            [only] => only.clone(),
            [first, ..] => {
                warnings.push(format!(
                    "the GeoPackage has {} feature tables ({}); read {first:?}; name another with ?layer=",
                    tables.len(),
                    list(&tables)
                ));
                first.clone()
            }
        },
    };
    let (geometry_column, srs_id): (String, i64) = conn
        .query_row(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1",
            [&table],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|_| {
            bad(format!(
                "table {table:?} has no entry in gpkg_geometry_columns"
            ))
        })?;
    let crs = declared_crs(&conn, srs_id)?;

    // Columns in table order; the integer primary key is the feature id, not a property.
    let mut columns: Vec<(String, FieldType)> = Vec::new();
    let mut id_column = None;
    {
        let mut info = conn
            .prepare(&format!("PRAGMA table_info({})", quote(&table)))
            .map_err(sql)?;
        let mut rows = info.query([]).map_err(sql)?;
        while let Some(row) = rows.next().map_err(sql)? {
            let name: String = row.get(1).map_err(sql)?;
            let declared: String = row
                .get::<_, Option<String>>(2)
                .map_err(sql)?
                .unwrap_or_default();
            let pk: i64 = row.get(5).map_err(sql)?;
            if name == geometry_column {
                continue;
            }
            if pk > 0 && declared.eq_ignore_ascii_case("INTEGER") {
                id_column = Some(name);
                continue;
            }
            columns.push((name, declared_type(&declared)));
        }
    }
    let mut select = vec![quote(&geometry_column)];
    select.extend(columns.iter().map(|(name, _)| quote(name)));
    let order = id_column.as_deref().map_or("rowid".to_string(), quote);
    let query = format!(
        "SELECT {} FROM {} ORDER BY {order}",
        select.join(", "),
        quote(&table)
    );
    let mut statement = conn.prepare(&query).map_err(sql)?;
    let mut rows = statement.query([]).map_err(sql)?;

    let mut fields: Vec<Field> = columns
        .iter()
        .map(|(name, ty)| Field {
            name: name.clone(),
            field_type: *ty,
        })
        .collect();
    let mut strings = StringInterner::default();
    let mut collected = Collected::new(budget);
    let mut position = 0u64;
    while let Some(row) = rows.next().map_err(sql)? {
        position += 1;
        let geometry = match row.get_ref(0).map_err(sql)? {
            ValueRef::Blob(blob) => {
                wkb::gpkg_wkb(blob).and_then(|w| w.map(wkb::decode).transpose())
            }
            ValueRef::Null => Ok(None),
            _ => Err("the geometry column holds something other than a geometry blob".into()),
        }
        .map(Option::flatten);
        let Some(geometry) = collected.geometry(position, geometry) else {
            continue;
        };
        let mut properties = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter_mut().enumerate() {
            let value = match row.get_ref(i + 1).map_err(sql)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) if field.field_type == FieldType::Boolean => {
                    Value::Bool(v != 0)
                }
                ValueRef::Integer(v) => Value::Int(v),
                ValueRef::Real(v) => Value::Float(v),
                ValueRef::Text(t) => Value::String(strings.intern(&String::from_utf8_lossy(t))),
                ValueRef::Blob(b) => Value::String(strings.intern(&super::binary_text(b))),
            };
            // SQLite does not enforce declared types: a column holding other values widens.
            if let Some(actual) = value.field_type() {
                field.field_type = field.field_type.widen(actual);
            }
            properties.push(value);
        }
        collected.keep(Feature {
            id: position,
            geometry,
            properties,
        })?;
    }
    drop(rows);
    // Values read before a column widened take its final type.
    for feature in &mut collected.features {
        for (value, field) in feature.properties.iter_mut().zip(&fields) {
            value.conform(field.field_type, &mut strings);
        }
    }
    Ok(collected.finish(fields, warnings, crs))
}

fn list(tables: &[String]) -> String {
    tables
        .iter()
        .map(|t| format!("{t:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The CRS of an `srs_id`: its EPSG code, its WKT, or none for GeoPackage's two undefined
/// systems (0: geographic, -1: Cartesian), which are taken as longitude/latitude.
fn declared_crs(conn: &Connection, srs_id: i64) -> Result<Option<DeclaredCrs>, SourceError> {
    if srs_id == 0 || srs_id == -1 || srs_id == 4326 {
        return Ok(None);
    }
    let row: Option<(String, i64, Option<String>)> = conn
        .query_row(
            "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(sql(other)),
        })?;
    match row {
        None => Err(bad(format!(
            "the geometry column names srs_id {srs_id}, which gpkg_spatial_ref_sys lacks"
        ))),
        Some((org, code, _)) if org.eq_ignore_ascii_case("EPSG") && code > 0 => Ok(Some(
            DeclaredCrs::Epsg(u32::try_from(code).unwrap_or(u32::MAX)),
        )),
        Some((_, _, Some(definition)))
            if !definition.trim().is_empty() && definition != "undefined" =>
        {
            Ok(Some(DeclaredCrs::Wkt(definition)))
        }
        Some((org, code, _)) => Ok(Some(DeclaredCrs::Name(format!("{org}:{code}")))),
    }
}

/// The property type of an SQLite declared type, as GeoPackage uses them.
fn declared_type(declared: &str) -> FieldType {
    let upper = declared.to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or_default().trim();
    match base {
        "BOOLEAN" => FieldType::Boolean,
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "INTEGER" => FieldType::Integer,
        "FLOAT" | "DOUBLE" | "REAL" => FieldType::Number,
        _ => FieldType::String,
    }
}
