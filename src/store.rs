//! Durable files in the store directory. Small files (manifests, tokens) are replaced with
//! [`write_atomic`]; an upload is received in `incoming/` and renamed into place. Either way a
//! crash leaves the old file or the new one, never half of either.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::catalog::LayerMeta;

/// Writes `bytes` to `path` (mode 0600) via a temporary file in the same directory: write,
/// fsync, rename over the target, then fsync the directory so the rename survives a power cut.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("path has no parent directory"))?;
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = private_file().create(true).truncate(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Makes a rename in `dir` survive a power cut.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Options for a new file only the server's user may read: token hashes and agency data are
/// not for other users of the machine.
fn private_file() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// The longest line the audit log takes.
pub const MAX_AUDIT_ENTRY: usize = 4096;

/// Where upload bodies are received, inside the store so that publishing is a rename.
const INCOMING: &str = "incoming";

/// An upload's body on its way in: written to the store's `incoming/` directory and hashed
/// as it arrives, so it is never held in memory whole. [`LayerStore::save`] moves it into
/// place; dropped before that (refused, interrupted), the file is deleted.
pub struct Incoming {
    path: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    bytes: u64,
    sha256: sha2::Sha256,
    xxh3: xxhash_rust::xxh3::Xxh3,
    stored: bool,
}

impl Incoming {
    pub fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        use sha2::Digest;
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the upload was already finished"))?;
        file.write_all(chunk)?;
        self.sha256.update(chunk);
        self.xxh3.update(chunk);
        self.bytes += chunk.len() as u64;
        Ok(())
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Where the body is on disk (readers that need random access open it by path).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn sha256_hex(&self) -> String {
        use sha2::Digest;
        crate::auth::hex(&self.sha256.clone().finalize())
    }

    /// The xxh3 of the body: the layer's version, as for a file loaded from `data/`.
    pub fn content_hash(&self) -> u64 {
        self.xxh3.digest()
    }

    /// Flushes and fsyncs what was received (once), and opens it for reading from the start.
    pub fn finish(&mut self) -> std::io::Result<std::fs::File> {
        if let Some(writer) = self.file.take() {
            writer
                .into_inner()
                .map_err(|e| e.into_error())?
                .sync_all()?;
        }
        std::fs::File::open(&self.path)
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if !self.stored {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Uploaded layers: `layers/{id}/v{n}.{ext}` (immutable), `layers/{id}/manifest.json` (the
/// versions and which one is published), and an append-only `audit.log` of every write attempt.
pub struct LayerStore {
    root: PathBuf,
    /// Versions kept per layer; older files are deleted after a new one is safely published.
    keep: usize,
}

/// How a stored version is to be read again: its format, reading options and column mapping,
/// and the kind the agency declared (`None`: inferred from the file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Intake {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<crate::source::Format>,
    #[serde(default)]
    pub read: crate::source::ReadOptions,
    #[serde(default)]
    pub fields: crate::protocol::FieldMapping,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionRecord {
    pub version: u64,
    pub file: String,
    pub agency: String,
    pub created: String,
    pub features: usize,
    pub bytes: u64,
    pub sha256: String,
    pub meta: LayerMeta,
    /// Absent in versions stored before uploads took options: read those with defaults.
    #[serde(default)]
    pub intake: Intake,
    /// The memory the version takes once decoded (0 in versions stored before quotas).
    #[serde(default)]
    pub decoded_bytes: u64,
}

/// What a version decoded to: its features and the memory they take.
#[derive(Debug, Clone, Copy)]
pub struct Decoded {
    pub features: usize,
    pub bytes: u64,
}

/// What the store publishes: each layer's current version and file, and the layers whose
/// manifest is damaged, with why.
#[derive(Debug, Default)]
pub struct Published {
    pub versions: Vec<(VersionRecord, PathBuf)>,
    pub damaged: Vec<(String, String)>,
}

/// What an agency holds in the store, to hold it to its quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Layers whose published version the agency uploaded.
    pub layers: u64,
    /// Bytes of every kept version the agency uploaded.
    pub stored_bytes: u64,
    /// Decoded memory of the published versions the agency uploaded.
    pub decoded_bytes: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LayerManifest {
    current: Option<u64>,
    versions: Vec<VersionRecord>,
}

impl LayerStore {
    pub fn new(root: &Path, keep: usize) -> LayerStore {
        LayerStore {
            root: root.to_path_buf(),
            keep: keep.max(1),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn layer_dir(&self, id: &str) -> PathBuf {
        self.root.join("layers").join(id)
    }

    fn file_of(&self, id: &str, record: VersionRecord) -> (VersionRecord, PathBuf) {
        let path = self.layer_dir(id).join(&record.file);
        (record, path)
    }

    fn manifest(&self, id: &str) -> std::io::Result<LayerManifest> {
        match std::fs::read(self.layer_dir(id).join("manifest.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LayerManifest::default()),
            Err(e) => Err(e),
        }
    }

    fn write_manifest(&self, id: &str, manifest: &LayerManifest) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(manifest).map_err(std::io::Error::other)?;
        write_atomic(&self.layer_dir(id).join("manifest.json"), &bytes)
    }

    pub fn versions(&self, id: &str) -> std::io::Result<Vec<VersionRecord>> {
        Ok(self.manifest(id)?.versions)
    }

    /// A new file in `incoming/` for an upload's body to stream into.
    pub fn incoming(&self) -> std::io::Result<Incoming> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = self.root.join(INCOMING);
        std::fs::create_dir_all(&dir)?;
        let name = format!(
            "{}-{}.part",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        let file = private_file().create_new(true).open(&path)?;
        Ok(Incoming {
            path,
            file: Some(std::io::BufWriter::with_capacity(1 << 16, file)),
            bytes: 0,
            sha256: sha2::Sha256::default(),
            xxh3: xxhash_rust::xxh3::Xxh3::new(),
            stored: false,
        })
    }

    /// Deletes upload bodies that a crash or a kill left half-received; called at start-up.
    pub fn discard_incoming(&self) -> std::io::Result<usize> {
        let entries = match std::fs::read_dir(self.root.join(INCOMING)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Moves a received upload into place as the next version and publishes it in the
    /// manifest. The file is durable (fsync, rename, fsync of the directory) before the
    /// manifest points at it, so a crash leaves the previous version current.
    pub fn save(
        &self,
        meta: &LayerMeta,
        mut incoming: Incoming,
        ext: &str,
        agency: &str,
        decoded: Decoded,
        intake: &Intake,
    ) -> std::io::Result<VersionRecord> {
        incoming.finish()?;
        let id = &meta.id;
        let mut manifest = self.manifest(id)?;
        let version = manifest
            .versions
            .iter()
            .map(|v| v.version)
            .max()
            .unwrap_or(0)
            + 1;
        let file = format!("v{version}.{ext}");
        let dir = self.layer_dir(id);
        std::fs::create_dir_all(&dir)?;
        std::fs::rename(&incoming.path, dir.join(&file))?;
        incoming.stored = true;
        sync_dir(&dir)?;
        let record = VersionRecord {
            version,
            file,
            agency: agency.to_string(),
            created: crate::server::now_rfc3339(),
            features: decoded.features,
            bytes: incoming.bytes,
            sha256: incoming.sha256_hex(),
            meta: meta.clone(),
            intake: intake.clone(),
            decoded_bytes: decoded.bytes,
        };
        manifest.versions.push(record.clone());
        manifest.current = Some(version);
        let dropped: Vec<VersionRecord> = if manifest.versions.len() > self.keep {
            manifest
                .versions
                .drain(..manifest.versions.len() - self.keep)
                .collect()
        } else {
            Vec::new()
        };
        self.write_manifest(id, &manifest)?;
        for old in dropped {
            let _ = std::fs::remove_file(dir.join(old.file));
        }
        Ok(record)
    }

    /// A kept version and its file; `None` if it is not kept.
    pub fn kept(
        &self,
        id: &str,
        version: u64,
    ) -> std::io::Result<Option<(VersionRecord, PathBuf)>> {
        Ok(self
            .versions(id)?
            .into_iter()
            .find(|v| v.version == version)
            .map(|record| self.file_of(id, record)))
    }

    /// Makes a kept version the published one again; `false` if it is not kept.
    pub fn restore(&self, id: &str, version: u64) -> std::io::Result<bool> {
        let mut manifest = self.manifest(id)?;
        if !manifest.versions.iter().any(|v| v.version == version) {
            return Ok(false);
        }
        manifest.current = Some(version);
        self.write_manifest(id, &manifest)?;
        Ok(true)
    }

    /// Withdraws a layer from publication; its versions stay on disk.
    pub fn retire(&self, id: &str) -> std::io::Result<bool> {
        let mut manifest = self.manifest(id)?;
        let was_published = manifest.current.take().is_some();
        self.write_manifest(id, &manifest)?;
        Ok(was_published)
    }

    /// What `agency` holds: its published layers and their decoded memory, and the bytes
    /// of every version it uploaded that is kept. The published version of `replacing` (the
    /// layer an upload would replace) is not counted as a layer or as memory; its files are.
    /// A layer whose manifest cannot be read counts for nothing.
    pub fn usage(&self, agency: &str, replacing: &str) -> std::io::Result<Usage> {
        let mut usage = Usage::default();
        for id in self.layer_ids()? {
            let Ok(manifest) = self.manifest(&id) else {
                continue;
            };
            for v in manifest.versions.iter().filter(|v| v.agency == agency) {
                usage.stored_bytes = usage.stored_bytes.saturating_add(v.bytes);
                if manifest.current == Some(v.version) && id != replacing {
                    usage.layers += 1;
                    usage.decoded_bytes = usage.decoded_bytes.saturating_add(v.decoded_bytes);
                }
            }
        }
        Ok(usage)
    }

    /// The ids of every stored layer, sorted.
    fn layer_ids(&self) -> std::io::Result<Vec<String>> {
        let entries = match std::fs::read_dir(self.root.join("layers")) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut ids: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The published version of every stored layer, with its file's path. A manifest that
    /// cannot be read (truncated by a full disk, edited by hand) takes out its own layer
    /// only: it is listed in [`Published::damaged`] with the reason.
    pub fn published(&self) -> std::io::Result<Published> {
        let mut out = Published::default();
        for id in self.layer_ids()? {
            let manifest = match self.manifest(&id) {
                Ok(manifest) => manifest,
                Err(e) => {
                    out.damaged
                        .push((id, format!("its manifest.json cannot be read: {e}")));
                    continue;
                }
            };
            if let Some(current) = manifest.current
                && let Some(record) = manifest.versions.into_iter().find(|v| v.version == current)
            {
                out.versions.push(self.file_of(&id, record));
            }
        }
        Ok(out)
    }

    /// Appends one JSON line to the audit log and syncs it. An entry longer than
    /// [`MAX_AUDIT_ENTRY`] bytes is cut and marked, so no request can grow the log by more.
    pub fn audit(&self, entry: &serde_json::Value) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.root)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join("audit.log"))?;
        let mut line = entry.to_string();
        // Cut after escaping, and again if wrapping the cut text escaped it further.
        let mut keep = MAX_AUDIT_ENTRY - 64;
        while line.len() > MAX_AUDIT_ENTRY {
            let text = entry.to_string();
            let cut = (0..=keep.min(text.len()))
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            line = serde_json::json!({ "truncated": true, "entry": &text[..cut] }).to_string();
            keep /= 2;
        }
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporaries() {
        let dir = std::env::temp_dir().join(format!("amis-store-{}", std::process::id()));
        let path = dir.join("nested").join("f.json");
        write_atomic(&path, b"one").expect("first write");
        write_atomic(&path, b"two").expect("second write");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
