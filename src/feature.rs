//! The in-memory feature model shared by every reader, the index, tiles and the API.

use std::sync::Arc;

use geo::Geometry;

/// A property value with its type kept, so tiles and GeoJSON carry integers as
/// integers and booleans as booleans rather than everything as strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Shared so that repeated values (country, commodity) are stored once per layer.
    String(Arc<str>),
}

/// A property value as JSON: non-finite numbers, which JSON cannot hold, as `null`.
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => serializer.serialize_f64(*f),
            Value::Float(_) => serializer.serialize_unit(),
            Value::String(s) => serializer.serialize_str(s),
        }
    }
}

impl Value {
    /// The value as a JSON tree (see its `Serialize`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The text a client would write in a query string for this value, used by
    /// equality filters (`?country=Indonesia`, `?is_active=true`, `?year=2020`).
    pub fn matches_text(&self, text: &str) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => text.parse::<bool>().is_ok_and(|t| t == *b),
            Value::Int(i) => text.parse::<i64>().is_ok_and(|t| t == *i),
            Value::Float(f) => text.parse::<f64>().is_ok_and(|t| t == *f),
            Value::String(s) => s.as_ref() == text,
        }
    }

    /// The narrowest column type that holds this value; `None` for null, which fits any.
    pub fn field_type(&self) -> Option<FieldType> {
        match self {
            Value::Null => None,
            Value::Bool(_) => Some(FieldType::Boolean),
            Value::Int(_) => Some(FieldType::Integer),
            Value::Float(_) => Some(FieldType::Number),
            Value::String(_) => Some(FieldType::String),
        }
    }

    /// Brings a value read before its column's type was settled to that type: integers in a
    /// number column become floats, anything in a text column the text it was written as.
    pub fn conform(&mut self, ty: FieldType, strings: &mut StringInterner) {
        let text = match (&*self, ty) {
            (Value::Int(i), FieldType::Number) => {
                *self = Value::Float(*i as f64);
                return;
            }
            (Value::Bool(b), FieldType::String) => b.to_string(),
            (Value::Int(i), FieldType::String) => i.to_string(),
            (Value::Float(f), FieldType::String) => serde_json::Number::from_f64(*f)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            _ => return,
        };
        *self = Value::String(strings.intern(&text));
    }

    /// Plain text for CSV output.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::String(s) => s.to_string(),
        }
    }
}

/// The declared type of a property column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Integer,
    Number,
    Boolean,
}

impl FieldType {
    /// The type in words, for messages: "an integer".
    pub fn described(self) -> &'static str {
        match self {
            FieldType::String => "text",
            FieldType::Integer => "an integer",
            FieldType::Number => "a finite number",
            FieldType::Boolean => "true or false",
        }
    }

    /// TileJSON `vector_layers.fields` uses the MapLibre vocabulary.
    pub fn tilejson_name(self) -> &'static str {
        match self {
            FieldType::String => "String",
            FieldType::Integer | FieldType::Number => "Number",
            FieldType::Boolean => "Boolean",
        }
    }

    /// JSON Schema's name for the type (OpenAPI parameters, queryables).
    pub fn json_schema_type(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
        }
    }

    /// The narrowest type that holds both; used when a GeoJSON column mixes types.
    pub fn widen(self, other: FieldType) -> FieldType {
        use FieldType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Integer, Number) | (Number, Integer) => Number,
            _ => String,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
}

/// One feature: geometry in EPSG:4326 and property values aligned with the layer's fields.
#[derive(Debug, Clone)]
pub struct Feature {
    /// Stable id: 1-based position in the source file, so it survives restarts.
    pub id: u64,
    pub geometry: Geometry<f64>,
    pub properties: Vec<Value>,
}

impl Feature {
    /// Roughly what the feature holds in memory, with its share of the index: the readers
    /// charge it to their [`crate::source::Budget`]. Strings are left out (interned, and
    /// never more than the file's own bytes).
    pub fn approx_bytes(&self) -> u64 {
        use geo::CoordsIter;
        /// An R-tree leaf: a bounding box and a position.
        const INDEX_ENTRY: usize = 40;
        (size_of::<Feature>()
            + INDEX_ENTRY
            + self.properties.len() * size_of::<Value>()
            + self.geometry.coords_count() * size_of::<geo::Coord>()) as u64
    }
}

/// The GeoJSON (RFC 7946) type name of a geometry.
pub fn geometry_name(g: &Geometry) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

/// What a reader hands to the catalog: the schema and the features, already validated.
#[derive(Debug, Clone, Default)]
pub struct FeatureSet {
    pub fields: Vec<Field>,
    pub features: Vec<Feature>,
    /// Things the reader tolerated but the data's owner should hear about.
    pub warnings: Vec<String>,
    /// Features left out because their geometry is unusable.
    pub invalid: Invalid,
    /// The CRS the features were reprojected from, when the file was not in WGS 84.
    pub crs: Option<String>,
    /// The memory the reader charged for these features (geometry, property slots,
    /// distinct text, index entries): what the layer costs once decoded.
    pub decoded_bytes: u64,
}

impl FeatureSet {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// Features left out of a file because their geometry is unusable: the first
/// [`Invalid::KEPT`] by position with their reasons (each cut to [`Invalid::REASON_CHARS`]),
/// and how many there were in all. Bounded, so a file of twenty million bad rows costs no
/// more memory than one of a hundred.
#[derive(Debug, Clone, Default)]
pub struct Invalid {
    first: Vec<(u64, String)>,
    total: usize,
}

impl Invalid {
    /// How many invalid features are kept with their reasons.
    pub const KEPT: usize = 100;
    /// The longest reason kept, in characters: a reader's explanation with what it quotes
    /// of the file (each quote already cut), as a report's reasons are.
    pub const REASON_CHARS: usize = 600;

    /// Records the feature at 1-based `position`, keeping it only if it is among the first
    /// [`Invalid::KEPT`] positions seen so far.
    pub fn push(&mut self, position: u64, reason: &str) {
        self.total += 1;
        if self.first.len() == Self::KEPT
            && self.first.last().is_some_and(|(last, _)| *last < position)
        {
            return;
        }
        let at = self.first.partition_point(|(p, _)| *p < position);
        self.first
            .insert(at, (position, abbreviate(reason, Self::REASON_CHARS)));
        self.first.truncate(Self::KEPT);
    }

    /// The first features by position, with their reasons.
    pub fn first(&self) -> &[(u64, String)] {
        &self.first
    }

    /// How many features were left out in all.
    pub fn total(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// Deduplicates property strings so a million features share a few hundred allocations.
/// It counts the bytes it holds, so a reader can charge a file's text to its memory budget.
#[derive(Default)]
pub struct StringInterner {
    seen: std::collections::HashSet<Arc<str>>,
    held_bytes: u64,
}

impl StringInterner {
    /// What one distinct string costs beyond its text: the `Arc` counts and the set's slot.
    pub const OVERHEAD: u64 = 48;

    pub fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(existing) = self.seen.get(s) {
            return existing.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.held_bytes += s.len() as u64 + Self::OVERHEAD;
        self.seen.insert(shared.clone());
        shared
    }

    /// Whether `s` is held already (interning it again costs nothing).
    pub fn holds(&self, s: &str) -> bool {
        self.seen.contains(s)
    }

    /// The bytes of every distinct string interned so far, with their overhead.
    pub fn held_bytes(&self) -> u64 {
        self.held_bytes
    }
}

/// At most `max` characters of `text`, with an ellipsis when cut: for echoing input in
/// messages without echoing all of it.
pub fn abbreviate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
