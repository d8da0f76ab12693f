//! Coordinate checks shared by all readers.

use geo::{CoordsIter, Geometry};

/// Refuses NaN, infinite and out-of-range coordinates and empty geometries, so that
/// nothing downstream (projection, R-tree, tile clipping) ever sees them.
pub fn check_geometry(geometry: &Geometry<f64>) -> Result<(), String> {
    if geometry.coords_count() == 0 {
        return Err("empty geometry".into());
    }
    for c in geometry.coords_iter() {
        if !c.x.is_finite() || !c.y.is_finite() {
            return Err(format!(
                "coordinate ({}, {}) is not a finite number",
                c.x, c.y
            ));
        }
        if !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y) {
            return Err(format!(
                "coordinate ({}, {}) is outside longitude -180..180 / latitude -90..90 \
                 (is the file in EPSG:4326?)",
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
        assert!(check_geometry(&point!(x: 100.0, y: 5.0).into()).is_ok());
        assert!(check_geometry(&point!(x: f64::NAN, y: 5.0).into()).is_err());
        assert!(check_geometry(&point!(x: 100.0, y: f64::INFINITY).into()).is_err());
        assert!(check_geometry(&point!(x: 500_000.0, y: 5.0).into()).is_err());
        assert!(check_geometry(&point!(x: 10.0, y: -91.0).into()).is_err());
        assert!(check_geometry(&LineString::<f64>::new(vec![]).into()).is_err());
    }
}
