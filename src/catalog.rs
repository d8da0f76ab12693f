//! The layer catalog: the manifest, each loaded layer, and the swappable set of them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use geo::Rect;
use serde::Deserialize;

use crate::feature::{Feature, FeatureSet, Field};
use crate::index::{SpatialIndex, envelope, union};
use crate::source::{self, SourceError};

/// One `[[layer]]` entry of `data/layers.toml`: where the file is and how to describe it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LayerMeta {
    pub id: String,
    /// Path relative to the data directory.
    #[serde(default, skip_serializing)]
    pub file: PathBuf,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// What the layer is (`occurrences`, `faults`, `geology`, `boundaries`, `land`, `other`);
    /// the web map and upload validation key off it.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// Who produced the data (agency or compilation).
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub license: String,
    #[serde(default)]
    pub attribution: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The property that classifies features (commodity, slip type, lithology...).
    #[serde(default)]
    pub classify: Option<String>,
    /// Properties holding `", "`-separated lists (e.g. `commodities`): an equality filter
    /// on one matches any element, so `?commodities=Nickel` finds every nickel occurrence.
    #[serde(default)]
    pub lists: Vec<String>,
    /// Zooms the layer's tiles are cut for; outside them it is left out of tiles (a coarse
    /// basemap layer for small scales, a detailed one for large scales).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minzoom: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxzoom: Option<u8>,
}

impl LayerMeta {
    /// Whether tiles at zoom `z` carry this layer.
    pub fn shown_at(&self, z: u8) -> bool {
        self.minzoom.is_none_or(|m| z >= m) && self.maxzoom.is_none_or(|m| z <= m)
    }
}

fn default_kind() -> String {
    "other".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    /// The mineral production table (CSV), relative to the data directory.
    #[serde(default)]
    production: Option<PathBuf>,
    #[serde(rename = "layer", default)]
    layers: Vec<LayerMeta>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read manifest {path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("layer {id:?}: {reason}")]
    InvalidLayer { id: String, reason: String },
    #[error("layer {id:?} ({path}): {source}")]
    Source {
        id: String,
        path: PathBuf,
        source: SourceError,
    },
}

/// Layer ids appear in URLs and file names, so they are restricted to a safe alphabet.
pub fn is_valid_layer_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id.as_bytes()[0].is_ascii_alphanumeric()
}

/// A layer ready to serve: immutable once built, replaced as a whole.
pub struct Layer {
    pub meta: LayerMeta,
    pub fields: Vec<Field>,
    /// Sorted by `id`.
    pub features: Vec<Feature>,
    pub index: SpatialIndex,
    pub bbox: Option<Rect>,
    /// Content hash: changes whenever the data does, so ETags and caches follow it.
    pub version: u64,
    /// Every geometry is a single point: tile cutting can read coordinates from the index.
    pub points_only: bool,
    /// Per-zoom thinned points, for the low-zoom tiles of dense point layers.
    pub pyramid: crate::tiles::pyramid::PointPyramid,
    /// Per-zoom simplified lines and polygons, for the low-zoom tiles of big shape layers.
    pub shapes: crate::tiles::shapes::ShapePyramid,
    /// Geometry kinds, property values, classes and label points, for the documents.
    pub facts: crate::facts::LayerFacts,
    /// Folded text for search, built the first time the layer is searched.
    search: std::sync::OnceLock<crate::search::SearchIndex>,
}

impl Layer {
    pub fn build(meta: LayerMeta, set: FeatureSet, version: u64) -> Layer {
        let mut features = set.features;
        // Readers yield features in id order: checked in one pass, without the stable sort's
        // buffer of half the features; ids are unique, so an unstable sort of the rare
        // unordered set gives the same order.
        if !features.is_sorted_by_key(|f| f.id) {
            features.sort_unstable_by_key(|f| f.id);
        }
        let envelopes: Vec<Rect> = features.iter().map(|f| envelope(&f.geometry)).collect();
        let bbox = envelopes.iter().copied().reduce(union);
        let index = SpatialIndex::build(envelopes.into_iter());
        let points_only = features
            .iter()
            .all(|f| matches!(f.geometry, geo::Geometry::Point(_)));
        let facts = crate::facts::LayerFacts::compute(&meta, &set.fields, &features);
        let pyramid = if points_only {
            let points: Vec<(f64, f64)> = features
                .iter()
                .filter_map(|f| match f.geometry {
                    geo::Geometry::Point(p) => Some((p.x(), p.y())),
                    _ => None,
                })
                .collect();
            crate::tiles::pyramid::PointPyramid::build(&points)
        } else {
            crate::tiles::pyramid::PointPyramid::default()
        };
        let shapes = if points_only {
            crate::tiles::shapes::ShapePyramid::default()
        } else {
            let geometries: Vec<&geo::Geometry> = features.iter().map(|f| &f.geometry).collect();
            let zooms = meta.minzoom.unwrap_or(0)..=meta.maxzoom.unwrap_or(u8::MAX);
            crate::tiles::shapes::ShapePyramid::build(&geometries, zooms)
        };
        Layer {
            meta,
            fields: set.fields,
            facts,
            features,
            index,
            bbox,
            version,
            points_only,
            pyramid,
            shapes,
            search: std::sync::OnceLock::new(),
        }
    }

    pub fn search_index(&self) -> &crate::search::SearchIndex {
        self.search
            .get_or_init(|| crate::search::SearchIndex::build(&self.fields, &self.features))
    }

    pub fn feature(&self, id: u64) -> Option<&Feature> {
        self.features
            .binary_search_by_key(&id, |f| f.id)
            .ok()
            .map(|i| &self.features[i])
    }

    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// The layers being served, in manifest order.
#[derive(Default)]
pub struct Snapshot {
    pub layers: Vec<Arc<Layer>>,
    /// Counts changes to the catalog: documents built from a snapshot (styles, the collection
    /// list) are cached under it and rebuilt only when a layer is published or retired.
    pub generation: u64,
}

impl Snapshot {
    pub fn get(&self, id: &str) -> Option<&Arc<Layer>> {
        self.layers.iter().find(|l| l.meta.id == id)
    }
}

/// Readers take a snapshot with one atomic load and keep it for the whole request, so a
/// layer replaced mid-request never shows half of itself.
pub struct Catalog {
    current: ArcSwap<Snapshot>,
}

impl Catalog {
    pub fn new(layers: Vec<Arc<Layer>>) -> Catalog {
        Catalog {
            current: ArcSwap::from_pointee(Snapshot {
                layers,
                generation: 0,
            }),
        }
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Removes a layer; `false` if there was none.
    pub fn retire(&self, id: &str) -> bool {
        let mut removed = false;
        self.current.rcu(|snap| {
            let layers: Vec<Arc<Layer>> = snap
                .layers
                .iter()
                .filter(|l| l.meta.id != id)
                .cloned()
                .collect();
            removed = layers.len() != snap.layers.len();
            Snapshot {
                layers,
                generation: snap.generation + 1,
            }
        });
        removed
    }

    /// Serves `layers` in place of whatever was served (start-up, once everything is loaded).
    pub fn replace_all(&self, layers: Vec<Arc<Layer>>) {
        self.current.rcu(|snap| Snapshot {
            layers: layers.clone(),
            generation: snap.generation + 1,
        });
    }

    /// Adds or replaces one layer atomically.
    pub fn publish(&self, layer: Arc<Layer>) {
        self.current.rcu(|snap| {
            let mut layers = snap.layers.clone();
            match layers.iter_mut().find(|l| l.meta.id == layer.meta.id) {
                Some(slot) => *slot = layer.clone(),
                None => layers.push(layer.clone()),
            }
            Snapshot {
                layers,
                generation: snap.generation + 1,
            }
        });
    }
}

/// What start-up loaded and what it had to skip.
#[derive(Default)]
pub struct LoadReport {
    pub layers: Vec<Arc<Layer>>,
    pub errors: Vec<CatalogError>,
    /// Where the production table is, if the manifest names one.
    pub production: Option<PathBuf>,
}

/// Reads `layers.toml` in `data_dir`. A broken manifest is fatal; a broken layer file is
/// reported and skipped so that one bad file does not take the whole service down.
pub fn load_data_dir(data_dir: &Path) -> Result<LoadReport, CatalogError> {
    let manifest_path = data_dir.join("layers.toml");
    let manifest_err = |reason: String| CatalogError::Manifest {
        path: manifest_path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| manifest_err(e.to_string()))?;
    let manifest: Manifest = toml::from_str(&text).map_err(|e| manifest_err(e.to_string()))?;

    let results: Vec<Result<Layer, CatalogError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = manifest
            .layers
            .iter()
            .map(|meta| scope.spawn(move || load_layer(data_dir, meta.clone())))
            .collect();
        handles
            .into_iter()
            .zip(&manifest.layers)
            .map(|(h, meta)| {
                h.join().unwrap_or_else(|_| {
                    Err(CatalogError::InvalidLayer {
                        id: meta.id.clone(),
                        reason: "loader crashed".into(),
                    })
                })
            })
            .collect()
    });

    let mut report = LoadReport {
        layers: Vec::new(),
        errors: Vec::new(),
        production: manifest.production.as_ref().map(|p| data_dir.join(p)),
    };
    for result in results {
        match result {
            Ok(layer) if report.layers.iter().any(|l| l.meta.id == layer.meta.id) => {
                report.errors.push(CatalogError::InvalidLayer {
                    id: layer.meta.id.clone(),
                    reason: "duplicate layer id in manifest".into(),
                })
            }
            Ok(layer) => report.layers.push(Arc::new(layer)),
            Err(e) => report.errors.push(e),
        }
    }
    Ok(report)
}

fn load_layer(data_dir: &Path, meta: LayerMeta) -> Result<Layer, CatalogError> {
    let invalid = |reason: &str| CatalogError::InvalidLayer {
        id: meta.id.clone(),
        reason: reason.into(),
    };
    if !is_valid_layer_id(&meta.id) {
        return Err(invalid(
            "id must be 1-64 characters of a-z, 0-9, '-' or '_'",
        ));
    }
    if meta.file.is_absolute()
        || meta
            .file
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(invalid(
            "file must be a plain path inside the data directory",
        ));
    }
    let path = data_dir.join(&meta.file);
    let contents = source::read_path(&path).map_err(|source| CatalogError::Source {
        id: meta.id.clone(),
        path: path.clone(),
        source,
    })?;
    let mut set = contents.features;
    // The operator's own occurrence and geology layers follow the protocol's vocabularies
    // like uploads do (country codes, commodity names, list separators), so filters and
    // styles treat every layer alike. Problems are logged; the layer is still served.
    if let Some(kind) =
        crate::protocol::Kind::parse(&meta.kind).filter(|k| *k != crate::protocol::Kind::Other)
    {
        let report = crate::protocol::prepare(&mut set, Some(kind), &Default::default());
        let corrected: usize = report.normalised.iter().map(|n| n.features).sum();
        if corrected > 0 {
            tracing::info!(layer = %meta.id, corrected, "normalised to the data protocol's vocabularies");
        }
        for problem in report
            .problems
            .iter()
            .filter(|p| p.severity == crate::protocol::Severity::Error)
            .take(5)
        {
            tracing::warn!(layer = %meta.id, feature = ?problem.feature, field = ?problem.field, "{}", problem.reason);
        }
    }
    if let Some(classify) = &meta.classify
        && set.field_index(classify).is_none()
    {
        return Err(invalid(&format!(
            "classify property {classify:?} is not in the file"
        )));
    }
    Ok(Layer::build(meta, set, contents.content_hash))
}
