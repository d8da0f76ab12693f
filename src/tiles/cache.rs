//! Encoded tiles, compressed once and cached as bytes.
//!
//! Compression happens when a tile is made, never per request; a cache hit is a
//! map lookup and a reference-count increment.

use std::sync::Arc;

use bytes::Bytes;

use super::TileId;

pub struct EncodedTile {
    pub raw: Bytes,
    /// Empty when the tile is empty.
    pub gzip: Bytes,
    /// Strong validator over the uncompressed bytes, ready to send: a cache hit builds no
    /// header.
    pub etag: axum::http::HeaderValue,
}

impl EncodedTile {
    /// Fast gzip: the uncached path pays for it once; level 6 would take ~4x longer for ~10% less.
    pub fn new(raw: Vec<u8>) -> EncodedTile {
        let gzip = if raw.is_empty() {
            Vec::new()
        } else {
            crate::gzip::compress_fast(&raw)
        };
        let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&raw));
        // Hex digits in quotes are always a valid header value.
        let etag = axum::http::HeaderValue::from_str(&etag)
            .unwrap_or(axum::http::HeaderValue::from_static("\"0\""));
        EncodedTile {
            raw: raw.into(),
            gzip: gzip.into(),
            etag,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// Identifies a tile of a particular version of its layers: a new layer version is a
/// new key, so a replaced layer is never served from stale cache entries.
///
/// The layer list is held as its 128-bit hash rather than as text, so that looking a tile up
/// allocates nothing (the list is only known as the request's path segment). Two lists would
/// share a key only on a 128-bit collision.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    layers: u128,
    versions: u64,
    tile: TileId,
}

impl TileKey {
    /// The key of `tile` of the layer list `spec` (as requested: `a,b,c`) whose layers have
    /// the given versions, in order.
    pub fn new(spec: &str, versions: impl IntoIterator<Item = u64>, tile: TileId) -> TileKey {
        TileKey {
            layers: xxhash_rust::xxh3::xxh3_128(spec.as_bytes()),
            versions: versions.into_iter().fold(0u64, |h, v| h.rotate_left(7) ^ v),
            tile,
        }
    }
}

/// A size-bounded cache (bytes, not entries), or none when configured to 0.
#[derive(Clone)]
pub struct TileCache {
    inner: Option<moka::sync::Cache<TileKey, Arc<EncodedTile>, foldhash::fast::RandomState>>,
}

impl TileCache {
    pub fn new(max_bytes: u64) -> TileCache {
        let inner = (max_bytes > 0).then(|| {
            // Keys are hashes and tile numbers already: foldhash rather than SipHash.
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_k, v: &Arc<EncodedTile>| {
                    (v.raw.len() + v.gzip.len() + 64)
                        .try_into()
                        .unwrap_or(u32::MAX)
                })
                .eviction_listener(|_, _, cause| {
                    if cause == moka::notification::RemovalCause::Size {
                        metrics::counter!("amis_tile_cache_evictions_total").increment(1);
                    }
                })
                .build_with_hasher(foldhash::fast::RandomState::default())
        });
        TileCache { inner }
    }

    pub fn get(&self, key: &TileKey) -> Option<Arc<EncodedTile>> {
        // Handles made once: a lookup by labels per request costs as much as the hit.
        static HITS: std::sync::LazyLock<metrics::Counter> = std::sync::LazyLock::new(
            || metrics::counter!("amis_tile_cache_requests_total", "result" => "hit"),
        );
        static MISSES: std::sync::LazyLock<metrics::Counter> = std::sync::LazyLock::new(
            || metrics::counter!("amis_tile_cache_requests_total", "result" => "miss"),
        );
        let hit = self.inner.as_ref().and_then(|cache| cache.get(key));
        if hit.is_some() { &HITS } else { &MISSES }.increment(1);
        hit
    }

    /// Entries and bytes held (approximate: moka settles its counts lazily).
    pub fn usage(&self) -> (u64, u64) {
        self.inner.as_ref().map_or((0, 0), |cache| {
            cache.run_pending_tasks();
            (cache.entry_count(), cache.weighted_size())
        })
    }

    pub fn insert(&self, key: TileKey, tile: Arc<EncodedTile>) {
        if let Some(cache) = &self.inner {
            cache.insert(key, tile);
        }
    }
}
