//! The official ASEAN mineral production table 2018–2022 (AMCAP-IV, Table 11), served as
//! `GET /api/production` (JSON, or `f=csv`), filterable by country. It is not a map layer:
//! it has no geometry, and the web map joins it to countries by ISO 3166 alpha-3 code.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::server::{AppState, query_params, reject_query};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ProductionRow {
    pub country: String,
    pub iso3: String,
    pub commodity: String,
    pub unit: String,
    pub y2018: Option<f64>,
    pub y2019: Option<f64>,
    pub y2020: Option<f64>,
    pub y2021: Option<f64>,
    pub y2022: Option<f64>,
    pub world_2022: Option<f64>,
    pub world_share_2022_pct: Option<f64>,
    /// The share cell as printed when it is a marker such as `<0.1` rather than a number.
    pub share_note: Option<String>,
}

/// The table as loaded at start-up; empty when the data directory has none.
#[derive(Debug, Default)]
pub struct ProductionTable {
    pub rows: Vec<ProductionRow>,
    pub source: String,
}

impl ProductionTable {
    pub fn load(path: &Path) -> Result<ProductionTable, String> {
        let mut reader =
            csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let rows = reader
            .deserialize()
            .enumerate()
            .map(|(i, row)| row.map_err(|e| format!("{} row {}: {e}", path.display(), i + 2)))
            .collect::<Result<Vec<ProductionRow>, String>>()?;
        Ok(ProductionTable {
            rows,
            source: "AMCAP-IV 2026-2030, Appendix A, Table 11 (source stated there: United States Geological Survey)".into(),
        })
    }
}

pub async fn production(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    reject_query(query.as_deref(), &["iso3", "commodity", "f"])?;
    let params = query_params(query.as_deref());
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let table: Arc<ProductionTable> = state.production.load_full();
    // Filters name values the table has (the API definition lists them): another is a mistake.
    for (name, of_row) in [
        (
            "iso3",
            (|r: &ProductionRow| r.iso3.as_str()) as fn(&ProductionRow) -> &str,
        ),
        ("commodity", |r: &ProductionRow| r.commodity.as_str()),
    ] {
        if let Some(value) = param(name)
            && !table.rows.iter().any(|r| of_row(r) == value)
        {
            let known: std::collections::BTreeSet<&str> = table.rows.iter().map(of_row).collect();
            return Err(ApiError::invalid(
                name,
                format!(
                    "{value:?} is not in the table; known: {}",
                    known.into_iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let rows: Vec<&ProductionRow> = table
        .rows
        .iter()
        .filter(|r| param("iso3").is_none_or(|v| r.iso3 == v))
        .filter(|r| param("commodity").is_none_or(|v| r.commodity == v))
        .collect();
    match param("f") {
        None | Some("json") => Ok(axum::Json(serde_json::json!({
            "source": table.source,
            "numberReturned": rows.len(),
            "rows": rows,
        }))
        .into_response()),
        Some("csv") => {
            let mut out = csv::Writer::from_writer(Vec::new());
            for row in &rows {
                out.serialize(row)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
            }
            let bytes = out
                .into_inner()
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"asean_mineral_production_2018_2022.csv\"",
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        Some(other) => Err(ApiError::invalid(
            "f",
            format!("{other:?} is not one of json, csv"),
        )),
    }
}
