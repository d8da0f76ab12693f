//! Agency credentials. A token is shown once when created; the store keeps only its SHA-256,
//! so a leaked token file grants nothing. Presented tokens are compared against every hash in
//! constant time, and each token may write only the layer ids its scopes (globs) match.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::server::now_rfc3339;
use crate::store::write_atomic;

/// Prefix that makes tokens recognisable in logs and secret scanners.
const TOKEN_PREFIX: &str = "amis_";
/// 256 bits of OS randomness per token.
const TOKEN_BYTES: usize = 32;
const TOKENS_FILE: &str = "tokens.json";
/// Held (flock, exclusive) while the token file is read, changed and replaced, so two
/// `token` commands at once cannot undo each other's change.
const TOKENS_LOCK: &str = "tokens.lock";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read or write the token file {path}: {reason}")]
    Storage { path: PathBuf, reason: String },
    #[error("agency name must be 1-100 printable characters")]
    InvalidAgency,
    #[error("layer scope {0:?} is not a valid glob of layer ids (e.g. 'idn-*')")]
    InvalidScope(String),
    #[error("no token with id {0:?}")]
    UnknownToken(String),
    #[error("the operating system gave no randomness: {0}")]
    Randomness(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenRecord {
    /// Public, short identifier used to list and revoke; not a secret.
    pub id: String,
    pub agency: String,
    /// Globs over layer ids this token may write, e.g. `idn-*`.
    pub scopes: Vec<String>,
    /// Hex SHA-256 of the token.
    pub sha256: String,
    pub created: String,
    #[serde(default)]
    pub revoked: Option<String>,
    /// What the agency may hold; tokens made before quotas get the defaults.
    #[serde(default)]
    pub quota: Quota,
}

/// What one agency may hold on the server, set when its token is made. Past a limit an
/// upload is refused (429 for layers, 507 for bytes) with what is used and what is allowed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Quota {
    /// Layers the agency may have published at once.
    pub layers: u64,
    /// Bytes of uploaded files kept for the agency (every kept version of its layers).
    pub stored_bytes: u64,
    /// Memory the agency's published layers may take once decoded.
    pub decoded_bytes: u64,
}

impl Quota {
    /// No limits: the operator's own tools and benchmarks.
    pub const UNLIMITED: Quota = Quota {
        layers: u64::MAX,
        stored_bytes: u64::MAX,
        decoded_bytes: u64::MAX,
    };
}

/// 20 layers, 5 GiB of files, 2 GiB of decoded layers: several national compilations with
/// their kept versions, on a server of a few GiB.
impl Default for Quota {
    fn default() -> Quota {
        Quota {
            layers: 20,
            stored_bytes: 5 << 30,
            decoded_bytes: 2 << 30,
        }
    }
}

impl TokenRecord {
    pub fn may_write(&self, layer_id: &str) -> bool {
        self.revoked.is_none()
            && self
                .scopes
                .iter()
                .any(|scope| scope_matches(scope.as_bytes(), layer_id.as_bytes()))
    }
}

/// Whether a token scope matches a layer id: `*` stands for any run of characters (none
/// included), `?` for one character, anything else for itself. Scopes hold only a-z, 0-9,
/// `-`, `_`, `*` and `?` (see [`TokenStore::create`]), so this is all the glob syntax there
/// is to support. Greedy with one backtrack point: linear in practice, never exponential.
///
/// ```
/// use amis_webgis::auth::scope_matches;
/// assert!(scope_matches(b"idn-*", b"idn-occurrences"));
/// assert!(scope_matches(b"*", b"anything"));
/// assert!(scope_matches(b"phl-?", b"phl-1"));
/// assert!(!scope_matches(b"idn-*", b"phl-occurrences"));
/// assert!(!scope_matches(b"idn", b"idn-occurrences"));
/// ```
pub fn scope_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it was tried against.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                // Let the last `*` take one more character, and try again after it.
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    p = sp + 1;
                    t = st + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<TokenRecord>,
}

/// The token file of a store directory.
pub struct TokenStore {
    path: PathBuf,
    file: TokenFile,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl TokenStore {
    pub fn open(store_dir: &Path) -> Result<TokenStore, AuthError> {
        let path = store_dir.join(TOKENS_FILE);
        let storage = |reason: String| AuthError::Storage {
            path: path.clone(),
            reason,
        };
        let file = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| storage(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => TokenFile::default(),
            Err(e) => return Err(storage(e.to_string())),
        };
        Ok(TokenStore { path, file })
    }

    /// Re-reads the token file under its lock, applies `change` and writes it back, so a
    /// change made meanwhile by another process is kept, not overwritten.
    fn change<T>(
        &mut self,
        change: impl FnOnce(&mut TokenFile) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        let storage = |reason: String| AuthError::Storage {
            path: self.path.clone(),
            reason,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| storage(e.to_string()))?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(TOKENS_LOCK))
            .map_err(|e| storage(e.to_string()))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| storage(e.to_string()))?;
        let dir = dir.to_path_buf();
        *self = TokenStore::open(&dir)?;
        let out = change(&mut self.file)?;
        self.save()?;
        // The lock goes with the file handle.
        drop(lock);
        Ok(out)
    }

    fn save(&self) -> Result<(), AuthError> {
        let bytes = serde_json::to_vec_pretty(&self.file).map_err(|e| AuthError::Storage {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        write_atomic(&self.path, &bytes).map_err(|e| AuthError::Storage {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }

    pub fn tokens(&self) -> &[TokenRecord] {
        &self.file.tokens
    }

    /// Creates a token with the default [`Quota`]; see [`TokenStore::create_with`].
    pub fn create(
        &mut self,
        agency: &str,
        scopes: &[String],
    ) -> Result<(TokenRecord, String), AuthError> {
        self.create_with(agency, scopes, Quota::default())
    }

    /// Creates a token, persists its hash, and returns the record with the token itself,
    /// which exists nowhere else afterwards.
    pub fn create_with(
        &mut self,
        agency: &str,
        scopes: &[String],
        quota: Quota,
    ) -> Result<(TokenRecord, String), AuthError> {
        let agency = agency.trim();
        if agency.is_empty() || agency.len() > 100 || agency.chars().any(char::is_control) {
            return Err(AuthError::InvalidAgency);
        }
        if scopes.is_empty() {
            return Err(AuthError::InvalidScope(String::new()));
        }
        for scope in scopes {
            let ok = !scope.is_empty()
                && scope
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_*?".contains(&b));
            if !ok {
                return Err(AuthError::InvalidScope(scope.clone()));
            }
        }
        let mut secret = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut secret).map_err(|e| AuthError::Randomness(e.to_string()))?;
        let token = format!("{TOKEN_PREFIX}{}", hex(&secret));
        let mut id = [0u8; 6];
        getrandom::fill(&mut id).map_err(|e| AuthError::Randomness(e.to_string()))?;
        let record = TokenRecord {
            id: hex(&id),
            agency: agency.to_string(),
            scopes: scopes.to_vec(),
            sha256: hex(&digest(&token)),
            created: now_rfc3339(),
            revoked: None,
            quota,
        };
        self.change(|file| {
            file.tokens.push(record.clone());
            Ok(())
        })?;
        Ok((record, token))
    }

    pub fn revoke(&mut self, id: &str) -> Result<TokenRecord, AuthError> {
        self.change(|file| {
            let record = file
                .tokens
                .iter_mut()
                .find(|t| t.id == id)
                .ok_or_else(|| AuthError::UnknownToken(id.to_string()))?;
            record.revoked.get_or_insert_with(now_rfc3339);
            Ok(record.clone())
        })
    }

    /// The live record whose hash matches `presented`. Every record is compared (in constant
    /// time each), so timing reveals neither which token matched nor how much of one did.
    pub fn authenticate(&self, presented: &str) -> Option<&TokenRecord> {
        let presented = hex(&digest(presented));
        let mut found = None;
        for record in &self.file.tokens {
            if bool::from(record.sha256.as_bytes().ct_eq(presented.as_bytes()))
                && record.revoked.is_none()
            {
                found = Some(record);
            }
        }
        found
    }
}
