//! The OpenAPI 3.0 definition of every endpoint, generated from the live catalog so that
//! each collection's property filters are listed with their types.

use serde_json::{Value as Json, json};

use super::query::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::catalog::Snapshot;

fn error_response(description: &str) -> Json {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Exception" } } } })
}

fn json_ok(description: &str, media: &str) -> Json {
    json!({ "200": { "description": description, "content": { media: { "schema": { "type": "object" } } } },
            "400": error_response("Invalid request"), "404": error_response("Not found") })
}

fn f_param(values: &[&str]) -> Json {
    json!({ "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": values } })
}

pub fn document(base: &str, snapshot: &Snapshot) -> Json {
    let mut paths = serde_json::Map::new();
    paths.insert("/".into(), json!({ "get": { "summary": "Landing page", "operationId": "getLandingPage",
        "parameters": [f_param(&["json"])], "responses": json_ok("Links to the API", "application/json") } }));
    paths.insert("/conformance".into(), json!({ "get": { "summary": "Conformance classes", "operationId": "getConformance",
        "parameters": [f_param(&["json"])], "responses": json_ok("Conformance classes", "application/json") } }));
    paths.insert("/collections".into(), json!({ "get": { "summary": "Collections", "operationId": "getCollections",
        "parameters": [f_param(&["json"])], "responses": json_ok("All collections", "application/json") } }));

    for layer in &snapshot.layers {
        let id = &layer.meta.id;
        let mut params = vec![
            json!({ "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "west,south,east,north in CRS84; west > east crosses the antimeridian",
                    "schema": { "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } } }),
            json!({ "name": "bbox-crs", "in": "query", "required": false,
                    "schema": { "type": "string", "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"] } }),
            json!({ "name": "limit", "in": "query", "required": false,
                    "description": format!("Page size (default {DEFAULT_LIMIT}); larger values are clamped to {MAX_LIMIT}. Downloads (f=fgb, f=csv) return every match unless a limit is given."),
                    "schema": { "type": "integer", "minimum": 1, "default": DEFAULT_LIMIT } }),
            json!({ "name": "offset", "in": "query", "required": false,
                    "schema": { "type": "integer", "minimum": 0, "default": 0 } }),
            json!({ "name": "datetime", "in": "query", "required": false,
                    "description": "RFC 3339 instant or interval; layers carry no time yet, so all features match",
                    "schema": { "type": "string" } }),
            json!({ "name": "q", "in": "query", "required": false,
                    "description": "Free-text search: features with a text property containing this (case-insensitive)",
                    "schema": { "type": "string" } }),
            f_param(&["json", "geojson", "fgb", "csv"]),
        ];
        for field in &layer.fields {
            params.push(
                json!({ "name": field.name, "in": "query", "required": false,
                "description": format!("Features whose {} equals this value", field.name),
                "schema": { "type": field.field_type.json_schema_type() } }),
            );
        }
        paths.insert(format!("/collections/{id}"), json!({ "get": {
            "summary": format!("{} (metadata)", layer.meta.title), "operationId": format!("describe-{id}"),
            "parameters": [f_param(&["json"])], "responses": json_ok("The collection", "application/json") } }));
        paths.insert(format!("/collections/{id}/items"), json!({ "get": {
            "summary": format!("{} (features)", layer.meta.title), "operationId": format!("items-{id}"),
            "parameters": params,
            "responses": {
                "200": { "description": "Features", "content": {
                    "application/geo+json": { "schema": { "$ref": "#/components/schemas/FeatureCollection" } },
                    "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } },
                    "text/csv": { "schema": { "type": "string" } } } },
                "206": { "description": "A byte range of the f=fgb file (Range header; HEAD gives its Content-Length)",
                    "content": { "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } } } },
                "400": error_response("Invalid parameter"), "404": error_response("No such collection"),
                "416": error_response("Range outside the file") } } }));
        paths.insert(format!("/collections/{id}/queryables"), json!({ "get": {
            "summary": format!("{} (filterable properties, JSON Schema)", layer.meta.title), "operationId": format!("queryables-{id}"),
            "parameters": [f_param(&["json"])],
            "responses": { "200": { "description": "Properties usable as filters; text properties with few values list them in `enum`",
                "content": { "application/schema+json": { "schema": { "type": "object" } } } },
                "404": error_response("No such collection") } } }));
        paths.insert(format!("/collections/{id}/items/{{featureId}}"), json!({ "get": {
            "summary": format!("{} (one feature)", layer.meta.title), "operationId": format!("item-{id}"),
            "parameters": [
                { "name": "featureId", "in": "path", "required": true, "schema": { "type": "integer" } },
                f_param(&["json", "geojson"]) ],
            "responses": {
                "200": { "description": "The feature", "content": { "application/geo+json": { "schema": { "type": "object" } } } },
                "404": error_response("No such feature") } } }));
    }

    paths.insert("/collections/{collectionId}".into(), json!({
        "put": {
            "summary": "Publish a layer (agency upload): creates it or stores a new version",
            "operationId": "putCollection",
            "security": [{ "agencyToken": [] }],
            "parameters": [
                { "name": "collectionId", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$" } },
                { "name": "kind", "in": "query", "schema": { "type": "string", "enum": ["occurrences", "geology", "other"], "default": "other" },
                  "description": "The data protocol the file is checked against (docs/data-protocol.md)" },
                { "name": "title", "in": "query", "schema": { "type": "string" } },
                { "name": "description", "in": "query", "schema": { "type": "string" } },
                { "name": "license", "in": "query", "schema": { "type": "string" } },
                { "name": "attribution", "in": "query", "schema": { "type": "string" } },
                { "name": "keywords", "in": "query", "schema": { "type": "string" }, "description": "comma-separated" },
                { "name": "classify", "in": "query", "schema": { "type": "string" }, "description": "the classifying property" } ],
            "requestBody": { "required": true, "content": {
                "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } },
                "application/geo+json": { "schema": { "type": "object" } },
                "text/csv": { "schema": { "type": "string" } } } },
            "responses": {
                "200": { "description": "A new version was published" },
                "201": { "description": "The layer was created" },
                "400": error_response("Unreadable file or invalid parameter"),
                "401": error_response("No or unknown token"),
                "403": error_response("Layer outside the token's scope"),
                "409": error_response("Another write to this layer is in progress"),
                "413": error_response("Body larger than the upload limit (PayloadTooLarge), or features that would decode to more memory than the file's budget (LayerTooLarge)"),
                "415": error_response("Unsupported content type"),
                "422": error_response("The file breaks the data protocol; `report` lists the problems"),
                "507": error_response("Disk full; nothing changed") } },
        "delete": {
            "summary": "Retire a layer (its stored versions are kept)",
            "operationId": "deleteCollection",
            "security": [{ "agencyToken": [] }],
            "parameters": [{ "name": "collectionId", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": { "200": { "description": "Retired" }, "401": error_response("No or unknown token"),
                "403": error_response("Layer outside the token's scope"), "404": error_response("No such layer") } } }));
    paths.insert("/collections/{collectionId}/versions".into(), json!({ "get": {
        "summary": "Stored versions of an uploaded layer (who, when, counts, checksum)",
        "operationId": "getVersions",
        "parameters": [{ "name": "collectionId", "in": "path", "required": true, "schema": { "type": "string" } }],
        "responses": { "200": { "description": "Versions, oldest first" }, "404": error_response("No such layer") } } }));

    paths.insert("/collections/{collectionId}/versions/{version}/restore".into(), json!({ "post": {
        "summary": "Publish a kept earlier version again",
        "operationId": "restoreVersion",
        "security": [{ "agencyToken": [] }],
        "parameters": [
            { "name": "collectionId", "in": "path", "required": true, "schema": { "type": "string" } },
            { "name": "version", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } } ],
        "responses": { "200": { "description": "Restored" }, "401": error_response("No or unknown token"),
            "403": error_response("Layer outside the token's scope"), "404": error_response("No such kept version"),
            "409": error_response("Another write to this layer is in progress") } } }));
    paths.insert("/production".into(), json!({ "get": {
        "summary": "Mineral production by ASEAN Member State 2018-2022 and 2022 world share (AMCAP-IV Table 11)",
        "operationId": "getProduction",
        "parameters": [
            { "name": "iso3", "in": "query", "required": false, "schema": { "type": "string", "pattern": "^[A-Z]{3}$" } },
            { "name": "commodity", "in": "query", "required": false, "schema": { "type": "string" } },
            f_param(&["json", "csv"]) ],
        "responses": { "200": { "description": "Rows of the table",
            "content": { "application/json": { "schema": { "type": "object" } }, "text/csv": { "schema": { "type": "string" } } } },
            "400": error_response("Invalid parameter") } } }));

    json!({
        "openapi": "3.0.3",
        "info": { "title": "AMIS WebGIS", "version": env!("CARGO_PKG_VERSION"),
                  "description": "OGC API - Features of the ASEAN Minerals Information System. Vector tiles and TileJSON are served beside it at /tiles.",
                  "license": { "name": "Apache-2.0" } },
        "servers": [{ "url": format!("{base}/api") }],
        "paths": paths,
        "components": {
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
