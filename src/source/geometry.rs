//! Geometry assembly shared by the binary readers (FlatGeobuf, GeoPackage WKB).
//!
//! Both formats use the OGC Simple Features type codes, including the curve types GDAL writes
//! and the surfaces, and both may carry Z and M. The server is two-dimensional (GeoJSON
//! positions are `[lon, lat]`, MVT has no height), so Z and M are read past and dropped, in
//! every output alike. Curves are linearised the way GDAL does when it writes a format
//! without curves: arcs stroked at 4° steps, each arc through its middle control point.

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Polygon};

/// Geometry type codes of OGC Simple Features (ISO WKB, FlatGeobuf).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Point,
    LineString,
    Polygon,
    MultiPoint,
    MultiLineString,
    MultiPolygon,
    GeometryCollection,
    CircularString,
    CompoundCurve,
    CurvePolygon,
    MultiCurve,
    MultiSurface,
    PolyhedralSurface,
    Tin,
    Triangle,
}

impl Kind {
    /// The kind of a 2D type code (1–17); `None` for unknown codes and the abstract Curve
    /// and Surface (13, 14), which no geometry can be an instance of.
    pub fn from_code(code: u32) -> Option<Kind> {
        Some(match code {
            1 => Kind::Point,
            2 => Kind::LineString,
            3 => Kind::Polygon,
            4 => Kind::MultiPoint,
            5 => Kind::MultiLineString,
            6 => Kind::MultiPolygon,
            7 => Kind::GeometryCollection,
            8 => Kind::CircularString,
            9 => Kind::CompoundCurve,
            10 => Kind::CurvePolygon,
            11 => Kind::MultiCurve,
            12 => Kind::MultiSurface,
            15 => Kind::PolyhedralSurface,
            16 => Kind::Tin,
            17 => Kind::Triangle,
            _ => return None,
        })
    }
}

/// A decoded geometry before assembly: positions, rings (or the parts of a multi-line in a
/// format that stores them with end offsets), or typed parts.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Coords(Vec<Coord>),
    Rings(Vec<Vec<Coord>>),
    Parts(Vec<(Kind, Raw)>),
}

/// Deepest nesting accepted (a collection of collections of...); hostile files nest deeper.
pub const MAX_DEPTH: usize = 16;

/// Builds the 2D geometry; `Ok(None)` for an empty one (no positions at all).
pub fn assemble(kind: Kind, raw: Raw) -> Result<Option<Geometry>, String> {
    let geometry = match kind {
        Kind::Point => {
            let coords = coords(raw, kind)?;
            match coords.as_slice() {
                [] => return Ok(None),
                [c] => Geometry::Point((*c).into()),
                _ => return Err("a Point has more than one position".into()),
            }
        }
        Kind::MultiPoint => {
            let points: Vec<geo::Point> = match raw {
                Raw::Parts(parts) => parts
                    .into_iter()
                    .map(|(_, p)| coords(p, Kind::Point))
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .flatten()
                    .map(geo::Point::from)
                    .collect(),
                other => coords(other, kind)?.into_iter().map(Into::into).collect(),
            };
            if points.is_empty() {
                return Ok(None);
            }
            Geometry::MultiPoint(points.into())
        }
        Kind::LineString | Kind::CircularString | Kind::CompoundCurve => {
            let line = curve(kind, raw)?;
            if line.is_empty() {
                return Ok(None);
            }
            Geometry::LineString(LineString::new(line))
        }
        Kind::MultiLineString | Kind::MultiCurve => {
            let lines: Vec<LineString> = lines(kind, raw)?
                .into_iter()
                .filter(|l| !l.is_empty())
                .map(LineString::new)
                .collect();
            if lines.is_empty() {
                return Ok(None);
            }
            Geometry::MultiLineString(MultiLineString::new(lines))
        }
        Kind::Polygon | Kind::Triangle | Kind::CurvePolygon => match polygon(kind, raw)? {
            Some(p) => Geometry::Polygon(p),
            None => return Ok(None),
        },
        Kind::Tin if !matches!(raw, Raw::Parts(_)) => {
            // FlatGeobuf stores a TIN as one ring per triangle.
            let triangles: Vec<Polygon> = lines(kind, raw)?
                .into_iter()
                .filter(|r| !r.is_empty())
                .map(|r| Polygon::new(LineString::new(r), Vec::new()))
                .collect();
            if triangles.is_empty() {
                return Ok(None);
            }
            Geometry::MultiPolygon(MultiPolygon::new(triangles))
        }
        Kind::MultiPolygon | Kind::MultiSurface | Kind::PolyhedralSurface | Kind::Tin => {
            let Raw::Parts(parts) = raw else {
                return Err(format!("a {kind:?} must be made of parts"));
            };
            let mut polygons = Vec::with_capacity(parts.len());
            for (part_kind, part) in parts {
                if !matches!(
                    part_kind,
                    Kind::Polygon | Kind::Triangle | Kind::CurvePolygon
                ) {
                    return Err(format!("a {kind:?} cannot hold a {part_kind:?}"));
                }
                polygons.extend(polygon(part_kind, part)?);
            }
            if polygons.is_empty() {
                return Ok(None);
            }
            Geometry::MultiPolygon(MultiPolygon::new(polygons))
        }
        Kind::GeometryCollection => {
            let Raw::Parts(parts) = raw else {
                return Err("a GeometryCollection must be made of parts".into());
            };
            let mut members = Vec::with_capacity(parts.len());
            for (part_kind, part) in parts {
                members.extend(assemble(part_kind, part)?);
            }
            if members.is_empty() {
                return Ok(None);
            }
            Geometry::GeometryCollection(members.into())
        }
    };
    Ok(Some(geometry))
}

/// The most positions stroking one arc makes: 360° in 4° steps, made odd.
const MAX_POSITIONS_PER_ARC: u64 = 91;

/// How many positions [`assemble`] makes of `raw` at most. Curves are stroked into up to 91
/// positions an arc, so a file of arcs decodes to some 45 times its size: readers charge
/// this to their budget before assembling, not after.
pub fn assembled_positions(kind: Kind, raw: &Raw) -> u64 {
    let stroked = |n: usize| -> u64 {
        let n = n as u64;
        if n < 3 {
            n
        } else {
            1 + (n - 1) / 2 * MAX_POSITIONS_PER_ARC + (n - 1) % 2
        }
    };
    let curved = kind == Kind::CircularString;
    match raw {
        Raw::Coords(c) if curved => stroked(c.len()),
        Raw::Coords(c) => c.len() as u64,
        Raw::Rings(rings) => rings
            .iter()
            .map(|r| {
                if curved {
                    stroked(r.len())
                } else {
                    r.len() as u64
                }
            })
            .fold(0u64, u64::saturating_add),
        Raw::Parts(parts) => parts
            .iter()
            .map(|(k, p)| assembled_positions(*k, p))
            .fold(0u64, u64::saturating_add),
    }
}

fn coords(raw: Raw, kind: Kind) -> Result<Vec<Coord>, String> {
    match raw {
        Raw::Coords(c) => Ok(c),
        Raw::Rings(mut rings) if rings.len() <= 1 => Ok(rings.pop().unwrap_or_default()),
        _ => Err(format!(
            "a {kind:?} has parts where positions were expected"
        )),
    }
}

/// One line from a LineString, a CircularString or a CompoundCurve of those.
fn curve(kind: Kind, raw: Raw) -> Result<Vec<Coord>, String> {
    match kind {
        Kind::LineString => coords(raw, kind),
        Kind::CircularString => Ok(stroke_circular_string(&coords(raw, kind)?)),
        Kind::CompoundCurve => {
            let Raw::Parts(parts) = raw else {
                return Err("a CompoundCurve must be made of parts".into());
            };
            let mut out: Vec<Coord> = Vec::new();
            for (part_kind, part) in parts {
                if !matches!(part_kind, Kind::LineString | Kind::CircularString) {
                    return Err(format!("a CompoundCurve cannot hold a {part_kind:?}"));
                }
                let section = curve(part_kind, part)?;
                // Sections share their end points.
                let skip = usize::from(!out.is_empty() && out.last() == section.first());
                out.extend(section.into_iter().skip(skip));
            }
            Ok(out)
        }
        other => Err(format!("a {other:?} is not a curve")),
    }
}

fn lines(kind: Kind, raw: Raw) -> Result<Vec<Vec<Coord>>, String> {
    match raw {
        Raw::Rings(rings) => Ok(rings),
        Raw::Coords(c) => Ok(vec![c]),
        Raw::Parts(parts) => parts
            .into_iter()
            .map(|(part_kind, part)| {
                let allowed = if kind == Kind::MultiLineString {
                    part_kind == Kind::LineString
                } else {
                    matches!(
                        part_kind,
                        Kind::LineString | Kind::CircularString | Kind::CompoundCurve
                    )
                };
                if allowed {
                    curve(part_kind, part)
                } else {
                    Err(format!("a {kind:?} cannot hold a {part_kind:?}"))
                }
            })
            .collect(),
    }
}

fn polygon(kind: Kind, raw: Raw) -> Result<Option<Polygon>, String> {
    let rings: Vec<Vec<Coord>> = match (kind, raw) {
        (Kind::CurvePolygon, Raw::Parts(parts)) => parts
            .into_iter()
            .map(|(part_kind, part)| curve(part_kind, part))
            .collect::<Result<_, _>>()?,
        (_, Raw::Rings(rings)) => rings,
        (_, Raw::Coords(ring)) => vec![ring],
        (_, Raw::Parts(parts)) => parts
            .into_iter()
            .map(|(part_kind, part)| curve(part_kind, part))
            .collect::<Result<_, _>>()?,
    };
    if let Some(why) =
        super::validate::unclosed_ring(rings.iter().filter(|r| !r.is_empty()).map(Vec::as_slice))
    {
        return Err(format!("a polygon's {why}"));
    }
    let mut rings = rings.into_iter().filter(|r| !r.is_empty());
    let Some(exterior) = rings.next() else {
        return Ok(None);
    };
    Ok(Some(Polygon::new(
        LineString::new(exterior),
        rings.map(LineString::new).collect(),
    )))
}

/// Angle between stroked vertices of an arc, as GDAL's default (`OGR_ARC_STEPSIZE`).
const ARC_STEP_DEGREES: f64 = 4.0;

/// Strokes a CircularString (arcs p0‑p1‑p2, p2‑p3‑p4, …) into a line, as GDAL's
/// `curveToLineString` does by default: each arc from its first to its last control point in
/// an odd number (at least 7) of equal steps of about 4°, the middle control point only
/// saying which way the arc turns.
/// Collinear control points make a straight line through them.
///
/// ```
/// use geo::coord;
/// use amis_webgis::source::stroke_circular_string;
/// // A half circle of radius 1 around the origin: 45 steps of 4°.
/// let line = stroke_circular_string(&[coord! { x: 1.0, y: 0.0 }, coord! { x: 0.0, y: 1.0 }, coord! { x: -1.0, y: 0.0 }]);
/// assert_eq!(line.len(), 46);
/// assert!(line.iter().all(|c| ((c.x * c.x + c.y * c.y).sqrt() - 1.0).abs() < 1e-12));
/// assert!(line.iter().all(|c| c.y >= 0.0));
/// ```
pub fn stroke_circular_string(points: &[Coord]) -> Vec<Coord> {
    let mut out: Vec<Coord> = Vec::with_capacity(points.len());
    if points.len() < 3 {
        return points.to_vec();
    }
    out.push(points[0]);
    let mut i = 0;
    while i + 2 < points.len() {
        stroke_arc(points[i], points[i + 1], points[i + 2], &mut out);
        i += 2;
    }
    // A trailing control point that does not complete an arc is kept as a straight segment.
    out.extend(points[i + 1..].iter().copied());
    out
}

/// Appends the arc p0‑p1‑p2 (without p0, which `out` already ends with).
fn stroke_arc(p0: Coord, p1: Coord, p2: Coord, out: &mut Vec<Coord>) {
    let Some((centre, radius)) = circle(p0, p1, p2) else {
        out.push(p1);
        out.push(p2);
        return;
    };
    let tau = 2.0 * std::f64::consts::PI;
    let angle = |p: Coord| (p.y - centre.y).atan2(p.x - centre.x);
    let a0 = angle(p0);
    let a2 = if p0 == p2 {
        // A full circle (p1 diametrically opposite): GDAL goes round anticlockwise.
        a0 + tau
    } else {
        let anticlockwise = (p1.x - p0.x) * (p2.y - p1.y) - (p1.y - p0.y) * (p2.x - p1.x) > 0.0;
        let mut a2 = angle(p2);
        if anticlockwise {
            while a2 <= a0 {
                a2 += tau;
            }
        } else {
            while a2 >= a0 {
                a2 -= tau;
            }
        }
        a2
    };
    // GDAL's default ("stealth" intermediate point): the rounded step count, at least six,
    // made odd, so that a middle vertex can carry the original control point.
    let rounded = ((a2 - a0).abs() / ARC_STEP_DEGREES.to_radians() + 0.5) as usize;
    let steps = rounded.max(6) | 1;
    let step = (a2 - a0) / steps as f64;
    for k in 1..steps {
        let a = a0 + step * k as f64;
        out.push(Coord {
            x: centre.x + radius * a.cos(),
            y: centre.y + radius * a.sin(),
        });
    }
    out.push(p2);
}

/// The circle through three points; `None` when they are collinear (or two coincide).
fn circle(p0: Coord, p1: Coord, p2: Coord) -> Option<(Coord, f64)> {
    if p0 == p2 {
        if p0 == p1 {
            return None;
        }
        let centre = Coord {
            x: (p0.x + p1.x) / 2.0,
            y: (p0.y + p1.y) / 2.0,
        };
        return Some((centre, ((p0.x - centre.x).hypot(p0.y - centre.y))));
    }
    let (ax, ay) = (p1.x - p0.x, p1.y - p0.y);
    let (bx, by) = (p2.x - p0.x, p2.y - p0.y);
    let det = 2.0 * (ax * by - ay * bx);
    let scale = (ax * ax + ay * ay).max(bx * bx + by * by);
    if det.abs() <= 1e-12 * scale || !det.is_finite() {
        return None;
    }
    let a2 = ax * ax + ay * ay;
    let b2 = bx * bx + by * by;
    let cx = (by * a2 - ay * b2) / det;
    let cy = (ax * b2 - bx * a2) / det;
    let centre = Coord {
        x: p0.x + cx,
        y: p0.y + cy,
    };
    Some((centre, cx.hypot(cy)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    #[test]
    fn arcs_go_the_way_their_middle_point_says() {
        // Clockwise quarter from (0,1) through (√½,√½) to (1,0).
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let line = stroke_circular_string(&[
            coord! { x: 0.0, y: 1.0 },
            coord! { x: h, y: h },
            coord! { x: 1.0, y: 0.0 },
        ]);
        assert!(
            line.iter().all(|c| c.x >= -1e-12 && c.y >= -1e-12),
            "{line:?}"
        );
        assert_eq!(line.len(), 24, "{}", line.len());
        // Short arcs still get seven steps; an even count is made odd.
        let short = stroke_circular_string(&[
            coord! { x: 1.0, y: 0.0 },
            coord! { x: 0.9998, y: 0.0175 },
            coord! { x: 0.9994, y: 0.0349 },
        ]);
        assert_eq!(short.len(), 8);
        // Collinear control points: a straight line through them.
        let straight = stroke_circular_string(&[
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 1.0, y: 1.0 },
            coord! { x: 2.0, y: 2.0 },
        ]);
        assert_eq!(straight.len(), 3);
    }

    #[test]
    fn the_positions_charged_bound_the_positions_made() {
        use geo::CoordsIter;
        let c = |x: f64, y: f64| Coord { x, y };
        let cases = [
            // A full circle, two half circles, a straight "arc", a trailing control point.
            vec![c(1.0, 0.0), c(-1.0, 0.0), c(1.0, 0.0)],
            vec![
                c(1.0, 0.0),
                c(0.0, 1.0),
                c(-1.0, 0.0),
                c(0.0, -1.0),
                c(1.0, 0.0),
            ],
            vec![c(0.0, 0.0), c(1.0, 1.0), c(2.0, 2.0), c(3.0, 3.0)],
        ];
        for points in cases {
            let raw = Raw::Coords(points.clone());
            let bound = assembled_positions(Kind::CircularString, &raw);
            let made = assemble(Kind::CircularString, raw)
                .expect("valid")
                .expect("not empty")
                .coords_count() as u64;
            assert!(made <= bound, "{made} > {bound} for {points:?}");
        }
    }

    #[test]
    fn full_circle_closes() {
        let ring = stroke_circular_string(&[
            coord! { x: 1.0, y: 0.0 },
            coord! { x: -1.0, y: 0.0 },
            coord! { x: 1.0, y: 0.0 },
        ]);
        assert_eq!(ring.first(), ring.last());
        assert_eq!(ring.len(), 92); // 90 steps of 4°, made odd as GDAL does
    }

    #[test]
    fn curve_polygon_and_compound_curve_assemble() {
        let arc = Raw::Coords(vec![
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 1.0, y: 1.0 },
            coord! { x: 2.0, y: 0.0 },
        ]);
        let back = Raw::Coords(vec![coord! { x: 2.0, y: 0.0 }, coord! { x: 0.0, y: 0.0 }]);
        let compound = Raw::Parts(vec![(Kind::CircularString, arc), (Kind::LineString, back)]);
        let g = assemble(
            Kind::CurvePolygon,
            Raw::Parts(vec![(Kind::CompoundCurve, compound)]),
        )
        .expect("valid")
        .expect("not empty");
        let Geometry::Polygon(p) = g else {
            panic!("polygon expected")
        };
        assert_eq!(p.exterior().0.first(), p.exterior().0.last());
        assert!(p.exterior().0.len() > 10);
        assert!(
            assemble(Kind::Point, Raw::Coords(vec![]))
                .expect("ok")
                .is_none()
        );
        assert!(
            assemble(
                Kind::MultiPolygon,
                Raw::Parts(vec![(Kind::Point, Raw::Coords(vec![]))])
            )
            .is_err()
        );
    }
}
