//! A point layer's zoom pyramid: per zoom, the points thinned to one per grid cell, worked out
//! once when the layer is built, so a low-zoom tile of a dense layer reads a few thousand
//! cells instead of walking every point under it on every request.
//!
//! The grid is the one tiles are thinned on ([`super::cut`]): 64 tile units (4 pixels of a
//! 256-pixel tile), a cell of zoom `z` being four cells of zoom `z + 1`. Each cell keeps its
//! first point (the lowest feature id) and how many points it holds. A tile whose cells hold
//! more than [`super::cut::MAX_POINTS_PER_TILE`] points is drawn from them; any other tile is
//! cut from the points themselves, exactly as without a pyramid.

use super::{EXTENT, TileId, mercator};

/// Tile units per grid cell (a power of two dividing [`EXTENT`]).
pub const CELL: i64 = 64;
/// Cells per tile side.
const CELLS_PER_TILE: i64 = EXTENT as i64 / CELL;
/// The deepest zoom with a level; tiles beyond it are cut from the points (there are few
/// per tile there, and clients overzoom past 14 anyway).
pub const MAX_LEVEL: u8 = 14;
/// A level is kept while it has at most one cell per this many points.
const MAX_CELLS_PER_POINT_DIVISOR: usize = 2;
/// Layers with fewer points never have a tile to thin.
const MIN_POINTS: usize = super::cut::MAX_POINTS_PER_TILE + 1;

/// One occupied grid cell: row-major key (`row << 32 | column`), its first point's position
/// in the layer, and how many points it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    key: u64,
    pub first: u32,
    pub count: u32,
}

impl Cell {
    fn key(row: i64, column: i64) -> u64 {
        ((row as u64) << 32) | column as u64
    }
}

/// Occupied cells of one zoom, sorted by key.
#[derive(Debug, Default)]
pub struct Level {
    cells: Vec<Cell>,
}

/// The levels of zooms `0..=MAX_LEVEL`, or none for a layer too small to need them.
#[derive(Debug, Default)]
pub struct PointPyramid {
    levels: Vec<Level>,
}

impl PointPyramid {
    /// Builds the levels from the points' longitude/latitude, in layer order (so a cell's
    /// first point is the lowest feature id). O(n log n) for the deepest level, then each
    /// coarser level from the one below.
    pub fn build(points: &[(f64, f64)]) -> PointPyramid {
        if points.len() < MIN_POINTS {
            return PointPyramid::default();
        }
        let scale = f64::from(1u32 << MAX_LEVEL) * f64::from(EXTENT);
        let mut keyed: Vec<(u64, u32)> = points
            .iter()
            .enumerate()
            .map(|(pos, &(lon, lat))| {
                let (u, v) = mercator(lon, lat);
                let cell = |t: f64| ((t * scale).round() as i64).div_euclid(CELL);
                (Cell::key(cell(v), cell(u)), pos as u32)
            })
            .collect();
        keyed.sort_unstable();
        let mut deepest: Vec<Cell> = Vec::new();
        for (key, pos) in keyed {
            match deepest.last_mut() {
                Some(cell) if cell.key == key => cell.count += 1,
                _ => deepest.push(Cell {
                    key,
                    first: pos,
                    count: 1,
                }),
            }
        }
        let mut levels = vec![Level { cells: deepest }];
        for _ in 0..MAX_LEVEL {
            let finer = &levels[levels.len() - 1].cells;
            let mut coarser: Vec<Cell> = finer
                .iter()
                .map(|c| Cell {
                    key: Cell::key((c.key >> 33) as i64, ((c.key & 0xffff_ffff) >> 1) as i64),
                    ..*c
                })
                .collect();
            coarser.sort_unstable_by_key(|c| c.key);
            coarser.dedup_by(|next, kept| {
                if next.key == kept.key {
                    kept.count += next.count;
                    kept.first = kept.first.min(next.first);
                    true
                } else {
                    false
                }
            });
            levels.push(Level { cells: coarser });
        }
        levels.reverse();
        // A level with a cell for most points thins almost nothing: a tile there is cut as
        // fast from the points, and the level would cost 16 bytes a point. Left empty.
        for level in &mut levels {
            if level.cells.len() > points.len() / MAX_CELLS_PER_POINT_DIVISOR {
                level.cells = Vec::new();
            }
        }
        PointPyramid { levels }
    }

    /// Cells held, over every level: the pyramid's size is this times 16 bytes.
    pub fn cells(&self) -> usize {
        self.levels.iter().map(|l| l.cells.len()).sum()
    }

    /// The occupied cells covering `tile` and its buffer, and the points they hold; `None`
    /// where there is no level (small layer, deeper than [`MAX_LEVEL`], or a zoom where
    /// cells would be nearly as many as points).
    pub fn cells_for(&self, tile: TileId) -> Option<(Vec<Cell>, u64)> {
        let level = self.levels.get(usize::from(tile.z))?;
        if level.cells.is_empty() {
            return None;
        }
        let buffer = i64::from(super::BUFFER) / CELL;
        let last = (1i64 << tile.z) * CELLS_PER_TILE - 1;
        let span = |t: u32| {
            let first = i64::from(t) * CELLS_PER_TILE - buffer;
            (
                first.max(0),
                (first + CELLS_PER_TILE + 2 * buffer - 1).min(last),
            )
        };
        let (columns, rows) = (span(tile.x), span(tile.y));
        let mut out = Vec::new();
        let mut total = 0u64;
        for row in rows.0..=rows.1 {
            let start = level
                .cells
                .partition_point(|c| c.key < Cell::key(row, columns.0));
            for cell in level.cells[start..]
                .iter()
                .take_while(|c| c.key <= Cell::key(row, columns.1))
            {
                total += u64::from(cell.count);
                out.push(*cell);
            }
        }
        Some((out, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every point of a level is counted once, and each cell's first point is the lowest
    /// position among the points that fall in it.
    #[test]
    fn levels_count_every_point_once() {
        let points: Vec<(f64, f64)> = (0..20_000)
            .map(|i| {
                let f = f64::from(i);
                (
                    100.0 + (f * 0.618).fract() * 20.0,
                    -5.0 + (f * 0.414).fract() * 20.0,
                )
            })
            .collect();
        let pyramid = PointPyramid::build(&points);
        assert_eq!(pyramid.levels.len(), usize::from(MAX_LEVEL) + 1);
        assert!(pyramid.cells() <= 2 * points.len());
        for level in pyramid.levels.iter().filter(|l| !l.cells.is_empty()) {
            let total: u64 = level.cells.iter().map(|c| u64::from(c.count)).sum();
            assert_eq!(total, 20_000);
            assert!(level.cells.windows(2).all(|w| w[0].key < w[1].key));
        }
        // The whole world is one tile at zoom 0: every cell is in it.
        let (cells, total) = pyramid
            .cells_for(TileId { z: 0, x: 0, y: 0 })
            .expect("level 0");
        assert_eq!(total, 20_000);
        assert_eq!(cells.len(), pyramid.levels[0].cells.len());
        assert!(pyramid.cells_for(TileId { z: 15, x: 0, y: 0 }).is_none());
        assert!(
            PointPyramid::build(&points[..100])
                .cells_for(TileId { z: 0, x: 0, y: 0 })
                .is_none()
        );
    }

    /// Levels with a cell for more than every second point are not kept: for scattered
    /// points the deep ones, never the coarsest.
    #[test]
    fn levels_with_a_cell_for_most_points_are_left_empty() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let points: Vec<(f64, f64)> = (0..5_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let a = (state >> 11) as f64 / (1u64 << 53) as f64;
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let b = (state >> 11) as f64 / (1u64 << 53) as f64;
                (100.0 + a * 10.0, b * 10.0)
            })
            .collect();
        let pyramid = PointPyramid::build(&points);
        assert!(pyramid.levels[usize::from(MAX_LEVEL)].cells.is_empty());
        assert!(!pyramid.levels[0].cells.is_empty());
        assert!(
            pyramid
                .levels
                .iter()
                .all(|l| l.cells.len() <= points.len() / 2)
        );
        assert!(
            pyramid
                .cells_for(TileId::containing(MAX_LEVEL, points[0].0, points[0].1))
                .is_none()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A tile's cells are exactly the level's cells whose rows and columns fall within the
        /// tile and its one-cell buffer: checked against a scan of the whole level.
        #[test]
        fn a_tiles_cells_are_those_of_its_buffered_square(
            seed in 0u64..1_000,
            z in 0u8..=MAX_LEVEL,
        ) {
            let points: Vec<(f64, f64)> = (0..5_000u64)
                .map(|i| {
                    let h = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    let a = (h >> 11) as f64 / (1u64 << 53) as f64;
                    let b = ((h.rotate_left(29)) >> 11) as f64 / (1u64 << 53) as f64;
                    (100.0 + a * 10.0, b * 10.0)
                })
                .collect();
            let pyramid = PointPyramid::build(&points);
            let (lon, lat) = points[(seed as usize) % points.len()];
            let tile = TileId::containing(z, lon, lat);
            let level = &pyramid.levels[usize::from(z)];
            // Deep levels, with a cell for most points, are left empty: no cells there.
            let Some((cells, total)) = pyramid.cells_for(tile) else {
                prop_assert!(level.cells.is_empty());
                return Ok(());
            };
            let inside = |c: &&Cell| {
                let (row, column) = ((c.key >> 32) as i64, (c.key & 0xffff_ffff) as i64);
                let near = |cell: i64, t: u32| {
                    let first = i64::from(t) * CELLS_PER_TILE;
                    cell >= first - 1 && cell <= first + CELLS_PER_TILE
                };
                near(row, tile.y) && near(column, tile.x)
            };
            let expected: Vec<Cell> = level.cells.iter().filter(inside).copied().collect();
            prop_assert_eq!(total, expected.iter().map(|c| u64::from(c.count)).sum::<u64>());
            prop_assert_eq!(cells, expected);
        }
    }
}
