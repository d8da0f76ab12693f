//! Clipping in tile space against the buffered tile square.
//!
//! Lines are clipped segment by segment (Liang–Barsky) into parts; polygon rings with
//! Sutherland–Hodgman, which keeps each ring one ring (edges along the clip border
//! are harmless: they lie in the buffer, outside the visible tile).

pub type Pt = (f64, f64);

#[derive(Debug, Clone, Copy)]
pub struct ClipBox {
    pub min: f64,
    pub max: f64,
}

impl ClipBox {
    pub fn contains(&self, p: Pt) -> bool {
        p.0 >= self.min && p.0 <= self.max && p.1 >= self.min && p.1 <= self.max
    }

    pub fn contains_all(&self, pts: &[Pt]) -> bool {
        pts.iter().all(|p| self.contains(*p))
    }

    /// Whether the bounding box of `pts` misses the clip box entirely.
    pub fn misses(&self, pts: &[Pt]) -> bool {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in pts {
            x0 = x0.min(p.0);
            y0 = y0.min(p.1);
            x1 = x1.max(p.0);
            y1 = y1.max(p.1);
        }
        x1 < self.min || x0 > self.max || y1 < self.min || y0 > self.max
    }
}

/// Liang–Barsky clip of one segment; `None` if it lies outside.
fn clip_segment(a: Pt, b: Pt, clip: ClipBox) -> Option<(Pt, Pt)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - clip.min),
        (dx, clip.max - a.0),
        (-dy, a.1 - clip.min),
        (dy, clip.max - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                if r > t1 {
                    return None;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return None;
                }
                t1 = t1.min(r);
            }
        }
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// Splits a line into the parts that fall inside the clip box.
pub fn clip_line(line: &[Pt], clip: ClipBox) -> Vec<Vec<Pt>> {
    if clip.contains_all(line) {
        return vec![line.to_vec()];
    }
    let mut parts: Vec<Vec<Pt>> = Vec::new();
    let mut current: Vec<Pt> = Vec::new();
    for w in line.windows(2) {
        match clip_segment(w[0], w[1], clip) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    if current.len() > 1 {
                        parts.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(a);
                }
                current.push(b);
                if b != w[1] {
                    parts.push(std::mem::take(&mut current));
                }
            }
            None => {
                if current.len() > 1 {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() > 1 {
        parts.push(current);
    }
    parts
}

/// Sutherland–Hodgman clip of a closed ring (first point repeated last or not).
pub fn clip_ring(ring: &[Pt], clip: ClipBox) -> Vec<Pt> {
    if clip.contains_all(ring) {
        return ring.to_vec();
    }
    let mut pts: Vec<Pt> = ring.to_vec();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    type Edge = (fn(Pt, f64) -> bool, fn(Pt, Pt, f64) -> Pt, f64);
    let inter_x = |a: Pt, b: Pt, x: f64| (x, a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0));
    let inter_y = |a: Pt, b: Pt, y: f64| (a.0 + (b.0 - a.0) * (y - a.1) / (b.1 - a.1), y);
    let edges: [Edge; 4] = [
        (|p, v| p.0 >= v, inter_x, clip.min),
        (|p, v| p.0 <= v, inter_x, clip.max),
        (|p, v| p.1 >= v, inter_y, clip.min),
        (|p, v| p.1 <= v, inter_y, clip.max),
    ];
    for (inside, intersect, v) in edges {
        if pts.is_empty() {
            break;
        }
        let input = std::mem::take(&mut pts);
        let mut prev = input[input.len() - 1];
        for &cur in &input {
            match (inside(cur, v), inside(prev, v)) {
                (true, true) => pts.push(cur),
                (true, false) => {
                    pts.push(intersect(prev, cur, v));
                    pts.push(cur);
                }
                (false, true) => pts.push(intersect(prev, cur, v)),
                (false, false) => {}
            }
            prev = cur;
        }
    }
    pts
}

#[cfg(test)]
mod tests {
    use super::*;
    const CLIP: ClipBox = ClipBox {
        min: 0.0,
        max: 10.0,
    };

    #[test]
    fn line_leaving_and_reentering_splits_in_two() {
        let parts = clip_line(&[(5.0, 5.0), (15.0, 5.0), (15.0, 8.0), (5.0, 8.0)], CLIP);
        assert_eq!(
            parts,
            vec![vec![(5.0, 5.0), (10.0, 5.0)], vec![(10.0, 8.0), (5.0, 8.0)]]
        );
    }

    #[test]
    fn ring_is_cut_to_the_box() {
        let ring = [
            (-5.0, -5.0),
            (5.0, -5.0),
            (5.0, 5.0),
            (-5.0, 5.0),
            (-5.0, -5.0),
        ];
        let out = clip_ring(&ring, CLIP);
        assert_eq!(out.len(), 4);
        assert!(
            out.iter()
                .all(|p| (0.0..=5.0).contains(&p.0) && (0.0..=5.0).contains(&p.1))
        );
        assert!(clip_ring(&[(20.0, 20.0), (30.0, 20.0), (30.0, 30.0)], CLIP).is_empty());
    }

    use geo::{Area, BooleanOps, Euclidean, Length};
    use proptest::prelude::*;

    fn clip_polygon() -> geo::Polygon {
        geo::Rect::new((CLIP.min, CLIP.min), (CLIP.max, CLIP.max)).to_polygon()
    }

    /// A simple (star-shaped) polygon around a centre anywhere near the box: vertices at
    /// increasing angles, at random distances, so it may be concave, cross the box, hold it
    /// or miss it.
    fn star() -> impl Strategy<Value = Vec<Pt>> {
        (
            -10.0f64..20.0,
            -10.0f64..20.0,
            // Steps of at most 0.4 of a turn (four or more steps, none over twice another),
            // so every edge passes the centre on the same side: the polygon is simple.
            proptest::collection::vec((0.5f64..1.0, 0.5f64..15.0), 4..24),
        )
            .prop_map(|(cx, cy, spokes)| {
                let total: f64 = spokes.iter().map(|(step, _)| step).sum();
                let mut angle = 0.0;
                spokes
                    .iter()
                    .map(|(step, r)| {
                        angle += step / total * std::f64::consts::TAU;
                        (cx + r * angle.cos(), cy + r * angle.sin())
                    })
                    .collect()
            })
    }

    fn shoelace(ring: &[Pt]) -> f64 {
        let n = ring.len();
        (0..n)
            .map(|i| {
                let (a, b) = (ring[i], ring[(i + 1) % n]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum::<f64>()
            / 2.0
    }

    /// A line along an edge and across another at a shallow angle: exact arithmetic gives
    /// 6.999991941512894; geo's boolean clip said 7.0000034.
    #[test]
    fn a_line_along_an_edge_keeps_its_exact_length() {
        let line = [
            (19.1799017706145, 10.034849138751298),
            (0.0, 9.994764116808126),
            (0.0, 18.738627496466716),
            (15.344254758162565, 0.0),
            (0.0, -4.854386663620558),
        ];
        let length: f64 = clip_line(&line, CLIP)
            .iter()
            .map(|p| Euclidean.length(&geo::LineString::from(p.clone())))
            .sum();
        assert!((length - 6.999991941512894).abs() < 1e-9, "{length}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]

        /// Clipping a ring keeps exactly the part inside the box: the area `geo`'s boolean
        /// intersection finds, and no point outside the box.
        #[test]
        fn clipped_rings_have_the_area_of_the_intersection(ring in star()) {
            let clipped = clip_ring(&ring, CLIP);
            let polygon = geo::Polygon::new(geo::LineString::from(ring.clone()), vec![]);
            let expected = polygon.intersection(&clip_polygon()).unsigned_area();
            let area = if clipped.len() < 3 { 0.0 } else { shoelace(&clipped).abs() };
            prop_assert!((area - expected).abs() < 1e-6 * (1.0 + expected), "{area} vs {expected}");
            let eps = 1e-9;
            prop_assert!(clipped.iter().all(|p| p.0 >= CLIP.min - eps && p.0 <= CLIP.max + eps
                && p.1 >= CLIP.min - eps && p.1 <= CLIP.max + eps));
        }

        /// Clipping a line keeps exactly the parts inside the box: their length is the length
        /// of each segment's part inside the box (its parameter interval within the four
        /// edges, worked out here segment by segment), and each part lies in the box. (geo's
        /// boolean clip was the reference, but it is off by 1e-5 on segments along an edge.)
        #[test]
        fn clipped_lines_have_the_length_of_the_intersection(
            line in proptest::collection::vec((-10.0f64..20.0, -10.0f64..20.0), 2..16)
        ) {
            let parts = clip_line(&line, CLIP);
            let length: f64 = parts
                .iter()
                .map(|p| Euclidean.length(&geo::LineString::from(p.clone())))
                .sum();
            let inside = |a: Pt, b: Pt| -> f64 {
                let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                let (mut t0, mut t1) = (0.0f64, 1.0f64);
                for (p, q) in [(-dx, a.0 - CLIP.min), (dx, CLIP.max - a.0), (-dy, a.1 - CLIP.min), (dy, CLIP.max - a.1)] {
                    if p == 0.0 {
                        if q < 0.0 {
                            return 0.0;
                        }
                    } else if p < 0.0 {
                        t0 = t0.max(q / p);
                    } else {
                        t1 = t1.min(q / p);
                    }
                }
                (t1 - t0).max(0.0) * dx.hypot(dy)
            };
            let expected: f64 = line.windows(2).map(|w| inside(w[0], w[1])).sum();
            prop_assert!((length - expected).abs() < 1e-6 * (1.0 + expected), "{length} vs {expected}");
            let eps = 1e-9;
            for part in &parts {
                prop_assert!(part.len() >= 2);
                prop_assert!(part.iter().all(|p| p.0 >= CLIP.min - eps && p.0 <= CLIP.max + eps
                    && p.1 >= CLIP.min - eps && p.1 <= CLIP.max + eps));
            }
        }
    }
}
