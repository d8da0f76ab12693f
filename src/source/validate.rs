//! Coordinate checks shared by all readers: finite, non-empty positions when decoded, and
//! positions within longitude/latitude once reprojected.

use geo::{CoordsIter, Geometry};

/// Refuses NaN and infinite coordinates and empty geometries, so that nothing downstream
/// (reprojection, R-tree, tile clipping) ever sees them.
pub fn check_decoded(geometry: Geometry<f64>) -> Result<Option<Geometry<f64>>, String> {
    // Empty is no geometry, in every reader: skipped with a warning, never an error.
    if geometry.coords_count() == 0 {
        return Ok(None);
    }
    for c in geometry.coords_iter() {
        if !c.x.is_finite() || !c.y.is_finite() {
            return Err(format!(
                "coordinate ({}, {}) is not a finite number",
                c.x, c.y
            ));
        }
    }
    Ok(Some(geometry))
}

/// The first polygon ring that is not closed (fewer than 4 positions, or the last not equal
/// to the first), described; every reader refuses such a feature alike, wherever the ring is
/// (a bare polygon, a multi-polygon, a collection).
pub fn unclosed_ring<'a>(rings: impl IntoIterator<Item = &'a [geo::Coord]>) -> Option<String> {
    rings.into_iter().enumerate().find_map(|(r, ring)| {
        (ring.len() < 4 || ring.first() != ring.last()).then(|| {
            format!(
                "ring {} is not closed (needs 4 or more positions, the last equal to the first)",
                r + 1
            )
        })
    })
}

/// Refuses positions outside longitude −180…180 / latitude −90…90. `hint` says what to do
/// about it, which depends on whether the file declared a CRS.
pub fn check_range(geometry: &Geometry<f64>, hint: &str) -> Result<(), String> {
    for c in geometry.coords_iter() {
        if !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y) {
            return Err(format!(
                "coordinate ({}, {}) is outside longitude -180..180 / latitude -90..90 ({hint})",
                c.x, c.y
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, point};

    #[test]
    fn refuses_bad_coordinates() {
        assert!(check_decoded(point!(x: 100.0, y: 5.0).into()).is_ok());
        assert!(check_decoded(point!(x: f64::NAN, y: 5.0).into()).is_err());
        assert!(check_decoded(point!(x: 100.0, y: f64::INFINITY).into()).is_err());
        assert!(matches!(
            check_decoded(LineString::<f64>::new(vec![]).into()),
            Ok(None)
        ));
        assert!(check_range(&point!(x: 500_000.0, y: 5.0).into(), "").is_err());
        assert!(check_range(&point!(x: 10.0, y: -91.0).into(), "").is_err());
        assert!(check_range(&point!(x: 180.0, y: -90.0).into(), "").is_ok());
    }
}
