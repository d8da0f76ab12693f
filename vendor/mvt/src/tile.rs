// tile.rs
//
// Copyright (c) 2019-2026  Minnesota Department of Transportation
//
//! Tile, Layer and Feature structs.
//!
use crate::encoder::{GeomData, GeomType};
use crate::error::{Error, Result};
use crate::vector_tile::Tile as VecTile;
use crate::vector_tile::tile::{
    Feature as VtFeature, GeomType as VtGeomType, Layer as VtLayer, Value,
};
use prost::Message;
use std::collections::HashMap;

/// Index maps with a fast hasher: a tag lookup happens for every key and value of every
/// feature, and SipHash was most of the cost of encoding a tile.
type IndexMap<K> = HashMap<K, usize, foldhash::fast::RandomState>;
use std::io::Write;

/// A tile represents a rectangular region of a map.
///
/// Each tile can contain any number of [layers].  When all layers have been
/// added to the tile, it can be [written out] or [converted] to a `Vec<u8>`.
///
/// # Example
/// ```
/// # use mvt::Error;
/// # fn main() -> Result<(), Error> {
/// use mvt::Tile;
///
/// let mut tile = Tile::new(4096);
/// let layer = tile.create_layer("First Layer");
/// // ...
/// // set up the layer
/// // ...
/// tile.add_layer(layer)?;
/// // ...
/// // add more layers
/// // ...
/// let data = tile.to_bytes()?;
/// # Ok(())
/// # }
/// ```
///
/// [converted]: struct.Tile.html#method.to_bytes
/// [layers]: struct.Layer.html
/// [written out]: struct.Tile.html#method.write_to
pub struct Tile {
    vec_tile: VecTile,
    extent: u32,
}

/// Represents a single MVT attribute value of arbitrary MVT-supported type.
///
/// This is a internal-only data structure, used as a building block to track unique values in a
/// layer in order to speed up MVT tile generation for tiles with many different attribute values.
#[derive(Eq, Hash, PartialEq)]
enum ValueKey {
    String(String),
    Float(u32),
    Double(u64),
    Int(i64),
    Uint(u64),
    Sint(i64),
    Bool(bool),
    Empty,
}

impl From<&Value> for ValueKey {
    fn from(value: &Value) -> Self {
        if let Some(value) = &value.string_value {
            return Self::String(value.clone());
        }
        if let Some(value) = value.float_value {
            return Self::Float(if value == 0.0 { 0 } else { value.to_bits() });
        }
        if let Some(value) = value.double_value {
            return Self::Double(if value == 0.0 {
                0
            } else {
                value.to_bits()
            });
        }
        if let Some(value) = value.int_value {
            return Self::Int(value);
        }
        if let Some(value) = value.uint_value {
            return Self::Uint(value);
        }
        if let Some(value) = value.sint_value {
            return Self::Sint(value);
        }
        if let Some(value) = value.bool_value {
            return Self::Bool(value);
        }
        Self::Empty
    }
}

/// A layer is a set of related features in a tile.
///
/// # Example
/// ```
/// use mvt::Tile;
///
/// let mut tile = Tile::new(4096);
/// let layer = tile.create_layer("First Layer");
/// // ...
/// // set up the layer
/// // ...
/// ```
pub struct Layer(Box<LayerState>);

/// What a [Layer] holds, behind one pointer: a layer is moved into each of its features and
/// back (`into_feature`, `into_layer`), which copied these few hundred bytes twice per feature.
/// `pub` only because `Layer` derefs to it; it is not exported and its fields are private.
pub struct LayerState {
    layer: VtLayer,
    key_indices: IndexMap<String>,
    value_indices: IndexMap<ValueKey>,
    /// Positions of the string values in `layer.values`, hashed by their text: a value
    /// already in the layer is found from a `&str` with no allocation, and a new one is
    /// copied once, into the layer.
    string_indices: hashbrown::HashTable<usize>,
    string_hasher: foldhash::fast::RandomState,
}

/// A Feature contains map geometry with related metadata.
///
/// A new Feature can be obtained with [Layer.into_feature].
/// After optionally adding an ID and tags, retrieve the Layer with the Feature
/// added by calling [Feature.into_layer].
///
/// # Example
/// ```
/// # use mvt::Error;
/// # fn main() -> Result<(), Error> {
/// use mvt::{GeomEncoder, GeomType, Tile};
/// use pointy::Transform;
///
/// let tile = Tile::new(4096);
/// let layer = tile.create_layer("First Layer");
/// let geom_data = GeomEncoder::new(GeomType::Point)
///     .point(1.0, 2.0)?
///     .point(7.0, 6.0)?
///     .encode()?;
/// let feature = layer.into_feature(geom_data);
/// // ...
/// // add any tags or ID to the feature
/// // ...
/// let layer = feature.into_layer();
/// # Ok(())
/// # }
/// ```
///
/// [Layer.into_feature]: struct.Layer.html#method.into_feature
/// [Feature.into_layer]: struct.Feature.html#method.into_layer
pub struct Feature {
    feature: VtFeature,
    layer: Layer,
    num_keys: usize,
    num_values: usize,
}

impl Tile {
    /// Create a new tile.
    ///
    /// * `extent` Height / width of tile bounds.
    pub fn new(extent: u32) -> Self {
        let vec_tile = VecTile::default();
        Tile { vec_tile, extent }
    }

    /// Get extent, or height / width of tile bounds.
    pub fn extent(&self) -> u32 {
        self.extent
    }

    /// Get the number of layers.
    pub fn num_layers(&self) -> usize {
        self.vec_tile.layers.len()
    }

    /// Create a new layer.
    ///
    /// * `name` Layer name.
    pub fn create_layer(&self, name: &str) -> Layer {
        Layer::new(name, self.extent)
    }

    /// Add a layer.
    ///
    /// * `layer` The layer.
    ///
    /// Returns an error if:
    /// * a layer with the same name already exists
    /// * the layer extent does not match the tile extent
    pub fn add_layer(&mut self, layer: Layer) -> Result<()> {
        if layer.layer.extent != Some(self.extent) {
            return Err(Error::WrongExtent());
        }
        if self
            .vec_tile
            .layers
            .iter()
            .any(|n| n.name == layer.layer.name)
        {
            Err(Error::DuplicateName())
        } else {
            self.vec_tile.layers.push(layer.0.layer);
            Ok(())
        }
    }

    /// Write the tile.
    ///
    /// * `out` Writer to output the tile.
    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        out.write_all(&self.to_bytes()?)?;
        Ok(())
    }

    /// Encode the tile and return the bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(encode_tile(&self.vec_tile))
    }

    /// Compute the encoded size in bytes.
    pub fn compute_size(&self) -> usize {
        self.vec_tile.encoded_len()
    }
}

impl Default for Layer {
    fn default() -> Self {
        Layer::with(VtLayer::default())
    }
}

impl std::ops::Deref for Layer {
    type Target = LayerState;
    fn deref(&self) -> &LayerState {
        &self.0
    }
}

impl std::ops::DerefMut for Layer {
    fn deref_mut(&mut self) -> &mut LayerState {
        &mut self.0
    }
}

impl Layer {
    /// Create a new layer.
    ///
    /// * `name` Layer name.
    /// * `extent` Width / height of tile bounds.
    fn new(name: &str, extent: u32) -> Self {
        let layer = VtLayer {
            version: 2,
            name: name.to_string(),
            extent: Some(extent),
            ..Default::default()
        };
        Layer::with(layer)
    }

    fn with(layer: VtLayer) -> Self {
        Layer(Box::new(LayerState {
            layer,
            key_indices: IndexMap::default(),
            value_indices: IndexMap::default(),
            string_indices: hashbrown::HashTable::new(),
            string_hasher: foldhash::fast::RandomState::default(),
        }))
    }

    /// Get the layer name.
    pub fn name(&self) -> Option<&str> {
        Some(&self.layer.name)
    }

    /// Get number of features (count).
    pub fn num_features(&self) -> usize {
        self.layer.features.len()
    }

    /// Makes room for `features` more features, and as many values: a layer whose features
    /// each carry one value of their own (a name, an id) otherwise copies its growing lists
    /// over and over (an eighth of encoding a tile of named points).
    pub fn reserve(&mut self, features: usize) {
        self.layer.features.reserve(features);
        self.layer.values.reserve(features);
    }

    /// Create a new feature, giving it ownership of the layer.
    ///
    /// * `geom_data` Geometry data (consumed by this method).
    pub fn into_feature(self, geom_data: GeomData) -> Feature {
        let num_keys = self.layer.keys.len();
        let num_values = self.layer.values.len();
        let feature = VtFeature {
            r#type: Some(match geom_data.geom_type() {
                GeomType::Point => VtGeomType::Point as i32,
                GeomType::Linestring => VtGeomType::Linestring as i32,
                GeomType::Polygon => VtGeomType::Polygon as i32,
            }),
            geometry: geom_data.into_vec(),
            // Features of a layer mostly carry the same tags: room for as many as the last.
            tags: Vec::with_capacity(
                self.layer.features.last().map_or(0, |f| f.tags.len()),
            ),
            ..Default::default()
        };
        Feature {
            feature,
            layer: self,
            num_keys,
            num_values,
        }
    }

    /// Get position of a key in the layer keys.  If the key is not found, it
    /// is added as the last key.
    fn key_pos(&mut self, key: &str) -> usize {
        if let Some(&index) = self.key_indices.get(key) {
            return index;
        }
        let index = self.layer.keys.len();
        let key = key.to_string();
        self.layer.keys.push(key.clone());
        self.key_indices.insert(key, index);
        index
    }

    /// Get position of a string value in the layer values.  If the value is not
    /// found, it is added as the last value.
    fn string_pos(&mut self, value: &str) -> usize {
        use std::hash::BuildHasher;
        // Disjoint borrows of the fields need the state itself, not the `Layer`'s `DerefMut`.
        let this = &mut *self.0;
        let hash = this.string_hasher.hash_one(value);
        let values = &this.layer.values;
        let text = |index: usize| values[index].string_value.as_deref();
        if let Some(&index) =
            this.string_indices.find(hash, |&i| text(i) == Some(value))
        {
            return index;
        }
        let index = values.len();
        this.layer.values.push(Value {
            string_value: Some(value.to_string()),
            ..Default::default()
        });
        let (values, hasher) = (&this.layer.values, &this.string_hasher);
        this.string_indices.insert_unique(hash, index, |&i| {
            hasher
                .hash_one(values[i].string_value.as_deref().unwrap_or_default())
        });
        index
    }

    /// Get position of a value in the layer values.  If the value is not found,
    /// it is added as the last value.
    fn val_pos(&mut self, value: Value) -> usize {
        let value_key = ValueKey::from(&value);
        if let Some(&index) = self.value_indices.get(&value_key) {
            return index;
        }
        let index = self.layer.values.len();
        self.layer.values.push(value);
        self.value_indices.insert(value_key, index);
        index
    }
}

impl Feature {
    /// Complete the feature, returning ownership of the layer.
    pub fn into_layer(mut self) -> Layer {
        self.layer.layer.features.push(self.feature);
        self.layer
    }

    /// Get the layer, abandoning the feature.
    pub fn layer(mut self) -> Layer {
        // Reset key/value lengths
        self.layer.layer.keys.truncate(self.num_keys);
        self.layer.layer.values.truncate(self.num_values);
        // Remove any key/value indices added by this feature, so the
        // HashMaps stay in sync with the truncated keys/values Vecs.
        let num_keys = self.num_keys;
        let num_values = self.num_values;
        self.layer.key_indices.retain(|_, idx| *idx < num_keys);
        self.layer.value_indices.retain(|_, idx| *idx < num_values);
        self.layer.string_indices.retain(|idx| *idx < num_values);
        self.layer
    }

    /// Set the feature ID.
    pub fn set_id(&mut self, id: u64) {
        let layer = &self.layer.layer;
        if cfg!(debug_assertions)
            && layer.features.iter().any(|f| f.id == Some(id))
        {
            log::warn!("Duplicate feature ID ({id}) in layer {:?}", layer.name);
        }
        self.feature.id = Some(id);
    }

    /// Get number of tags (count).
    pub fn num_tags(&self) -> usize {
        self.feature.tags.len()
    }

    /// Add a tag of string type.
    pub fn add_tag_string(&mut self, key: &str, val: &str) {
        let kidx = self.key_pos(key);
        self.feature.tags.push(kidx as u32);
        let vidx = self.layer.string_pos(val);
        self.feature.tags.push(vidx as u32);
    }

    /// Add a tag of double type.
    pub fn add_tag_double(&mut self, key: &str, val: f64) {
        let value = Value {
            double_value: Some(val),
            ..Default::default()
        };
        self.add_tag(key, value);
    }

    /// Add a tag of float type.
    pub fn add_tag_float(&mut self, key: &str, val: f32) {
        let value = Value {
            float_value: Some(val),
            ..Default::default()
        };
        self.add_tag(key, value);
    }

    /// Add a tag of int type.
    pub fn add_tag_int(&mut self, key: &str, val: i64) {
        let value = Value {
            int_value: Some(val),
            ..Default::default()
        };
        self.add_tag(key, value);
    }

    /// Add a tag of uint type.
    pub fn add_tag_uint(&mut self, key: &str, val: u64) {
        let value = Value {
            uint_value: Some(val),
            ..Default::default()
        };
        self.add_tag(key, value);
    }

    /// Add a tag of sint type.
    pub fn add_tag_sint(&mut self, key: &str, val: i64) {
        let value = Value {
            sint_value: Some(val),
            ..Default::default()
        };
        self.add_tag(key, value);
    }

    /// Add a tag of bool type.
    pub fn add_tag_bool(&mut self, key: &str, val: bool) {
        let value = Value {
            bool_value: Some(val),
            ..Default::default()
        };
        self.add_tag(key, value);
    }

    /// The key's position in the layer, tried first where the layer's previous feature had
    /// its tag of the same rank: features of a layer mostly list the same keys in the same
    /// order, and one comparison is cheaper than hashing the key.
    fn key_pos(&mut self, key: &str) -> usize {
        let rank = self.feature.tags.len();
        let layer = &self.layer.layer;
        if let Some(&known) =
            layer.features.last().and_then(|f| f.tags.get(rank))
            && layer.keys.get(known as usize).is_some_and(|k| k == key)
        {
            return known as usize;
        }
        self.layer.key_pos(key)
    }

    /// Add a tag.
    fn add_tag(&mut self, key: &str, value: Value) {
        let kidx = self.key_pos(key);
        self.feature.tags.push(kidx as u32);
        let vidx = self.layer.val_pos(value);
        self.feature.tags.push(vidx as u32);
    }
}

/// The tile's bytes, as `prost` would write them (fields in tag order), but each feature's
/// packed lists measured once: `encode_to_vec` measures every nested message before writing it
/// and again inside its parent's measure, four passes over every tag and vertex for one
/// write. A layer is written to a scratch buffer and then copied after its length.
fn encode_tile(tile: &VecTile) -> Vec<u8> {
    use prost::encoding::{WireType, encode_key, encode_varint};
    let mut out = Vec::new();
    let mut body = Vec::new();
    for layer in &tile.layers {
        body.clear();
        prost::encoding::string::encode(1, &layer.name, &mut body);
        for feature in &layer.features {
            encode_feature(feature, &mut body);
        }
        prost::encoding::string::encode_repeated(3, &layer.keys, &mut body);
        prost::encoding::message::encode_repeated(4, &layer.values, &mut body);
        if let Some(extent) = layer.extent {
            prost::encoding::uint32::encode(5, &extent, &mut body);
        }
        prost::encoding::uint32::encode(15, &layer.version, &mut body);
        encode_key(3, WireType::LengthDelimited, &mut out);
        encode_varint(body.len() as u64, &mut out);
        out.extend_from_slice(&body);
    }
    out
}

/// A feature as field 2 of its layer: id, packed tags, type, packed geometry.
fn encode_feature(feature: &VtFeature, out: &mut Vec<u8>) {
    use prost::encoding::{WireType, encode_key, encoded_len_varint};
    let packed_len = |values: &[u32]| -> usize {
        values
            .iter()
            .map(|&v| encoded_len_varint(u64::from(v)))
            .sum()
    };
    let field_len = |len: usize| 1 + encoded_len_varint(len as u64) + len;
    let tags_len = packed_len(&feature.tags);
    let geometry_len = packed_len(&feature.geometry);
    let mut len = 0;
    if let Some(id) = feature.id {
        len += 1 + encoded_len_varint(id);
    }
    if !feature.tags.is_empty() {
        len += field_len(tags_len);
    }
    if let Some(kind) = feature.r#type {
        len += 1 + encoded_len_varint(i64::from(kind) as u64);
    }
    if !feature.geometry.is_empty() {
        len += field_len(geometry_len);
    }
    out.reserve(len + 6);
    encode_key(2, WireType::LengthDelimited, out);
    put_varint(len as u64, out);
    if let Some(id) = feature.id {
        encode_key(1, WireType::Varint, out);
        put_varint(id, out);
    }
    let packed =
        |tag: u32, values: &[u32], values_len: usize, out: &mut Vec<u8>| {
            if !values.is_empty() {
                encode_key(tag, WireType::LengthDelimited, out);
                put_varint(values_len as u64, out);
                for &v in values {
                    put_varint(u64::from(v), out);
                }
            }
        };
    packed(2, &feature.tags, tags_len, out);
    if let Some(kind) = feature.r#type {
        encode_key(3, WireType::Varint, out);
        put_varint(i64::from(kind) as u64, out);
    }
    packed(4, &feature.geometry, geometry_len, out);
}

/// A base-128 varint, as `prost::encoding::encode_varint` writes it, pushed straight onto a
/// `Vec` (prost's goes through `BufMut`, a call and a capacity check per byte; it was a sixth
/// of encoding a point tile).
#[inline]
fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(layer: Layer, tags: &[(&str, &str)]) -> Layer {
        let geom = crate::GeomEncoder::new(GeomType::Point)
            .point(1.0, 1.0)
            .and_then(|e| e.encode())
            .expect("a point");
        let mut feature = layer.into_feature(geom);
        for (key, value) in tags {
            feature.add_tag_string(key, value);
        }
        feature.into_layer()
    }

    #[test]
    fn string_values_are_shared_and_kept_apart_from_other_types() {
        let tile = Tile::new(4096);
        let mut layer =
            tagged(tile.create_layer("l"), &[("a", "x"), ("b", "y")]);
        layer = tagged(layer, &[("a", "y"), ("b", "x")]);
        let mut feature = layer.into_feature(
            crate::GeomEncoder::new(GeomType::Point)
                .point(2.0, 2.0)
                .and_then(|e| e.encode())
                .expect("a point"),
        );
        feature.add_tag_uint("a", 7);
        feature.add_tag_string("b", "7");
        let layer = feature.into_layer();
        let values: Vec<_> = layer.layer.values.iter().collect();
        assert_eq!(values.len(), 4, "x, y, 7 and \"7\"");
        assert_eq!(values[0].string_value.as_deref(), Some("x"));
        assert_eq!(values[1].string_value.as_deref(), Some("y"));
        assert_eq!(values[2].uint_value, Some(7));
        assert_eq!(values[3].string_value.as_deref(), Some("7"));
        let tags: Vec<&[u32]> =
            layer.layer.features.iter().map(|f| &f.tags[..]).collect();
        assert_eq!(tags, [&[0, 0, 1, 1][..], &[0, 1, 1, 0], &[0, 2, 1, 3]]);
    }

    #[test]
    fn an_abandoned_feature_leaves_no_string_behind() {
        let tile = Tile::new(4096);
        let layer = tagged(tile.create_layer("l"), &[("a", "x")]);
        let mut feature = layer.into_feature(
            crate::GeomEncoder::new(GeomType::Point)
                .point(2.0, 2.0)
                .and_then(|e| e.encode())
                .expect("a point"),
        );
        feature.add_tag_string("a", "gone");
        let layer = tagged(feature.layer(), &[("a", "kept")]);
        let values: Vec<_> = layer
            .layer
            .values
            .iter()
            .filter_map(|v| v.string_value.as_deref())
            .collect();
        assert_eq!(values, ["x", "kept"]);
        assert_eq!(layer.layer.features[1].tags, [0, 1]);
    }

    #[test]
    fn tiles_are_written_as_prost_writes_them() {
        let mut tile = Tile::new(4096);
        let mut layer = tile.create_layer("points and shapes");
        layer.reserve(3);
        let kinds = [GeomType::Point, GeomType::Linestring, GeomType::Polygon];
        for (i, kind) in kinds.into_iter().cycle().take(300).enumerate() {
            let mut encoder = crate::GeomEncoder::new(kind);
            let spread = (i * i * 37) as f64; // large coordinates: multi-byte varints
            encoder.add_point(spread, 1.0).expect("point");
            if kind != GeomType::Point {
                encoder.add_point(spread + 5.0, 300.0).expect("point");
                encoder.add_point(spread - 2.0, 40_000.0).expect("point");
            }
            let mut feature =
                layer.into_feature(encoder.encode().expect("geometry"));
            if i % 4 != 0 {
                feature.set_id(i as u64 * 1_000_003);
            }
            // Keys in changing order and number, so the key hint both hits and misses.
            if i % 3 == 0 {
                feature.add_tag_uint("n", i as u64);
            }
            feature.add_tag_string("name", &format!("feature {i}"));
            feature.add_tag_string("class", ["a", "b", "c"][i % 3]);
            if i % 5 == 0 {
                feature.add_tag_double("share", i as f64 / 7.0);
            }
            layer = feature.into_layer();
        }
        tile.add_layer(layer).expect("layer");
        tile.add_layer(tile.create_layer("empty")).expect("layer");
        let bytes = tile.to_bytes().expect("bytes");
        assert_eq!(bytes, tile.vec_tile.encode_to_vec());
        let decoded = VecTile::decode(bytes.as_slice()).expect("decodes");
        let layer = &decoded.layers[0];
        assert_eq!(layer.features.len(), 300);
        for (i, feature) in layer.features.iter().enumerate() {
            let tags: Vec<(&str, &Value)> = feature
                .tags
                .chunks(2)
                .map(|pair| {
                    (
                        layer.keys[pair[0] as usize].as_str(),
                        &layer.values[pair[1] as usize],
                    )
                })
                .collect();
            let name = tags.iter().find(|(k, _)| *k == "name").expect("name").1;
            assert_eq!(
                name.string_value.as_deref(),
                Some(format!("feature {i}").as_str())
            );
            let class =
                tags.iter().find(|(k, _)| *k == "class").expect("class").1;
            assert_eq!(
                class.string_value.as_deref(),
                Some(["a", "b", "c"][i % 3])
            );
            assert_eq!(
                tags.len(),
                2 + usize::from(i % 3 == 0) + usize::from(i % 5 == 0)
            );
        }
    }
}
