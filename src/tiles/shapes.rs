//! A line or polygon layer's zoom pyramid: per low zoom, each feature's geometry projected to
//! that zoom's tile grid and simplified at that zoom's tolerance once, when the layer is
//! built, with what collapses at that zoom left out. A z0–z5 tile then clips a few
//! thousand pre-simplified vertices instead of projecting and simplifying a full-resolution
//! coastline (or every one of 100,000 parcels) on every request.
//!
//! Coordinates are in the zoom's world grid (tile units: tile `(x, y)` spans
//! `[4096·x, 4096·(x+1)]`), so a tile only translates, clips and snaps them, and snapping
//! lands on the same integer grid as cutting from the source. Tiles of a level can differ
//! from tiles cut from the source in what simplification removed near their edges (the
//! simplification ran before clipping rather than after); the test in `tests/shapes.rs`
//! holds them to the same features and area.
//!
//! A level is kept while it holds at most half the layer's vertices: deeper zooms simplify
//! too little to pay for the memory, and are cut from the source.

use geo::Geometry;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use super::EXTENT;
use super::clip::Pt;
use super::cut::{line_collapses, ring_collapses, simplify};

/// The deepest zoom that may have a level.
pub const MAX_LEVEL: u8 = 10;
/// Layers with fewer vertices are cut from the source at every zoom: fast enough already.
const MIN_VERTICES: usize = 20_000;
/// A level may hold at most this share of the layer's vertices.
const MAX_SHARE: f64 = 0.5;

/// One feature's geometry at a level, in the level's world grid.
#[derive(Debug, Clone)]
pub enum Shape {
    Lines(Vec<Vec<Pt>>),
    /// Each polygon's rings, exterior first, closed.
    Polygons(Vec<Vec<Vec<Pt>>>),
}

impl Shape {
    fn vertices(&self) -> usize {
        match self {
            Shape::Lines(lines) => lines.iter().map(Vec::len).sum(),
            Shape::Polygons(polygons) => polygons.iter().flatten().map(Vec::len).sum(),
        }
    }

    fn envelope(&self) -> Rectangle<[f64; 2]> {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        let mut take = |pts: &[Pt]| {
            for p in pts {
                (x0, y0, x1, y1) = (x0.min(p.0), y0.min(p.1), x1.max(p.0), y1.max(p.1));
            }
        };
        match self {
            Shape::Lines(lines) => lines.iter().for_each(|l| take(l)),
            Shape::Polygons(polygons) => polygons.iter().for_each(|p| take(&p[0])),
        }
        Rectangle::from_corners([x0, y0], [x1, y1])
    }
}

/// A level's features: an R-tree over their envelopes, whose data is an index into `shapes`.
pub struct Level {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
    /// The feature's position in the layer, and its shape.
    shapes: Vec<(u32, Shape)>,
    vertices: usize,
}

impl Level {
    /// The features whose shapes may reach the tile at `(x, y)` of this level's zoom with its
    /// buffer (`margin` tile units around it), in the tree's order.
    pub fn shapes_near(&self, x: u32, y: u32, margin: f64) -> impl Iterator<Item = &(u32, Shape)> {
        let extent = f64::from(EXTENT);
        let (x0, y0) = (f64::from(x) * extent, f64::from(y) * extent);
        let query = rstar::AABB::from_corners(
            [x0 - margin, y0 - margin],
            [x0 + extent + margin, y0 + extent + margin],
        );
        self.tree
            .locate_in_envelope_intersecting(&query)
            .map(|entry| &self.shapes[entry.data as usize])
    }
}

/// Levels by zoom (`None` where a zoom has none), and the layer's vertex count.
#[derive(Default)]
pub struct ShapePyramid {
    levels: Vec<Option<Level>>,
    /// Vertices of the source geometries.
    pub source_vertices: usize,
}

impl ShapePyramid {
    /// Builds the levels of `zooms` (those up to [`MAX_LEVEL`]) for the layer's line and
    /// polygon features (given in layer order), on all cores; none for a layer with points
    /// in it or with fewer than 20,000 vertices.
    pub fn build(geometries: &[&Geometry], zooms: std::ops::RangeInclusive<u8>) -> ShapePyramid {
        let first = *zooms.start();
        let source_vertices: usize = geometries.iter().map(|g| vertex_count(g)).sum();
        let has_points = geometries.iter().any(|g| {
            matches!(
                g,
                Geometry::Point(_) | Geometry::MultiPoint(_) | Geometry::GeometryCollection(_)
            )
        });
        if has_points || source_vertices < MIN_VERTICES || first > MAX_LEVEL {
            return ShapePyramid {
                levels: Vec::new(),
                source_vertices,
            };
        }
        let last = MAX_LEVEL.min(*zooms.end());
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = geometries.len().div_ceil(threads).max(1);
        let chunks: Vec<(usize, &[&Geometry])> = geometries
            .chunks(chunk)
            .enumerate()
            .map(|(i, slice)| (i * chunk, slice))
            .collect();
        // Every vertex projected once; then each zoom, from the coarsest, until one would
        // hold too many vertices (the deeper ones would hold more).
        let projected: Vec<Vec<(u32, Projected)>> =
            in_parallel(&chunks, |&(offset, slice)| project_chunk(slice, offset));
        let mut levels: Vec<Option<Level>> = (0..first).map(|_| None).collect();
        let budget = (source_vertices as f64 * MAX_SHARE) as usize;
        for zoom in first..=last {
            let shapes: Vec<(u32, Shape)> =
                in_parallel(&projected, |chunk| shapes_at_zoom(chunk, zoom))
                    .into_iter()
                    .flatten()
                    .collect();
            let vertices: usize = shapes.iter().map(|(_, s)| s.vertices()).sum();
            if vertices > budget {
                break;
            }
            let entries = shapes
                .iter()
                .enumerate()
                .map(|(i, (_, shape))| GeomWithData::new(shape.envelope(), i as u32))
                .collect();
            levels.push(Some(Level {
                tree: RTree::bulk_load(entries),
                shapes,
                vertices,
            }));
        }
        ShapePyramid {
            levels,
            source_vertices,
        }
    }

    /// The level of zoom `z`, if it has one.
    pub fn level(&self, z: u8) -> Option<&Level> {
        self.levels.get(usize::from(z))?.as_ref()
    }

    /// Vertices held over all levels (16 bytes each), to weigh against `source_vertices`.
    pub fn vertices(&self) -> usize {
        self.levels.iter().flatten().map(|l| l.vertices).sum()
    }
}

fn vertex_count(geometry: &Geometry) -> usize {
    use geo::CoordsIter;
    geometry.coords_count()
}

/// A feature in Web Mercator's unit square: its lines, or its polygons' rings.
enum Projected {
    Lines(Vec<Vec<Pt>>),
    Polygons(Vec<Vec<Vec<Pt>>>),
}

/// Runs `job` on each item on its own thread, results in order (a panicking job yields
/// nothing rather than taking the server down: its features are cut from the source).
fn in_parallel<I: Sync, T: Send + Default>(items: &[I], job: impl Fn(&I) -> T + Sync) -> Vec<T> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| {
                let job = &job;
                scope.spawn(move || job(item))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The features of `geometries` (positions from `offset`) projected to the unit square.
fn project_chunk(geometries: &[&Geometry], offset: usize) -> Vec<(u32, Projected)> {
    let unit = |ls: &geo::LineString| -> Vec<Pt> {
        ls.0.iter().map(|c| super::mercator(c.x, c.y)).collect()
    };
    let polygon = |p: &geo::Polygon| -> Vec<Vec<Pt>> {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(unit)
            .collect()
    };
    geometries
        .iter()
        .enumerate()
        .filter_map(|(i, geometry)| {
            let projected = match geometry {
                Geometry::LineString(ls) => Projected::Lines(vec![unit(ls)]),
                Geometry::MultiLineString(mls) => Projected::Lines(mls.iter().map(unit).collect()),
                Geometry::Line(l) => Projected::Lines(vec![vec![
                    super::mercator(l.start.x, l.start.y),
                    super::mercator(l.end.x, l.end.y),
                ]]),
                Geometry::Polygon(p) => Projected::Polygons(vec![polygon(p)]),
                Geometry::MultiPolygon(mp) => Projected::Polygons(mp.iter().map(polygon).collect()),
                Geometry::Rect(r) => Projected::Polygons(vec![polygon(&r.to_polygon())]),
                Geometry::Triangle(t) => Projected::Polygons(vec![polygon(&t.to_polygon())]),
                // Excluded by `build`.
                Geometry::Point(_) | Geometry::MultiPoint(_) | Geometry::GeometryCollection(_) => {
                    return None;
                }
            };
            Some(((offset + i) as u32, projected))
        })
        .collect()
}

fn scaled(pts: &[Pt], zoom: u8) -> Vec<Pt> {
    let scale = f64::from(1u32 << zoom) * f64::from(EXTENT);
    pts.iter().map(|p| (p.0 * scale, p.1 * scale)).collect()
}

/// The shapes of projected features at `zoom`: simplified as a tile of that zoom would be,
/// without what would collapse (a line to one grid point, a ring to fewer than three; a
/// polygon without its exterior is nothing).
fn shapes_at_zoom(features: &[(u32, Projected)], zoom: u8) -> Vec<(u32, Shape)> {
    let mut out = Vec::new();
    for (pos, projected) in features {
        let shape = match projected {
            Projected::Lines(lines) => {
                let kept: Vec<Vec<Pt>> = lines
                    .iter()
                    .map(|line| simplify(scaled(line, zoom)))
                    .filter(|line| !line_collapses(line))
                    .collect();
                (!kept.is_empty()).then_some(Shape::Lines(kept))
            }
            Projected::Polygons(polygons) => {
                let mut kept: Vec<Vec<Vec<Pt>>> = Vec::new();
                for rings in polygons {
                    let mut simplified: Vec<Vec<Pt>> = Vec::with_capacity(rings.len());
                    for (i, ring) in rings.iter().enumerate() {
                        let ring = simplify(scaled(ring, zoom));
                        if ring_collapses(&ring) {
                            if i == 0 {
                                break;
                            }
                            continue;
                        }
                        simplified.push(ring);
                    }
                    if !simplified.is_empty() {
                        kept.push(simplified);
                    }
                }
                (!kept.is_empty()).then_some(Shape::Polygons(kept))
            }
        };
        if let Some(shape) = shape {
            out.push((*pos, shape));
        }
    }
    out
}
