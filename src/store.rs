//! Durable files in the store directory. Everything written there goes through
//! [`write_atomic`]: a crash leaves either the old file or the new one, never half of either.

use std::io::Write;
use std::path::{Path, PathBuf};

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
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        // The store is the server's own: token hashes and agency data are not for other users.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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

/// Uploaded layers: `layers/{id}/v{n}.{ext}` (immutable), `layers/{id}/manifest.json` (the
/// versions and which one is published), and an append-only `audit.log` of every write attempt.
pub struct LayerStore {
    root: PathBuf,
    /// Versions kept per layer; older files are deleted after a new one is safely published.
    keep: usize,
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

    /// Stores `bytes` as the next version and publishes it in the manifest. The new file is
    /// durable before the manifest points at it, so a crash leaves the previous version current.
    pub fn save(
        &self,
        meta: &LayerMeta,
        bytes: &[u8],
        ext: &str,
        agency: &str,
        features: usize,
    ) -> std::io::Result<VersionRecord> {
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
        write_atomic(&self.layer_dir(id).join(&file), bytes)?;
        let record = VersionRecord {
            version,
            file,
            agency: agency.to_string(),
            created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            features,
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
            meta: meta.clone(),
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
            let _ = std::fs::remove_file(self.layer_dir(id).join(old.file));
        }
        Ok(record)
    }

    /// Makes a kept version the published one again; `None` if it is not kept.
    pub fn restore(
        &self,
        id: &str,
        version: u64,
    ) -> std::io::Result<Option<(VersionRecord, PathBuf)>> {
        let mut manifest = self.manifest(id)?;
        let Some(record) = manifest
            .versions
            .iter()
            .find(|v| v.version == version)
            .cloned()
        else {
            return Ok(None);
        };
        manifest.current = Some(version);
        self.write_manifest(id, &manifest)?;
        let path = self.layer_dir(id).join(&record.file);
        Ok(Some((record, path)))
    }

    /// Withdraws a layer from publication; its versions stay on disk.
    pub fn retire(&self, id: &str) -> std::io::Result<bool> {
        let mut manifest = self.manifest(id)?;
        let was_published = manifest.current.take().is_some();
        self.write_manifest(id, &manifest)?;
        Ok(was_published)
    }

    /// The published version of every stored layer, with its file's path.
    pub fn published(&self) -> std::io::Result<Vec<(VersionRecord, PathBuf)>> {
        let dir = self.root.join("layers");
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        let mut ids: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        ids.sort();
        for id in ids {
            let manifest = self.manifest(&id)?;
            if let Some(current) = manifest.current
                && let Some(record) = manifest.versions.into_iter().find(|v| v.version == current)
            {
                let path = self.layer_dir(&id).join(&record.file);
                out.push((record, path));
            }
        }
        Ok(out)
    }

    /// Appends one JSON line to the audit log and syncs it.
    pub fn audit(&self, entry: &serde_json::Value) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.root)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join("audit.log"))?;
        let mut line = entry.to_string();
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
