//! The OpenAPI 3.0 definition of every `/api` endpoint, generated from the live catalog so
//! that each collection's property filters are listed with their types.
//!
//! It says exactly what the server accepts, because clients act on it (GDAL pages at
//! `limit`'s `maximum`) and an independent fuzzer holds the server to it
//! (`scripts/schemathesis.sh`): every value the schemas allow is answered, every value they
//! forbid is refused with `400`, every status and method the server can answer is listed.

use serde_json::{Value as Json, json};

use super::query::{CRS84, DATETIME_PATTERN, DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET};
use crate::catalog::Snapshot;
use crate::production::ProductionTable;

fn error(description: &str) -> Json {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Exception" } } } })
}

/// Responses every operation can give besides its own: a refused parameter, a saturated or
/// slow server.
fn with_common(mut responses: Json) -> Json {
    responses["400"] =
        error("A parameter is missing, unknown or invalid; `description` says which");
    responses["503"] = error(
        "The server is saturated (Overloaded), the request took too long (Timeout), or the server is still loading its layers (Starting); retry after Retry-After seconds",
    );
    responses
}

fn json_ok(description: &str, media: &str) -> Json {
    with_common(
        json!({ "200": { "description": description, "content": { media: { "schema": { "type": "object" } } } } }),
    )
}

fn f_param(values: &[&str]) -> Json {
    json!({ "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": values } })
}

fn collection_id() -> Json {
    json!({ "name": "collectionId", "in": "path", "required": true,
            "schema": { "type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$" } })
}

/// The standard `items` parameters, referenced from every collection's items path (GDAL
/// reads the page size from a referenced `limit`).
fn parameters() -> Json {
    json!({
        "limit": { "name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
            "description": format!("Page size, {DEFAULT_LIMIT} when not given. Downloads (f=fgb, f=csv) return every match unless a limit is given."),
            "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT } },
        "offset": { "name": "offset", "in": "query", "required": false,
            "description": "How many matches to skip; the `next` link gives the following page",
            "schema": { "type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0 } },
        "bbox": { "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
            "description": "west,south,east,north in CRS84 (longitudes within ±180, latitudes within ±90, south ≤ north); west > east crosses the antimeridian. Six values give heights, which are ignored.",
            "schema": { "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" },
                "not": { "type": "array", "minItems": 5, "maxItems": 5 } } },
        "bbox-crs": { "name": "bbox-crs", "in": "query", "required": false,
            "schema": { "type": "string", "enum": [CRS84] } },
        "crs": { "name": "crs", "in": "query", "required": false,
            "description": "The CRS of the response's coordinates (OGC API Features Part 2); every collection is served in CRS84",
            "schema": { "type": "string", "enum": [CRS84] } },
        "datetime": { "name": "datetime", "in": "query", "required": false,
            "description": "An RFC 3339 date, date-time or interval (one end may be open: `..`); the layers carry no time yet, so every feature matches. Empty: no filter.",
            "schema": { "type": "string", "pattern": DATETIME_PATTERN } },
        "q": { "name": "q", "in": "query", "required": false,
            "description": "Free-text search: every word starts a word of the feature's text (case, accents and spacing ignored); best matches first. Empty: no filter.",
            "schema": { "type": "string" } },
    })
}

pub fn document(base: &str, snapshot: &Snapshot, production: &ProductionTable) -> Json {
    let mut paths = serde_json::Map::new();
    paths.insert("/".into(), json!({ "get": { "summary": "Landing page", "operationId": "getLandingPage",
        "parameters": [f_param(&["json"])], "responses": json_ok("Links to the API", "application/json") } }));
    paths.insert("/conformance".into(), json!({ "get": { "summary": "Conformance classes", "operationId": "getConformance",
        "parameters": [f_param(&["json"])], "responses": json_ok("Conformance classes", "application/json") } }));
    paths.insert("/collections".into(), json!({ "get": { "summary": "Collections", "operationId": "getCollections",
        "parameters": [f_param(&["json"])], "responses": json_ok("All collections", "application/json") } }));
    paths.insert("/vocabulary".into(), json!({ "get": {
        "summary": "The data protocol's vocabularies: commodities, synonyms, families, colour groups, critical minerals, countries",
        "operationId": "getVocabulary", "parameters": [f_param(&["json"])],
        "responses": json_ok("The vocabularies", "application/json") } }));
    paths.insert("/search".into(), json!({ "get": {
        "summary": "Search every occurrence layer (or the listed collections) by name and text, best match first",
        "operationId": "search",
        "parameters": [
            { "name": "q", "in": "query", "required": true, "schema": { "type": "string" },
              "description": "Words to find; a query with no letter or digit finds nothing" },
            { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 10 } },
            { "name": "collections", "in": "query", "required": false, "schema": { "type": "string" },
              "description": "Comma-separated collection ids; all occurrence layers when left out" } ],
        "responses": with_common(json!({
            "200": { "description": "Matches", "content": { "application/geo+json": { "schema": { "$ref": "#/components/schemas/FeatureCollection" } } } },
            "404": error("A listed collection does not exist") })) } }));

    for layer in &snapshot.layers {
        let id = &layer.meta.id;
        let mut params = vec![
            json!({ "$ref": "#/components/parameters/bbox" }),
            json!({ "$ref": "#/components/parameters/bbox-crs" }),
            json!({ "$ref": "#/components/parameters/crs" }),
            json!({ "$ref": "#/components/parameters/limit" }),
            json!({ "$ref": "#/components/parameters/offset" }),
            json!({ "$ref": "#/components/parameters/datetime" }),
            json!({ "$ref": "#/components/parameters/q" }),
            f_param(&["json", "geojson", "fgb", "flatgeobuf", "csv"]),
        ];
        for field in &layer.fields {
            let list = layer.meta.lists.contains(&field.name);
            params.push(
                json!({ "name": field.name, "in": "query", "required": false,
                "description": if list {
                    format!("Features whose {} list holds this value (a whole element)", field.name)
                } else {
                    format!("Features whose {} equals this value", field.name)
                },
                "schema": { "type": field.field_type.json_schema_type() } }),
            );
        }
        paths.insert(format!("/collections/{id}/items"), json!({ "get": {
            "summary": format!("{} (features)", layer.meta.title), "operationId": format!("items-{id}"),
            "parameters": params,
            "responses": with_common(json!({
                "200": { "description": "Features", "content": {
                    "application/geo+json": { "schema": { "$ref": "#/components/schemas/FeatureCollection" } },
                    "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } },
                    "text/csv": { "schema": { "type": "string" } } } },
                "206": { "description": "A byte range of the f=fgb file (Range header; HEAD gives its Content-Length)",
                    "content": { "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } } } },
                "404": error("No such collection"),
                "416": error("Range outside the file") })) } }));
        paths.insert(format!("/collections/{id}/queryables"), json!({ "get": {
            "summary": format!("{} (filterable properties, JSON Schema)", layer.meta.title), "operationId": format!("queryables-{id}"),
            "parameters": [f_param(&["json"])],
            "responses": with_common(json!({
                "200": { "description": "Properties usable as filters; text properties with few values list them in `enum`",
                    "content": { "application/schema+json": { "schema": { "type": "object" } } } },
                "404": error("No such collection") })) } }));
        paths.insert(format!("/collections/{id}/items/{{featureId}}"), json!({ "get": {
            "summary": format!("{} (one feature)", layer.meta.title), "operationId": format!("item-{id}"),
            "parameters": [
                { "name": "featureId", "in": "path", "required": true, "schema": { "type": "integer" } },
                { "$ref": "#/components/parameters/crs" },
                f_param(&["json", "geojson"]) ],
            "responses": with_common(json!({
                "200": { "description": "The feature", "content": { "application/geo+json": { "schema": { "type": "object" } } } },
                "404": error("No such feature") })) } }));
    }

    let kinds = crate::protocol::Kind::ALL.map(|k| k.name());
    paths.insert("/collections/{collectionId}".into(), json!({
        "get": {
            "summary": "A collection's metadata: extent, properties, licence, links to its items and tiles",
            "operationId": "getCollection",
            "parameters": [collection_id(), f_param(&["json"])],
            "responses": with_common(json!({
                "200": { "description": "The collection", "content": { "application/json": { "schema": { "type": "object" } } } },
                "404": error("No such collection") })) },
        "put": {
            "summary": "Publish a layer (agency upload): creates it or stores a new version",
            "operationId": "putCollection",
            "security": [{ "agencyToken": [] }],
            "parameters": [
                collection_id(),
                { "name": "kind", "in": "query", "schema": { "type": "string", "enum": kinds },
                  "description": "The data protocol the file is checked against (docs/data-protocol.md); inferred when left out" },
                { "name": "title", "in": "query", "schema": { "type": "string" } },
                { "name": "description", "in": "query", "schema": { "type": "string" } },
                { "name": "license", "in": "query", "schema": { "type": "string" } },
                { "name": "attribution", "in": "query", "schema": { "type": "string" } },
                { "name": "keywords", "in": "query", "schema": { "type": "string" }, "description": "comma-separated" },
                { "name": "classify", "in": "query", "schema": { "type": "string" }, "description": "the classifying property" },
                { "name": "crs", "in": "query", "schema": { "type": "string" }, "description": "EPSG:<code>, for files that name no CRS" },
                { "name": "layer", "in": "query", "schema": { "type": "string" }, "description": "the GeoPackage table, or the Shapefile in a zip holding several" },
                { "name": "encoding", "in": "query", "schema": { "type": "string" }, "description": "the .dbf text encoding when the Shapefile names none" },
                { "name": "fields", "in": "query", "schema": { "type": "string" }, "description": "property:COLUMN pairs, e.g. name:NAMA_LOKASI" },
                { "name": "dry_run", "in": "query", "schema": { "type": "boolean" }, "description": "check and report, publish nothing" } ],
            "requestBody": { "required": true, "content": {
                "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } },
                "application/geo+json": { "schema": { "type": "object" } },
                "text/csv": { "schema": { "type": "string" } },
                "application/zip": { "schema": { "type": "string", "format": "binary" } },
                "application/geopackage+sqlite3": { "schema": { "type": "string", "format": "binary" } } } },
            "responses": with_common(json!({
                "200": { "description": "A new version was published (or, with dry_run, the report)" },
                "201": { "description": "The layer was created" },
                "401": error("No or unknown token"),
                "403": error("Layer outside the token's scope"),
                "408": error("The body did not arrive within the upload's deadline"),
                "409": error("Another write to this layer is in progress"),
                "413": error("Body larger than the upload limit (PayloadTooLarge), or features that would decode to more memory than the file's budget (LayerTooLarge)"),
                "415": error("Unsupported content type"),
                "422": error("The file breaks the data protocol (`report` lists the problems), or reading, checking and indexing it passed the upload's deadline (DeadlineExceeded)"),
                "429": error("The agency's quota of published layers is used (QuotaExceeded): what is used and what is allowed"),
                "507": error("Disk full, or the agency's quota of stored files or decoded memory passed (QuotaExceeded); nothing changed") })) },
        "delete": {
            "summary": "Retire a layer (its stored versions are kept)",
            "operationId": "deleteCollection",
            "security": [{ "agencyToken": [] }],
            "parameters": [collection_id()],
            "responses": with_common(json!({ "200": { "description": "Retired" }, "401": error("No or unknown token"),
                "403": error("Layer outside the token's scope"), "404": error("No such layer"),
                "409": error("Another write to this layer is in progress") })) } }));
    paths.insert("/collections/{collectionId}/versions".into(), json!({ "get": {
        "summary": "Stored versions of an uploaded layer (who, when, counts, checksum)",
        "operationId": "getVersions",
        "parameters": [collection_id()],
        "responses": with_common(json!({ "200": { "description": "Versions, oldest first" }, "404": error("No such layer") })) } }));
    paths.insert("/collections/{collectionId}/versions/{version}/restore".into(), json!({ "post": {
        "summary": "Publish a kept earlier version again",
        "operationId": "restoreVersion",
        "security": [{ "agencyToken": [] }],
        "parameters": [
            collection_id(),
            { "name": "version", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } } ],
        "responses": with_common(json!({ "200": { "description": "Restored" }, "401": error("No or unknown token"),
            "403": error("Layer outside the token's scope"), "404": error("No such kept version"),
            "409": error("Another write to this layer is in progress") })) } }));
    let countries: std::collections::BTreeSet<&str> =
        production.rows.iter().map(|r| r.iso3.as_str()).collect();
    let commodities: std::collections::BTreeSet<&str> = production
        .rows
        .iter()
        .map(|r| r.commodity.as_str())
        .collect();
    paths.insert("/production".into(), json!({ "get": {
        "summary": "Mineral production by ASEAN Member State 2018-2022 and 2022 world share (AMCAP-IV Table 11)",
        "operationId": "getProduction",
        "parameters": [
            { "name": "iso3", "in": "query", "required": false, "schema": { "type": "string", "enum": countries } },
            { "name": "commodity", "in": "query", "required": false, "schema": { "type": "string", "enum": commodities } },
            f_param(&["json", "csv"]) ],
        "responses": with_common(json!({ "200": { "description": "Rows of the table",
            "content": { "application/json": { "schema": { "type": "object" } }, "text/csv": { "schema": { "type": "string" } } } } })) } }));

    json!({
        "openapi": "3.0.3",
        "info": { "title": "AMIS WebGIS", "version": env!("CARGO_PKG_VERSION"),
                  "description": "OGC API - Features of the ASEAN Minerals Information System. Vector tiles and TileJSON are served beside it at /tiles.",
                  "license": { "name": "Apache-2.0" } },
        "servers": [{ "url": format!("{base}/api") }],
        "paths": paths,
        "components": {
            "parameters": parameters(),
            "securitySchemes": { "agencyToken": { "type": "http", "scheme": "bearer",
                "description": "Agency token from `amis-webgis token create`" } },
            "schemas": {
            "Exception": { "type": "object", "required": ["code"],
                "properties": { "code": { "type": "string" }, "description": { "type": "string" } } },
            "FeatureCollection": { "type": "object", "required": ["type", "features"],
                "properties": { "type": { "type": "string", "enum": ["FeatureCollection"] },
                    "features": { "type": "array", "items": { "type": "object" } },
                    "numberMatched": { "type": "integer" }, "numberReturned": { "type": "integer" },
                    "links": { "type": "array", "items": { "type": "object" } } } } } },
    })
}
