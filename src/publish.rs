//! The publishing use cases, one function each, shared by the HTTP handlers, start-up, the
//! command line and the benches: [`publish`] a received file, [`restore`] a kept version,
//! [`load_published`] what the store publishes. None of them knows about HTTP.
//!
//! A file is read through the guarded readers (reprojected to WGS 84), normalised and checked
//! against the data protocol, indexed off to the side, stored durably, and only then swapped
//! in; any failure leaves the served layer exactly as it was.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::auth::Quota;
use crate::catalog::{Catalog, Layer, LayerMeta};
use crate::config::ServeArgs;
use crate::error::ApiError;
use crate::feature::FeatureSet;
use crate::protocol::{self, FieldMapping, Kind, Report};
use crate::source::{self, Budget, Deadline, Format, SourceError};
pub use crate::store::Intake;
use crate::store::{Decoded, Incoming, LayerStore, Usage, VersionRecord};

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
    /// What the uploading agency may hold (its token's).
    pub quota: Quota,
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
    /// Each agency's turn to read and publish: its uploads run one at a time, so one
    /// agency's flood holds at most one intake worker.
    agency_turns: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// When a write without a valid token was last logged, per client address.
    refusals_logged: Mutex<HashMap<Option<std::net::IpAddr>, std::time::Instant>>,
}

impl Uploads {
    pub fn new(args: &ServeArgs) -> Uploads {
        Uploads {
            store: LayerStore::new(&args.store, args.keep_versions),
            max_bytes: args.max_upload_mb.saturating_mul(1 << 20),
            max_layer_bytes: args.max_layer_mb.saturating_mul(1 << 20),
            timeout: std::time::Duration::from_secs(args.upload_timeout_secs),
            busy: Mutex::new(HashSet::new()),
            agency_turns: Mutex::new(HashMap::new()),
            refusals_logged: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a refused write from `client` should be logged: the first in a minute is.
    /// Addresses not seen for a minute are forgotten, so the map stays small.
    pub fn first_refusal_this_minute(&self, client: Option<std::net::IpAddr>) -> bool {
        const MINUTE: std::time::Duration = std::time::Duration::from_secs(60);
        let now = std::time::Instant::now();
        let mut logged = self
            .refusals_logged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if logged.len() > 10_000 {
            logged.retain(|_, at| now.duration_since(*at) < MINUTE);
        }
        match logged.get(&client) {
            Some(at) if now.duration_since(*at) < MINUTE => false,
            _ => {
                logged.insert(client, now);
                true
            }
        }
    }

    /// The lock an upload of `agency` holds while its file is read, checked and published.
    pub fn agency_turn(&self, agency: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self
            .agency_turns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        turns.entry(agency.to_string()).or_default().clone()
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
    let usage = uploads
        .store
        .usage(agency, &request.meta.id)
        .map_err(storage_error)?;
    let mut over_quota = quota_before_reading(&request.quota, &usage, incoming.bytes());
    // A publish past its quota is refused before the file is read; a dry run reads on, to
    // report everything else too.
    if let Some(e) = over_quota.take_if(|_| !request.dry_run) {
        return Err(e);
    }
    let budget = uploads.memory_budget(incoming.bytes()).until(deadline);
    let set = source::read_file(incoming.path(), format, &request.intake.read, budget)
        .map_err(source_error)?;
    let mut meta = request.meta;
    deadline.check().map_err(source_error)?;
    over_quota = over_quota.or_else(|| quota_after_reading(&request.quota, &usage, &set));
    let (set, report) = prepare(set, &mut meta, request.kind, &request.intake.fields);
    deadline.check().map_err(source_error)?;
    // A dry run reports either way (the report is what the agency asked for), with every
    // check a publish makes.
    if request.dry_run {
        let mut report = report;
        if let Err(e) = check_classify(&meta, &set) {
            report.add_error(Some("classify"), e.to_string());
        }
        if let Some(e) = over_quota {
            report.add_error(None, e.to_string());
        }
        return Ok(Outcome::Checked(Box::new(report)));
    }
    if let Some(e) = over_quota {
        return Err(e);
    }
    if !report.is_valid() {
        return Err(ApiError::ProtocolViolation(Box::new(report)));
    }
    check_classify(&meta, &set)?;
    let decoded_bytes = set.decoded_bytes;
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
            Decoded {
                features,
                bytes: decoded_bytes,
            },
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

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// The quota a file of `len` bytes would break before it is read: the agency's layer count
/// (the layer it replaces left out of `usage`) or its stored bytes.
fn quota_before_reading(quota: &Quota, usage: &Usage, len: u64) -> Option<ApiError> {
    if usage.layers >= quota.layers {
        return Some(ApiError::QuotaLayers(format!(
            "the agency has {} published layers, its quota allows {}; retire one (DELETE) or replace one of its own",
            usage.layers, quota.layers
        )));
    }
    if usage.stored_bytes.saturating_add(len) > quota.stored_bytes {
        return Some(ApiError::QuotaBytes(format!(
            "the agency's kept versions take {} and this file {}, its quota allows {} of stored files",
            mib(usage.stored_bytes),
            mib(len),
            mib(quota.stored_bytes)
        )));
    }
    None
}

/// The quota the decoded file would break: the agency's decoded memory.
fn quota_after_reading(quota: &Quota, usage: &Usage, set: &FeatureSet) -> Option<ApiError> {
    (usage.decoded_bytes.saturating_add(set.decoded_bytes) > quota.decoded_bytes).then(|| {
        ApiError::QuotaBytes(format!(
            "the agency's published layers take {} of memory and this file would take {}, its quota allows {}",
            mib(usage.decoded_bytes),
            mib(set.decoded_bytes),
            mib(quota.decoded_bytes)
        ))
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
    let layer = load_stored(uploads, record, &path)
        .map_err(|e| ApiError::Internal(format!("stored version unreadable: {e}")))?;
    uploads
        .store
        .restore(id, version)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let layer = Arc::new(layer);
    catalog.publish(layer.clone());
    Ok(Some(layer))
}

/// The store's published layers, for start-up, and the layers that could not be loaded
/// (a damaged manifest, an unreadable file, one past the memory budget uploads are held
/// to) with why: each takes out only itself, like a bad file in `data/`.
pub fn load_published(uploads: &Uploads) -> std::io::Result<LoadedStore> {
    let published = uploads.store.published()?;
    let mut loaded = LoadedStore {
        layers: Vec::new(),
        degraded: published.damaged,
    };
    for (record, path) in published.versions {
        let id = record.meta.id.clone();
        match load_stored(uploads, record, &path) {
            Ok(layer) => loaded.layers.push(Arc::new(layer)),
            Err(e) => loaded.degraded.push((
                id,
                format!("its file {} cannot be loaded: {e}", path.display()),
            )),
        }
    }
    Ok(loaded)
}

/// What [`load_published`] found.
pub struct LoadedStore {
    pub layers: Vec<Arc<Layer>>,
    /// Stored layers left out, with why.
    pub degraded: Vec<(String, String)>,
}

/// A stored version, read the way it was uploaded, within the memory budget of an upload of
/// its size, and prepared again with its metadata.
fn load_stored(
    uploads: &Uploads,
    record: VersionRecord,
    path: &Path,
) -> Result<Layer, source::SourceError> {
    let budget = uploads.memory_budget(std::fs::metadata(path)?.len());
    let contents = source::read_path_with(path, &record.intake.read, budget)?;
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
