//! OGC GeoPackage: one feature table of an SQLite file, read in feature-id order.
//!
//! A GeoPackage is a program as much as a file: its feature table may be a view that
//! computes whatever it likes. So the file is opened read-only and immutable (SQLite writes
//! nothing, not even a journal), its header is checked before SQLite sees it, and SQLite
//! runs it under limits: no string or blob longer than the file's memory budget allows
//! (`sqlite3_limit`), short SQL, shallow expressions, nothing attached, a process-wide heap
//! limit ([`SQLITE_HEAP_LIMIT`]), and a progress handler that stops any statement at the
//! upload's deadline. Every value read is charged to the budget before it is copied.

use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{Budget, Collected, Deadline, DeclaredCrs, Decoded, ReadOptions, SourceError, wkb};
use crate::feature::{Feature, Field, FieldType, StringInterner, Value, abbreviate};

/// The longest any statement may run when the caller set no deadline (files in `data/`).
const STATEMENT_TIME_LIMIT: Duration = Duration::from_secs(120);

/// The most memory SQLite may take in this process, whatever it is asked to compute. SQLite
/// only reads GeoPackages here (uploads and `data/`), a page cache and one row at a time:
/// a few MiB for real files. Past the limit a statement fails with "out of memory".
pub const SQLITE_HEAP_LIMIT: i64 = 256 << 20;

/// The longest string or blob SQLite may make: a real geometry blob is well below this
/// (the 10 m world's countries: 6 MiB all together; a polygon of four million vertices fits), and a view that computes longer
/// values fails at once instead of filling memory.
const MAX_VALUE_BYTES: u64 = 64 << 20;

/// Feature tables listed at most: a GeoPackage has a handful; `gpkg_contents` as a view
/// could list millions.
const MAX_TABLES: usize = 1000;

fn bad(message: impl Into<String>) -> SourceError {
    SourceError::GeoPackage(message.into())
}

/// An SQLite error before any statement on the file runs (opening, setting limits).
fn sql(e: rusqlite::Error) -> SourceError {
    bad(e.to_string())
}

/// An SQLite error while reading the file, in the words of the limit it ran into.
fn limited(e: rusqlite::Error, deadline: &Deadline, max_value: u64) -> SourceError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::OperationInterrupted => {
            SourceError::DeadlineExceeded(deadline.allowed_secs())
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::TooBig => bad(format!(
            "a value is longer than the {} MiB this file may hold in one string or blob",
            max_value >> 20
        )),
        rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::OutOfMemory => bad(format!(
            "reading the file needs more than the {} MiB SQLite may use",
            SQLITE_HEAP_LIMIT >> 20
        )),
        _ => sql(e),
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
    limit_sqlite_heap();
    let mut conn = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql)?;
    let max_value = budget.limit().min(MAX_VALUE_BYTES);
    limit_connection(&conn, max_value)?;
    let deadline = budget
        .deadline()
        .unwrap_or_else(|| Deadline::after(STATEMENT_TIME_LIMIT));
    conn.progress_handler(10_000, Some(move || deadline.passed()))
        .map_err(sql)?;
    // Views and triggers in the file must not call functions with side effects.
    conn.pragma_update(None, "trusted_schema", "OFF")
        .map_err(sql)?;
    let sql = |e| limited(e, &deadline, max_value);

    let mut tables: Vec<String> = Vec::new();
    {
        // In the order tables were added; a view (which has no rowid) in its own order.
        let order = if is_view(&conn, "gpkg_contents") {
            ""
        } else {
            " ORDER BY rowid"
        };
        let mut statement = conn
            .prepare(&format!(
                "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'{order} LIMIT {}",
                MAX_TABLES + 1
            ))
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(..) if e.to_string().contains("no such table") => {
                    bad("the database has no gpkg_contents table: it is SQLite, but not a GeoPackage")
                }
                other => sql(other),
            })?;
        let mut rows = statement.query([]).map_err(sql)?;
        let mut listed = 0u64;
        while let Some(row) = rows.next().map_err(sql)? {
            let name = match row.get_ref(0).map_err(sql)? {
                ValueRef::Text(t) => t,
                _ => return Err(bad("gpkg_contents lists a table whose name is not text")),
            };
            listed += name.len() as u64;
            budget.reserve(listed)?;
            tables.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    if tables.len() > MAX_TABLES {
        return Err(bad(format!(
            "gpkg_contents lists more than {MAX_TABLES} feature tables"
        )));
    }
    let mut warnings = Vec::new();
    let table = match &options.layer {
        Some(layer) if tables.contains(layer) => layer.clone(),
        Some(layer) => {
            return Err(SourceError::Options(format!(
                "the GeoPackage has no feature table {:?}; it has {}",
                abbreviate(layer, 60),
                super::listed(tables.iter().map(String::as_str))
            )));
        }
        None => match tables.as_slice() {
            [] => return Err(bad("the GeoPackage has no feature table")),
            [only] => only.clone(),
            [first, ..] => {
                warnings.push(format!(
                    "the GeoPackage has {} feature tables ({}); read {first:?}; name another with ?layer=",
                    tables.len(),
                    super::listed(tables.iter().map(String::as_str))
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
        let mut names_bytes = 0u64;
        while let Some(row) = rows.next().map_err(sql)? {
            let name: String = row.get(1).map_err(sql)?;
            names_bytes += name.len() as u64;
            budget.reserve(names_bytes)?;
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
    // A table is read in its integer key's order (GDAL's feature ids). A view has no key
    // and, in SQLite, no dependable rowid: it is read by its `fid` column when it has one,
    // else in the order it yields rows.
    let order = match (&id_column, is_view(&conn, &table)) {
        (Some(id), _) => format!(" ORDER BY {}", quote(id)),
        (None, false) => " ORDER BY rowid".to_string(),
        (None, true) => columns
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("fid"))
            .map_or(String::new(), |(name, _)| {
                format!(" ORDER BY {}", quote(name))
            }),
    };
    let query = format!("SELECT {} FROM {}{order}", select.join(", "), quote(&table));
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
    let mut other_srs = 0u64;
    while let Some(row) = rows.next().map_err(sql)? {
        position += 1;
        let geometry = match row.get_ref(0).map_err(sql)? {
            ValueRef::Blob(blob) => match wkb::gpkg_wkb(blob) {
                Ok(Some(wkb_bytes)) => {
                    if wkb::gpkg_srs_id(blob).is_some_and(|own| own != srs_id) {
                        other_srs += 1;
                    }
                    collected.reserve(wkb::parsed_bytes_bound(wkb_bytes.len()))?;
                    collected.assemble(position, wkb::parse(wkb_bytes))?
                }
                Ok(None) => collected.geometry(position, Ok(None)),
                Err(reason) => collected.geometry(position, Err(reason)),
            },
            ValueRef::Null => collected.geometry(position, Ok(None)),
            _ => collected.geometry(
                position,
                Err("the geometry column holds something other than a geometry blob".into()),
            ),
        };
        let Some(geometry) = geometry else {
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
                // Text is charged before it is copied (twice: decoded, then interned).
                ValueRef::Text(t) => {
                    collected.reserve(2 * t.len() as u64)?;
                    Value::String(strings.intern(&String::from_utf8_lossy(t)))
                }
                ValueRef::Blob(b) => {
                    collected.reserve(4 * b.len() as u64)?;
                    Value::String(strings.intern(&super::binary_text(b)))
                }
            };
            // SQLite does not enforce declared types: a column holding other values widens.
            if let Some(actual) = value.field_type() {
                field.field_type = field.field_type.widen(actual);
            }
            properties.push(value);
        }
        collected.keep(
            Feature {
                id: position,
                geometry,
                properties,
            },
            &strings,
        )?;
    }
    drop(rows);
    if other_srs > 0 {
        warnings.push(format!(
            "{other_srs} geometry blob(s) name another srs_id than their column's ({srs_id}); they were read in the column's CRS, as GDAL reads them"
        ));
    }
    // Values read before a column widened take its final type.
    for feature in &mut collected.features {
        for (value, field) in feature.properties.iter_mut().zip(&fields) {
            value.conform(field.field_type, &mut strings);
        }
    }
    Ok(collected.finish(fields, warnings, crs))
}

/// Whether `name` is a view (which has no dependable rowid in SQLite).
fn is_view(conn: &Connection, name: &str) -> bool {
    conn.query_row(
        "SELECT type = 'view' FROM sqlite_master WHERE name = ?1",
        [name],
        |r| r.get(0),
    )
    .unwrap_or(false)
}

/// Sets SQLite's process-wide heap limit, once.
fn limit_sqlite_heap() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_hard_heap_limit64 takes and returns plain integers; SQLite
        // documents it as safe to call at any time from any thread.
        let previous = unsafe { rusqlite::ffi::sqlite3_hard_heap_limit64(SQLITE_HEAP_LIMIT) };
        tracing::debug!("SQLite heap limit {SQLITE_HEAP_LIMIT} bytes (was {previous})");
    });
}

/// Limits what one statement on an untrusted file may make or parse (`sqlite3_limit`).
fn limit_connection(conn: &Connection, max_value: u64) -> Result<(), SourceError> {
    let limits = [
        (
            Limit::SQLITE_LIMIT_LENGTH,
            i32::try_from(max_value).unwrap_or(i32::MAX),
        ),
        // Our own statements are short; views and triggers in the schema longer than this
        // are no GeoPackage's.
        (Limit::SQLITE_LIMIT_SQL_LENGTH, 1 << 20),
        (Limit::SQLITE_LIMIT_COLUMN, 2000),
        (Limit::SQLITE_LIMIT_EXPR_DEPTH, 100),
        (Limit::SQLITE_LIMIT_COMPOUND_SELECT, 50),
        (Limit::SQLITE_LIMIT_FUNCTION_ARG, 16),
        (Limit::SQLITE_LIMIT_ATTACHED, 0),
        (Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000),
        (Limit::SQLITE_LIMIT_VARIABLE_NUMBER, 100),
        (Limit::SQLITE_LIMIT_TRIGGER_DEPTH, 10),
        (Limit::SQLITE_LIMIT_WORKER_THREADS, 0),
    ];
    for (limit, value) in limits {
        conn.set_limit(limit, value).map_err(sql)?;
    }
    Ok(())
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
