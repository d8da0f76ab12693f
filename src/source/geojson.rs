//! RFC 7946 GeoJSON: a FeatureCollection, a single Feature, or a bare geometry.
//!
//! A FeatureCollection is streamed: serde hands over one feature object at a time and it is
//! converted before the next is read, so memory follows the features kept, not the JSON
//! tree of the whole file (which is ten times the file's size).

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use serde::Deserializer as _;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::validate::check_decoded;
use super::{Budget, DeclaredCrs, Decoded, SourceError};
use crate::feature::{Feature, FeatureSet, Field, FieldType, Invalid, StringInterner, Value};

type JsonObject = serde_json::Map<String, serde_json::Value>;

fn bad(message: impl Into<String>) -> SourceError {
    SourceError::GeoJson(message.into())
}

pub fn read<R: Read>(input: R, budget: &mut Budget) -> Result<Decoded, SourceError> {
    let mut builder = Builder::new(budget);
    let mut de = serde_json::Deserializer::from_reader(input);
    let parsed = de
        .deserialize_map(Document {
            builder: &mut builder,
        })
        .and_then(|document| de.end().map(|()| document));
    // A feature that failed aborts the parse; report it, not the abort.
    if let Some(error) = builder.error.take() {
        return Err(error);
    }
    let document = parsed.map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let crs = document.crs.as_ref().map(legacy_crs).transpose()?.flatten();
    let kind = document
        .kind
        .ok_or_else(|| bad("the top-level object has no \"type\" member"))?;
    let mut members = document.members;
    match kind.as_str() {
        "FeatureCollection" if document.has_features => {}
        "FeatureCollection" => return Err(bad("a FeatureCollection needs a \"features\" array")),
        other if document.has_features => {
            return Err(bad(format!(
                "a {other} cannot have \"features\"; use a FeatureCollection"
            )));
        }
        "Feature" => {
            members.insert("type".into(), kind.clone().into());
            let feature =
                geojson::Feature::from_json_object(members).map_err(|e| bad(e.to_string()))?;
            builder.push(feature)?;
        }
        _ => {
            members.insert("type".into(), kind.clone().into());
            let geometry =
                geojson::Geometry::from_json_object(members).map_err(|e| bad(e.to_string()))?;
            builder.push(geojson::Feature {
                geometry: Some(geometry),
                ..Default::default()
            })?;
        }
    }
    Ok(Decoded {
        set: builder.finish()?,
        crs,
    })
}

/// What the top level said, besides the features already streamed into the builder.
#[derive(Default)]
struct TopLevel {
    kind: Option<String>,
    crs: Option<serde_json::Value>,
    has_features: bool,
    /// Members a single Feature or a bare geometry is made of.
    members: JsonObject,
}

struct Document<'a, 'b> {
    builder: &'a mut Builder<'b>,
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut top = TopLevel::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "features" if top.has_features => {
                    return Err(A::Error::custom("\"features\" appears twice"));
                }
                "features" => {
                    map.next_value_seed(FeatureArray {
                        builder: &mut *self.builder,
                    })?;
                    top.has_features = true;
                }
                "type" => top.kind = Some(map.next_value()?),
                "crs" => top.crs = Some(map.next_value()?),
                "geometry" | "properties" | "id" | "coordinates" | "geometries" => {
                    top.members.insert(key, map.next_value()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(top)
    }
}

/// The `features` array, consumed one object at a time.
struct FeatureArray<'a, 'b> {
    builder: &'a mut Builder<'b>,
}

impl<'de> DeserializeSeed<'de> for FeatureArray<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FeatureArray<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(object) = seq.next_element::<JsonObject>()? {
            let position = self.builder.position + 1;
            let pushed = geojson::Feature::from_json_object(object)
                .map_err(|e| bad(format!("feature {position}: {e}")))
                .and_then(|feature| self.builder.push(feature));
            if let Err(e) = pushed {
                self.builder.error = Some(e);
                return Err(A::Error::custom("stopped at a bad feature"));
            }
        }
        Ok(())
    }
}

/// Turns features into the server's model as they arrive. A property's type is only known
/// once every feature has been seen (a column may hold 1, then 1.5, then "n/a"), so values
/// keep their own type until [`Builder::finish`] converts them to the column's.
struct Builder<'a> {
    fields: Vec<Field>,
    /// `None` while a property has held only nulls.
    types: Vec<Option<FieldType>>,
    by_name: HashMap<String, usize>,
    strings: StringInterner,
    features: Vec<Feature>,
    invalid: Invalid,
    position: u64,
    without_geometry: usize,
    error: Option<SourceError>,
    budget: &'a mut Budget,
}

impl<'a> Builder<'a> {
    fn new(budget: &'a mut Budget) -> Builder<'a> {
        Builder {
            fields: Vec::new(),
            types: Vec::new(),
            by_name: HashMap::new(),
            strings: StringInterner::default(),
            features: Vec::new(),
            invalid: Invalid::default(),
            position: 0,
            without_geometry: 0,
            error: None,
            budget,
        }
    }

    fn push(&mut self, feature: geojson::Feature) -> Result<(), SourceError> {
        self.position += 1;
        let id = self.position;
        let Some(geometry) = feature.geometry else {
            self.without_geometry += 1;
            return Ok(());
        };
        if let Some(reason) = unclosed_ring(&geometry.value) {
            self.invalid.push(id, &reason);
            return Ok(());
        }
        let geometry = match geo::Geometry::<f64>::try_from(geometry.value)
            .map_err(|e| format!("invalid geometry: {e}"))
            .and_then(check_decoded)
        {
            Ok(Some(g)) => g,
            // An empty geometry is none, as in every reader.
            Ok(None) => {
                self.without_geometry += 1;
                return Ok(());
            }
            Err(reason) => {
                self.invalid.push(id, &reason);
                return Ok(());
            }
        };
        let mut properties = vec![Value::Null; self.fields.len()];
        for (name, value) in feature.properties.into_iter().flatten() {
            let idx = self.field(name, json_type(&value));
            if idx >= properties.len() {
                properties.resize(idx + 1, Value::Null);
            }
            properties[idx] = own_value(&value, &mut self.strings);
        }
        self.budget.keep(
            &mut self.features,
            Feature {
                id,
                geometry,
                properties,
            },
            &self.strings,
        )?;
        Ok(())
    }

    /// The column for `name`, created on first sight and widened to hold `ty`.
    fn field(&mut self, name: String, ty: Option<FieldType>) -> usize {
        if let Some(&idx) = self.by_name.get(&name) {
            if let Some(ty) = ty {
                let known = &mut self.types[idx];
                *known = Some(known.map_or(ty, |k| k.widen(ty)));
            }
            return idx;
        }
        let idx = self.fields.len();
        self.by_name.insert(name.clone(), idx);
        self.fields.push(Field {
            name,
            field_type: FieldType::String,
        });
        self.types.push(ty);
        idx
    }

    fn finish(mut self) -> Result<FeatureSet, SourceError> {
        // Names seen only with null values still belong to the schema, as text.
        for (field, ty) in self.fields.iter_mut().zip(&self.types) {
            field.field_type = ty.unwrap_or(FieldType::String);
        }
        // Features read before a column first appeared get a slot for it now.
        let missing: usize = self
            .features
            .iter()
            .map(|f| self.fields.len() - f.properties.len())
            .sum();
        self.budget.charge((missing * size_of::<Value>()) as u64)?;
        for feature in &mut self.features {
            feature.properties.resize(self.fields.len(), Value::Null);
            for (value, field) in feature.properties.iter_mut().zip(&self.fields) {
                value.conform(field.field_type, &mut self.strings);
            }
        }
        let mut warnings = Vec::new();
        if self.without_geometry > 0 {
            warnings.push(format!(
                "{} feature(s) without geometry (or with an empty one) were skipped",
                self.without_geometry
            ));
        }
        Ok(FeatureSet {
            fields: self.fields,
            features: self.features,
            warnings,
            invalid: self.invalid,
            crs: None,
            decoded_bytes: self.budget.used(),
        })
    }
}

/// RFC 7946 requires closed rings; `geo` would close them silently, so check the raw rings,
/// wherever they are (a collection's members too), as the binary readers do.
fn unclosed_ring(value: &geojson::Value) -> Option<String> {
    let rings = |rings: &Vec<Vec<Vec<f64>>>| {
        rings.iter().enumerate().find_map(|(r, ring)| {
            (ring.len() < 4 || ring.first() != ring.last()).then(|| {
                format!(
                    "ring {} is not closed (needs 4 or more positions, the last equal to the first)",
                    r + 1
                )
            })
        })
    };
    match value {
        geojson::Value::Polygon(r) => rings(r).map(|why| format!("polygon 1 {why}")),
        geojson::Value::MultiPolygon(polygons) => polygons
            .iter()
            .enumerate()
            .find_map(|(p, r)| rings(r).map(|why| format!("polygon {} {why}", p + 1))),
        geojson::Value::GeometryCollection(members) => {
            members.iter().enumerate().find_map(|(m, g)| {
                unclosed_ring(&g.value).map(|why| format!("member {} {why}", m + 1))
            })
        }
        _ => None,
    }
}

/// GeoJSON 2008's `crs` member is obsolete, but files still carry it; honour what it says:
/// a named CRS (`urn:ogc:def:crs:EPSG::3405`) or the 2008 `EPSG` type with a code.
fn legacy_crs(crs: &serde_json::Value) -> Result<Option<DeclaredCrs>, SourceError> {
    if let Some(name) = crs.pointer("/properties/name").and_then(|n| n.as_str()) {
        return Ok(Some(DeclaredCrs::Name(name.to_string())));
    }
    if let Some(code) = crs.pointer("/properties/code").and_then(|c| {
        c.as_u64()
            .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
    }) {
        return Ok(Some(DeclaredCrs::Epsg(
            u32::try_from(code).unwrap_or(u32::MAX),
        )));
    }
    if crs.is_null() {
        return Ok(None);
    }
    Err(bad(format!(
        "the crs member {} names no CRS this server can identify (expected {{\"type\": \"name\", \"properties\": {{\"name\": \"EPSG:<code>\"}}}})",
        crate::feature::abbreviate(&crs.to_string(), 120)
    )))
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

/// A JSON value as the server's value of its own type; arrays and objects become their JSON text.
fn own_value(value: &serde_json::Value, strings: &mut StringInterner) -> Value {
    use serde_json::Value as J;
    match value {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .or_else(|| n.as_f64().map(Value::Float))
            .unwrap_or(Value::Null),
        J::String(s) => Value::String(strings.intern(s)),
        other => Value::String(strings.intern(&other.to_string())),
    }
}
