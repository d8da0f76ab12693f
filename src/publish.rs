//! The publishing use cases, one function each, shared by the HTTP handlers, start-up, the
//! command line and the benches: [`publish`] a received file, [`restore`] a kept version,
//! [`load_published`] what the store publishes. None of them knows about HTTP.
//!
//! A file is read through the guarded readers (reprojected to WGS 84), normalised and checked
//! against the data protocol, indexed off to the side, stored durably, and only then swapped
//! in; any failure leaves the served layer exactly as it was.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::catalog::{Catalog, Layer, LayerMeta};
use crate::config::ServeArgs;
use crate::error::ApiError;
use crate::feature::FeatureSet;
use crate::protocol::{self, FieldMapping, Kind, Report};
use crate::source::{self, Budget, Deadline, Format, SourceError};
pub use crate::store::Intake;
use crate::store::{Incoming, LayerStore, VersionRecord};

/// An upload as its handler has parsed it.
pub struct UploadRequest {
    pub meta: LayerMeta,
    /// `None` asks for the kind to be inferred.
    pub kind: Option<Kind>,
    pub intake: Intake,
    /// Check and report only; publish nothing.
    pub dry_run: bool,
    /// When the upload's time is up: reading, checking and indexing stop there.
    pub deadline: Deadline,
}

pub enum Outcome {
    /// A dry run: what publishing would say.
    Checked(Box<Report>),
    Published {
        record: Box<VersionRecord>,
        layer: Arc<Layer>,
        report: Box<Report>,
    },
}

/// The store and the limits uploads are held to, and which layers have a write under way.
pub struct Uploads {
    /// Also where the token file is.
    pub store: LayerStore,
    pub max_bytes: u64,
    /// The most memory one uploaded layer may take once decoded.
    pub max_layer_bytes: u64,
    /// How long one upload may take from its first byte to its answer (receiving, reading,
    /// checking, indexing), so neither a stalled client nor a file built to be slow holds a
    /// write slot or a worker for long.
    pub timeout: std::time::Duration,
    /// Layers with a write in progress: a second concurrent write gets 409.
    busy: Mutex<HashSet<String>>,
}

impl Uploads {
    pub fn new(args: &ServeArgs) -> Uploads {
        Uploads {
            store: LayerStore::new(&args.store, args.keep_versions),
            max_bytes: args.max_upload_mb.saturating_mul(1 << 20),
            max_layer_bytes: args.max_layer_mb.saturating_mul(1 << 20),
            timeout: std::time::Duration::from_secs(args.upload_timeout_secs),
            busy: Mutex::new(HashSet::new()),
        }
    }

    /// What a file of `len` bytes may decode to: generous for real data (100k points take
    /// 1.8× their FlatGeobuf, a dense CSV up to ~12×), small for a file built to explode.
    pub fn memory_budget(&self, len: u64) -> Budget {
        let proportional = (64u64 << 20).saturating_add(len.saturating_mul(32));
        Budget::bytes(proportional.min(self.max_layer_bytes))
    }

    /// The layer's write slot, held until dropped; 409 while another write holds it.
    pub fn write_slot(self: &Arc<Self>, id: &str) -> Result<WriteSlot, ApiError> {
        let mut busy = self
            .busy
            .lock()
            .map_err(|_| ApiError::Internal("write lock poisoned".into()))?;
        if !busy.insert(id.to_string()) {
            return Err(ApiError::Conflict(format!(
                "another write to layer {id:?} is in progress; retry when it ends"
            )));
        }
        Ok(WriteSlot {
            uploads: self.clone(),
            id: id.to_string(),
        })
    }
}

/// Holds a layer's write slot until dropped.
pub struct WriteSlot {
    uploads: Arc<Uploads>,
    id: String,
}

impl Drop for WriteSlot {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.uploads.busy.lock() {
            busy.remove(&self.id);
        }
    }
}

/// ENOSPC and EDQUOT are the client's business (507: nothing was published); anything else
/// is the server's.
pub fn storage_error(e: std::io::Error) -> ApiError {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    if matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT)) {
        ApiError::InsufficientStorage
    } else {
        ApiError::Internal(format!("storing the upload failed: {e}"))
    }
}

/// A reader's refusal as the client sees it.
fn source_error(e: SourceError) -> ApiError {
    match e {
        SourceError::OverBudget(limit) => ApiError::LayerTooLarge(limit),
        SourceError::DeadlineExceeded(secs) => ApiError::DeadlineExceeded(secs),
        SourceError::Io(e) => storage_error(e),
        e => ApiError::BadUpload(e.to_string()),
    }
}

/// Publishes a received file (blocking: the handler runs it off the async workers). The
/// caller holds the layer's [`WriteSlot`].
pub fn publish(
    uploads: &Uploads,
    catalog: &Catalog,
    mut incoming: Incoming,
    format: Format,
    request: UploadRequest,
    agency: &str,
) -> Result<Outcome, ApiError> {
    incoming.finish().map_err(storage_error)?;
    let deadline = request.deadline;
    let budget = uploads.memory_budget(incoming.bytes()).until(deadline);
    let set = source::read_file(incoming.path(), format, &request.intake.read, budget)
        .map_err(source_error)?;
    let mut meta = request.meta;
    deadline.check().map_err(source_error)?;
    let (set, report) = prepare(set, &mut meta, request.kind, &request.intake.fields);
    deadline.check().map_err(source_error)?;
    // A dry run reports either way (the report is what the agency asked for), with every
    // check a publish makes.
    if request.dry_run {
        let mut report = report;
        if let Err(e) = check_classify(&meta, &set) {
            report.add_error(Some("classify"), e.to_string());
        }
        return Ok(Outcome::Checked(Box::new(report)));
    }
    if !report.is_valid() {
        return Err(ApiError::ProtocolViolation(Box::new(report)));
    }
    check_classify(&meta, &set)?;
    let features = set.features.len();
    let layer = Layer::build(meta.clone(), set, incoming.content_hash());
    // Indexing cannot be stopped half-way; an upload that ran past its time is still
    // refused before anything is stored.
    deadline.check().map_err(source_error)?;
    let intake = Intake {
        format: Some(format),
        ..request.intake
    };
    let record = uploads
        .store
        .save(
            &meta,
            incoming,
            format.extension(),
            agency,
            features,
            &intake,
        )
        .map_err(storage_error)?;
    let layer = Arc::new(layer);
    catalog.publish(layer.clone());
    Ok(Outcome::Published {
        record: Box::new(record),
        layer,
        report: Box::new(report),
    })
}

/// Normalises and checks a decoded file for its kind, and settles the metadata that follows
/// from the kind: the classifying property and the list properties.
pub fn prepare(
    mut set: FeatureSet,
    meta: &mut LayerMeta,
    kind: Option<Kind>,
    fields: &FieldMapping,
) -> (FeatureSet, Report) {
    let report = protocol::prepare(&mut set, kind, fields);
    meta.kind = report.kind.to_string();
    let has = |name: &str| set.field_index(name).is_some();
    if meta.classify.is_none() {
        meta.classify = match report.kind {
            "occurrences" if has("primary_commodity") => Some("primary_commodity".into()),
            "occurrences" if has("commodities") => Some("commodities".into()),
            "geology" if has("lithology") => Some("lithology".into()),
            "geology" if has("age") => Some("age".into()),
            _ => None,
        };
    }
    if report.kind == "occurrences" {
        for list in ["commodities", "minerals"] {
            if has(list) && !meta.lists.iter().any(|l| l == list) {
                meta.lists.push(list.to_string());
            }
        }
    }
    (set, report)
}

fn check_classify(meta: &LayerMeta, set: &FeatureSet) -> Result<(), ApiError> {
    match &meta.classify {
        Some(classify) if set.field_index(classify).is_none() => Err(ApiError::invalid(
            "classify",
            format!("the file has no property {classify:?}"),
        )),
        _ => Ok(()),
    }
}

/// Publishes a kept version again: read and indexed first, so the manifest only moves once
/// the version is known to load. `None` if the version is not kept.
pub fn restore(
    uploads: &Uploads,
    catalog: &Catalog,
    id: &str,
    version: u64,
) -> Result<Option<Arc<Layer>>, ApiError> {
    let Some((record, path)) = uploads
        .store
        .kept(id, version)
        .map_err(|e| ApiError::Internal(e.to_string()))?
    else {
        return Ok(None);
    };
    let layer = load_stored(record, &path)
        .map_err(|e| ApiError::Internal(format!("stored version unreadable: {e}")))?;
    uploads
        .store
        .restore(id, version)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let layer = Arc::new(layer);
    catalog.publish(layer.clone());
    Ok(Some(layer))
}

/// The store's published layers, for start-up; a layer whose file fails to load is skipped
/// with an error in the log, like a bad file in `data/`.
pub fn load_published(store: &LayerStore) -> std::io::Result<Vec<Arc<Layer>>> {
    let mut layers = Vec::new();
    for (record, path) in store.published()? {
        let id = record.meta.id.clone();
        match load_stored(record, &path) {
            Ok(layer) => layers.push(Arc::new(layer)),
            Err(e) => tracing::error!("skipped stored layer {id} ({}): {e}", path.display()),
        }
    }
    Ok(layers)
}

/// A stored version, read the way it was uploaded and prepared again with its metadata.
fn load_stored(record: VersionRecord, path: &Path) -> Result<Layer, source::SourceError> {
    let contents = source::read_path_with(path, &record.intake.read)?;
    let mut meta = record.meta;
    let kind = Kind::parse(&meta.kind);
    let (set, report) = prepare(contents.features, &mut meta, kind, &record.intake.fields);
    if let Some(problem) = report.first_error() {
        return Err(source::SourceError::InvalidFeature {
            feature: problem.feature.unwrap_or(0),
            reason: problem.reason.clone(),
        });
    }
    Ok(Layer::build(meta, set, contents.content_hash))
}
