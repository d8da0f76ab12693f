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

    /// The empty tile (most of a map's ocean), made once and shared: asked for on every
    /// uncached empty tile, it would otherwise hash and format its ETag each time.
    pub fn empty() -> Arc<EncodedTile> {
        static EMPTY: std::sync::LazyLock<Arc<EncodedTile>> =
            std::sync::LazyLock::new(|| Arc::new(EncodedTile::new(Vec::new())));
        EMPTY.clone()
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
///
/// `quick_cache` rather than `moka` (which the server's other, small caches use): a cached
/// tile is the server's most frequent answer and its lookup its largest own cost. moka records
/// every read in a channel for its eviction policy and settles it later (4% of the server's
/// CPU at 50,000 cached tiles per second, profiled); quick_cache's CLOCK-Pro marks the entry
/// under a shard's read lock and is done.
#[derive(Clone)]
pub struct TileCache {
    inner: Option<Arc<Tiles>>,
}

type Tiles = quick_cache::sync::Cache<
    TileKey,
    Arc<EncodedTile>,
    TileWeight,
    foldhash::fast::RandomState,
    CountEvictions,
>;

/// An entry weighs its bytes (both encodings) plus a little for the entry itself.
#[derive(Clone)]
struct TileWeight;

impl quick_cache::Weighter<TileKey, Arc<EncodedTile>> for TileWeight {
    fn weight(&self, _key: &TileKey, tile: &Arc<EncodedTile>) -> u64 {
        (tile.raw.len() + tile.gzip.len() + 64) as u64
    }
}

/// Counts evictions for `/metrics`.
#[derive(Clone, Default)]
struct CountEvictions;

impl quick_cache::Lifecycle<TileKey, Arc<EncodedTile>> for CountEvictions {
    type RequestState = ();

    fn on_evict(&self, _state: &mut (), _key: TileKey, _tile: Arc<EncodedTile>) {
        metrics::counter!("amis_tile_cache_evictions_total").increment(1);
    }
}

/// A guess at the mean entry (a mid-zoom tile in both encodings), which sizes the cache's
/// tables and its memory of recently evicted keys; more entries than this still fit.
const TYPICAL_TILE_BYTES: u64 = 16 * 1024;

impl TileCache {
    pub fn new(max_bytes: u64) -> TileCache {
        let inner = (max_bytes > 0).then(|| {
            let items = (max_bytes / TYPICAL_TILE_BYTES).clamp(64, 1 << 20) as usize;
            Arc::new(Tiles::with(
                items,
                max_bytes,
                TileWeight,
                foldhash::fast::RandomState::default(),
                CountEvictions,
            ))
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

    /// Entries and bytes held.
    pub fn usage(&self) -> (u64, u64) {
        self.inner
            .as_ref()
            .map_or((0, 0), |cache| (cache.len() as u64, cache.weight()))
    }

    pub fn insert(&self, key: TileKey, tile: Arc<EncodedTile>) {
        if let Some(cache) = &self.inner {
            cache.insert(key, tile);
        }
    }
}
