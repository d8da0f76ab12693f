//! Coordinate reference systems: identifying the CRS a file declares (an EPSG code, a URN,
//! or the WKT of a Shapefile `.prj` or GeoPackage), and reprojecting its coordinates to WGS 84
//! longitude/latitude.
//!
//! Where EPSG has several transformations from a datum to WGS 84 (Indian 1960 has one for
//! Vietnam between 14° and 18° N, one for the Cuu Long basin, one for Con Son Island), each
//! position gets the one PROJ's `proj_trans` chooses for where it lies: of those whose area of
//! use holds it, the first in PROJ's order of preference for the CRS, unless a later one is
//! more accurate and not offshore (`transformations.tsv` and `crs_order.tsv`, generated from
//! PROJ's database by `scripts/gen-datum-transformations.py`). A position no
//! transformation of its datum covers, while one covers another part of the CRS's area, is
//! refused, naming the CRS and where its transformations apply: PROJ would move it by a
//! ballpark offset of several hundred metres without a word.
//!
//! Definitions come from the EPSG dataset as the `crs-definitions` crate packages it (PROJ
//! strings with `+towgs84`), the projections from `proj4rs` (a pure-Rust port of PROJ's
//! projection code), so no C library is built or needed at run time. ESRI-style names, which
//! `.prj` files carry instead of codes, are resolved through `names.tsv`, generated from PROJ's
//! own database by `scripts/gen-crs-names.sh`.

use std::collections::HashMap;
use std::sync::OnceLock;

use geo::{Coord, Geometry};
use proj4rs::Proj;

/// Why a declared CRS cannot be used. The message names the CRS as the file gave it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CrsError {
    #[error(
        "the coordinate reference system {0} is not one this server can identify; name an EPSG code with ?crs=EPSG:<code>, or reproject to EPSG:4326"
    )]
    Unidentified(String),
    #[error(
        "the coordinate reference system {0} cannot be transformed to WGS 84 here ({1}); reproject to EPSG:4326 first"
    )]
    Untransformable(String, String),
}

/// An EPSG transformation from a datum to WGS 84 (a Helmert shift) and where it applies.
#[derive(Debug, Clone)]
pub struct Transformation {
    /// The datum as WKT names it (`Indian_1960`).
    pub datum: String,
    pub epsg: u16,
    /// Metres, as EPSG gives it.
    pub accuracy: f64,
    /// Area of use in the datum's own longitude/latitude: south, west, north, east.
    pub area: [f64; 4],
    /// `+towgs84` parameters, position-vector convention.
    pub towgs84: String,
    /// Name and area, as EPSG words them.
    pub description: String,
}

impl Transformation {
    fn covers(&self, lon: f64, lat: f64) -> bool {
        let [s, w, n, e] = self.area;
        (s..=n).contains(&lat) && (w..=e).contains(&lon)
    }

    /// The bounding box's size in square degrees (PROJ's "pseudo area").
    fn pseudo_area(&self) -> f64 {
        let [s, w, n, e] = self.area;
        (n - s) * (e - w)
    }

    /// PROJ's test: an area of use named "… - offshore …" never displaces another.
    fn is_offshore(&self) -> bool {
        self.description.contains("- offshore")
    }
}

/// Every transformation of `transformations.tsv`, each datum's in the order PROJ prefers
/// them for its geographic CRS.
pub fn transformations() -> &'static [Transformation] {
    static TABLE: OnceLock<Vec<Transformation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let table: Vec<Transformation> = include_str!("transformations.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                let number = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
                Some(Transformation {
                    datum: f.first()?.to_string(),
                    epsg: f.get(1)?.parse().ok()?,
                    accuracy: number(2)?,
                    area: [number(3)?, number(4)?, number(5)?, number(6)?],
                    towgs84: f.get(7)?.to_string(),
                    description: f.get(8)?.to_string(),
                })
            })
            .collect();
        table
    })
}

/// The transformations of `datum` in the order PROJ prefers them for the CRS `code`: those
/// whose area of use holds the CRS's whole area first, then by accuracy (`crs_order.tsv`);
/// for a CRS not listed there, the order for the datum's geographic CRS.
fn transformations_for(code: u16, datum: &str) -> Vec<&'static Transformation> {
    static ORDER: OnceLock<HashMap<u16, Vec<u16>>> = OnceLock::new();
    let order = ORDER.get_or_init(|| {
        include_str!("crs_order.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (code, list) = l.split_once('\t')?;
                let list = list
                    .split(',')
                    .filter_map(|c| c.trim().parse().ok())
                    .collect();
                Some((code.trim().parse().ok()?, list))
            })
            .collect()
    });
    let of_datum = transformations().iter().filter(|t| t.datum == datum);
    match order.get(&code) {
        Some(codes) => codes
            .iter()
            .filter_map(|c| of_datum.clone().find(|t| t.epsg == *c))
            .collect(),
        None => of_datum.collect(),
    }
}

/// A transformation made ready to apply: from the datum's longitude/latitude to WGS 84's.
struct Shift {
    transformation: &'static Transformation,
    from: Proj,
    /// Positions moved with it, for the report.
    used: std::sync::atomic::AtomicU64,
}

/// CRSs whose area of use no EPSG transformation of their datum covers, so PROJ (and with it
/// GDAL and QGIS) converts them without a datum shift; so does this server, or a file would
/// land elsewhere here than in the agency's own GIS. EPSG:23946 Indian 1954 / UTM 46N is for
/// Myanmar west of 96°E; Indian 1954's only transformation (EPSG:1153) is for Thailand.
const NO_TRANSFORMATION_FOR_AREA: [u16; 1] = [23946];

/// A source CRS and how to bring its coordinates to WGS 84 longitude/latitude.
pub struct Reprojector {
    /// How the CRS is named in messages, e.g. `EPSG:24047 (Indian 1975 / UTM zone 47N)`.
    pub label: String,
    pub epsg: u16,
    /// Set when no datum shift to WGS 84 is defined for the CRS's datum, so positions are
    /// converted without one (PROJ's "ballpark" transformation): says so for the report.
    pub ballpark: Option<String>,
    from: Proj,
    to: Proj,
    /// For a datum with transformations of limited areas: `from` and `to` take positions to
    /// the datum's own longitude/latitude, and each is then shifted as PROJ would there.
    per_position: Option<PerPosition>,
}

/// A datum's transformations in PROJ's order of preference for the CRS, and WGS 84
/// longitude/latitude, what every one ends in.
struct PerPosition {
    shifts: Vec<Shift>,
    wgs84: Proj,
}

impl std::fmt::Debug for Reprojector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

/// What a file says its CRS is, in whichever form its format uses.
#[derive(Debug, Clone, Copy)]
pub enum Declared<'a> {
    /// An EPSG code (FlatGeobuf header, GeoPackage `gpkg_spatial_ref_sys`, `?crs=`).
    Epsg(u32),
    /// `EPSG:3405`, `urn:ogc:def:crs:EPSG::3405`, `http://www.opengis.net/def/crs/EPSG/0/3405`,
    /// `OGC:CRS84` and the like (GeoJSON's legacy `crs` member, `?crs=`).
    Name(&'a str),
    /// WKT 1 or 2, ESRI or OGC flavour (Shapefile `.prj`, GeoPackage, FlatGeobuf header).
    Wkt(&'a str),
}

/// EPSG codes that are WGS 84 longitude/latitude already (2D and 3D; 4978, WGS 84
/// geocentric X/Y/Z, is not, and is refused like every geocentric CRS).
const LONLAT_WGS84: [u32; 2] = [4326, 4979];

/// Resolves a declared CRS: `None` when coordinates are WGS 84 longitude/latitude already.
///
/// ```
/// use amis_webgis::crs::{Declared, identify};
/// assert!(identify(Declared::Name("urn:ogc:def:crs:OGC:1.3:CRS84")).unwrap().is_none());
/// let utm = identify(Declared::Epsg(32647)).unwrap().unwrap();
/// let c = utm.project(geo::coord! { x: 500_000.0, y: 0.0 }).unwrap();
/// assert!((c.x - 99.0).abs() < 1e-9 && c.y.abs() < 1e-9);
/// ```
pub fn identify(declared: Declared) -> Result<Option<Reprojector>, CrsError> {
    let code = match declared {
        Declared::Epsg(code) => code,
        Declared::Name(name) => match parse_name(name) {
            Some(NameRef::Lonlat) => return Ok(None),
            Some(NameRef::Epsg(code)) => code,
            None => return Err(CrsError::Unidentified(format!("{name:?}"))),
        },
        Declared::Wkt(wkt) => match wkt_code(wkt) {
            Some(code) => code,
            None => {
                let name = wkt_name(wkt).unwrap_or_else(|| crate::feature::abbreviate(wkt, 60));
                return Err(CrsError::Unidentified(format!("{name:?}")));
            }
        },
    };
    by_code(code)
}

/// The reprojector for an EPSG code (`None` for WGS 84 longitude/latitude).
pub fn by_code(code: u32) -> Result<Option<Reprojector>, CrsError> {
    if LONLAT_WGS84.contains(&code) {
        return Ok(None);
    }
    let def = u16::try_from(code)
        .ok()
        .and_then(crs_definitions::from_code)
        .ok_or_else(|| CrsError::Unidentified(format!("EPSG:{code}")))?;
    let name = wkt_name(def.wkt).unwrap_or_default();
    let label = format!("EPSG:{code} ({name})");
    let datum = wkt_datum(def.wkt).unwrap_or_default();
    let candidates = transformations_for(def.code, &datum);
    let without_shift = || {
        def.proj4
            .split_whitespace()
            .filter(|p| !p.starts_with("+towgs84="))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // How positions reach WGS 84: with the definition's own shift, with the shift chosen
    // for where each lies (the projection then runs to the datum's own lon/lat), or
    // without one (PROJ's ballpark), said in the report.
    let (proj4, per_position, ballpark) = if NO_TRANSFORMATION_FOR_AREA.contains(&def.code) {
        (
            without_shift(),
            false,
            Some(format!(
                "no datum shift to WGS 84 is defined for the area of {name}"
            )),
        )
    } else if !candidates.is_empty() {
        (without_shift(), true, None)
    } else {
        match with_datum_shift(def.proj4, def.wkt) {
            Ok(proj4) => (proj4, false, None),
            Err(reason) => (without_shift(), false, Some(reason)),
        }
    };
    if def.proj4.starts_with("+proj=geocent") {
        return Err(CrsError::Untransformable(
            label,
            "it is geocentric: X/Y/Z from the Earth's centre, not 2D positions".into(),
        ));
    }
    if proj4.trim() == "+proj=longlat +datum=WGS84 +no_defs" {
        return Ok(None);
    }
    let from = Proj::from_proj_string(&proj4)
        .map_err(|e| CrsError::Untransformable(label.clone(), e.to_string()))?;
    // A ballpark keeps latitude and longitude as they are on the source ellipsoid, as PROJ
    // does, rather than moving them through an unrelated geocentric conversion.
    let ellipsoid: Vec<&str> = def
        .proj4
        .split_whitespace()
        .filter(|t| {
            ["+ellps=", "+a=", "+b=", "+rf=", "+f=", "+R="]
                .iter()
                .any(|k| t.starts_with(k))
        })
        .collect();
    let target = if ballpark.is_some() || per_position {
        format!("+proj=longlat {} +no_defs", ellipsoid.join(" "))
    } else {
        "+proj=longlat +datum=WGS84 +no_defs".to_string()
    };
    let to = Proj::from_proj_string(&target)
        .map_err(|e| CrsError::Untransformable(label.clone(), e.to_string()))?;
    if !from.has_inverse() {
        return Err(CrsError::Untransformable(
            label,
            "the projection has no inverse".into(),
        ));
    }
    let ballpark = ballpark.map(|reason| {
        format!(
            "{reason}: positions were converted from {label} without a datum shift (as PROJ's \
             ballpark transformation does) and may be off by up to a few hundred metres"
        )
    });
    let untransformable =
        |e: proj4rs::errors::Error| CrsError::Untransformable(label.clone(), e.to_string());
    let per_position = if per_position {
        let shifts = candidates
            .into_iter()
            .map(|transformation| {
                let proj4 = format!(
                    "+proj=longlat {} +towgs84={} +no_defs",
                    ellipsoid.join(" "),
                    transformation.towgs84
                );
                Ok(Shift {
                    transformation,
                    from: Proj::from_proj_string(&proj4).map_err(untransformable)?,
                    used: std::sync::atomic::AtomicU64::new(0),
                })
            })
            .collect::<Result<Vec<_>, CrsError>>()?;
        let wgs84 = Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
            .map_err(untransformable)?;
        Some(PerPosition { shifts, wgs84 })
    } else {
        None
    };
    Ok(Some(Reprojector {
        label,
        epsg: def.code,
        ballpark,
        from,
        to,
        per_position,
    }))
}

/// The PROJ string with the datum shift it needs: the definition's own `+towgs84`, one from
/// [`DATUM_SHIFTS`], or none for datums that coincide with WGS 84 at the metre level.
fn with_datum_shift(proj4: &str, wkt: &str) -> Result<String, String> {
    let datum = wkt_datum(wkt).unwrap_or_default();
    let has_shift = proj4.contains("+towgs84") || proj4.contains("+nadgrids");
    let wgs84_like = proj4.contains("+datum=WGS84")
        || proj4.contains("+ellps=WGS84")
        || proj4.contains("+ellps=GRS80")
        || proj4.contains("+a=6378137 +b=6378137");
    if has_shift || wgs84_like {
        Ok(proj4.to_string())
    } else {
        Err(format!(
            "no datum shift from {} to WGS 84 is defined",
            if datum.is_empty() {
                "its datum"
            } else {
                &datum
            }
        ))
    }
}

impl Reprojector {
    /// One position from the source CRS to WGS 84 longitude/latitude in degrees.
    pub fn project(&self, c: Coord) -> Result<Coord, String> {
        let geographic = self.from.is_latlong();
        let mut point = if geographic {
            (c.x.to_radians(), c.y.to_radians(), 0.0)
        } else {
            (c.x, c.y, 0.0)
        };
        proj4rs::transform::transform(&self.from, &self.to, &mut point)
            .map_err(|e| format!("({}, {}) cannot be transformed: {e}", c.x, c.y))?;
        if let Some(per_position) = &self.per_position {
            // `point` is on the datum's own longitude/latitude: shift it as PROJ would there.
            let (lon, lat) = (point.0.to_degrees(), point.1.to_degrees());
            let shift = per_position
                .choose(lon, lat)
                .ok_or_else(|| per_position.uncovered(&self.label, lon, lat))?;
            shift
                .used
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            proj4rs::transform::transform(&shift.from, &per_position.wgs84, &mut point)
                .map_err(|e| format!("({}, {}) cannot be transformed: {e}", c.x, c.y))?;
        }
        let out = Coord {
            x: point.0.to_degrees(),
            y: point.1.to_degrees(),
        };
        if out.x.is_finite() && out.y.is_finite() {
            Ok(out)
        } else {
            Err(format!(
                "({}, {}) is outside the area {} can represent",
                c.x, c.y, self.label
            ))
        }
    }

    /// Which transformations moved how many positions, for the report; `None` when the
    /// datum has one shift for all.
    pub fn shifts_used(&self) -> Option<String> {
        let used: Vec<String> = self
            .per_position
            .as_ref()?
            .shifts
            .iter()
            .filter_map(|s| {
                let n = s.used.load(std::sync::atomic::Ordering::Relaxed);
                (n > 0).then(|| {
                    format!(
                        "{n} position(s) with EPSG:{} ({}, {} m)",
                        s.transformation.epsg,
                        s.transformation.description,
                        s.transformation.accuracy
                    )
                })
            })
            .collect();
        (!used.is_empty()).then(|| {
            format!(
                "reprojected from {} by where each position lies: {}",
                self.label,
                used.join("; ")
            )
        })
    }

    /// Reprojects every position of a geometry in place.
    pub fn apply(&self, geometry: &mut Geometry) -> Result<(), String> {
        try_for_each_coord(geometry, &mut |c| {
            *c = self.project(*c)?;
            Ok(())
        })
    }
}

impl PerPosition {
    /// The transformation PROJ applies at a position (its `proj_trans`): of those whose area
    /// holds it, the first in order of preference, displaced by a later one that is more
    /// accurate (or as accurate over a smaller area) and not offshore.
    fn choose(&self, lon: f64, lat: f64) -> Option<&Shift> {
        let mut best: Option<&Shift> = None;
        for shift in self
            .shifts
            .iter()
            .filter(|s| s.transformation.covers(lon, lat))
        {
            let t = shift.transformation;
            let better = match best {
                None => true,
                Some(b) => {
                    let b = b.transformation;
                    !t.is_offshore()
                        && (t.accuracy < b.accuracy
                            || (t.accuracy == b.accuracy && t.pseudo_area() < b.pseudo_area()))
                }
            };
            if better {
                best = Some(shift);
            }
        }
        best
    }

    /// Why a position no transformation of the datum covers is refused.
    fn uncovered(&self, label: &str, lon: f64, lat: f64) -> String {
        let areas: Vec<String> = self
            .shifts
            .iter()
            .map(|s| {
                let t = s.transformation;
                // "Name: area" in EPSG's words; the area is what the reader needs.
                let area = t
                    .description
                    .split_once(": ")
                    .map_or(&*t.description, |(_, a)| a);
                format!("EPSG:{} {area}", t.epsg)
            })
            .collect();
        format!(
            "({lon:.5}, {lat:.5}) in {label} lies where no EPSG transformation of its datum to WGS 84 applies (PROJ would shift it by a ballpark offset of up to a few hundred metres); its transformations cover: {}. Reproject to EPSG:4326 with the transformation your agency uses there",
            areas.join("; ")
        )
    }
}

/// Visits every position of a geometry mutably, stopping at the first error. (geo's
/// `try_map_coords_in_place` recurses through collections generically and cannot be
/// instantiated for `Geometry`.)
pub fn try_for_each_coord<E>(
    geometry: &mut Geometry,
    f: &mut impl FnMut(&mut Coord) -> Result<(), E>,
) -> Result<(), E> {
    fn line<E>(
        l: &mut geo::LineString,
        f: &mut impl FnMut(&mut Coord) -> Result<(), E>,
    ) -> Result<(), E> {
        l.0.iter_mut().try_for_each(f)
    }
    fn polygon<E>(
        p: &mut geo::Polygon,
        f: &mut impl FnMut(&mut Coord) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut exterior = Ok(());
        p.exterior_mut(|ring| exterior = line(ring, f));
        exterior?;
        let mut interiors = Ok(());
        p.interiors_mut(|rings| {
            interiors = rings.iter_mut().try_for_each(|r| line(r, f));
        });
        interiors
    }
    match geometry {
        Geometry::Point(p) => f(&mut p.0),
        Geometry::Line(l) => {
            f(&mut l.start)?;
            f(&mut l.end)
        }
        Geometry::LineString(l) => line(l, f),
        Geometry::Polygon(p) => polygon(p, f),
        Geometry::MultiPoint(mp) => mp.0.iter_mut().try_for_each(|p| f(&mut p.0)),
        Geometry::MultiLineString(ml) => ml.0.iter_mut().try_for_each(|l| line(l, f)),
        Geometry::MultiPolygon(mp) => mp.0.iter_mut().try_for_each(|p| polygon(p, f)),
        Geometry::GeometryCollection(gc) => {
            gc.0.iter_mut().try_for_each(|g| try_for_each_coord(g, f))
        }
        Geometry::Rect(r) => {
            let (mut min, mut max) = (r.min(), r.max());
            f(&mut min)?;
            f(&mut max)?;
            *r = geo::Rect::new(min, max);
            Ok(())
        }
        Geometry::Triangle(t) => {
            let mut cs = t.to_array();
            cs.iter_mut().try_for_each(&mut *f)?;
            *t = geo::Triangle::from(cs);
            Ok(())
        }
    }
}

enum NameRef {
    Lonlat,
    Epsg(u32),
}

/// Understands the ways CRSs are named in GeoJSON, OGC URNs and URLs and query strings.
fn parse_name(name: &str) -> Option<NameRef> {
    let upper = name.trim().to_ascii_uppercase();
    if upper.ends_with("CRS84") || upper == "WGS84" {
        return Some(NameRef::Lonlat);
    }
    let tail = upper
        .rsplit([':', '/'])
        .next()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))?;
    let is_epsg = upper.starts_with("EPSG:")
        || upper.starts_with("URN:OGC:DEF:CRS:EPSG:")
        || upper.contains("/DEF/CRS/EPSG/");
    if !is_epsg {
        return None;
    }
    tail.parse().ok().map(NameRef::Epsg)
}

/// The EPSG code a WKT carries at its top level (`AUTHORITY["EPSG","24047"]` in WKT 1,
/// `ID["EPSG",24047]` in WKT 2), or else the code its name resolves to.
fn wkt_code(wkt: &str) -> Option<u32> {
    if let Some(code) = top_level_authority(wkt) {
        return Some(code);
    }
    let name = wkt_name(wkt)?;
    if name.eq_ignore_ascii_case("GCS_WGS_1984") || name.eq_ignore_ascii_case("WGS 84") {
        return Some(4326);
    }
    code_for_name(&name)
}

/// The first quoted string: the name of the CRS.
fn wkt_name(wkt: &str) -> Option<String> {
    let start = wkt.find('"')? + 1;
    let end = start + wkt[start..].find('"')?;
    Some(wkt[start..end].to_string())
}

/// The name of the WKT's datum, as a key into [`DATUM_SHIFTS`].
fn wkt_datum(wkt: &str) -> Option<String> {
    let at = wkt.find("DATUM[\"")? + 7;
    let end = at + wkt[at..].find('"')?;
    Some(wkt[at..end].to_string())
}

fn top_level_authority(wkt: &str) -> Option<u32> {
    let bytes = wkt.as_bytes();
    let mut depth = 0i32;
    let mut in_string = false;
    let mut found = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => in_string = !in_string,
            b'[' | b'(' if !in_string => depth += 1,
            b']' | b')' if !in_string => depth -= 1,
            b',' if !in_string && depth == 1 => {
                let rest = wkt[i + 1..].trim_start();
                let upper: String = rest.chars().take(16).collect::<String>().to_uppercase();
                if upper.starts_with("AUTHORITY[") || upper.starts_with("ID[") {
                    let open = rest.find('[')? + 1;
                    let close = open + rest[open..].find(']')?;
                    let mut parts = rest[open..close]
                        .split(',')
                        .map(|p| p.trim().trim_matches('"'));
                    if parts.next().is_some_and(|a| a.eq_ignore_ascii_case("EPSG")) {
                        found = parts.next().and_then(|c| c.parse().ok());
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Normalises a CRS name for lookup: ESRI writes `Indian_1975_UTM_Zone_47N` for EPSG's
/// `Indian 1975 / UTM zone 47N`.
fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// The EPSG code of a CRS name or alias, from `names.tsv`.
pub fn code_for_name(name: &str) -> Option<u32> {
    static NAMES: OnceLock<HashMap<String, u32>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut map = HashMap::new();
        for line in include_str!("names.tsv").lines() {
            if line.starts_with('#') {
                continue;
            }
            if let Some((name, code)) = line.split_once('\t')
                && let Ok(code) = code.trim().parse::<u32>()
            {
                // First wins: the table lists current definitions before deprecated aliases.
                map.entry(name_key(name)).or_insert(code);
            }
        }
        map
    });
    names.get(&name_key(name)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_wkt_resolve_to_codes() {
        assert!(matches!(
            parse_name("urn:ogc:def:crs:EPSG::3405"),
            Some(NameRef::Epsg(3405))
        ));
        assert!(matches!(
            parse_name("http://www.opengis.net/def/crs/EPSG/0/32648"),
            Some(NameRef::Epsg(32648))
        ));
        assert!(matches!(parse_name("EPSG:3857"), Some(NameRef::Epsg(3857))));
        assert!(matches!(parse_name("OGC:CRS84"), Some(NameRef::Lonlat)));
        assert!(parse_name("urn:ogc:def:crs:ESRI::102490").is_none());
        assert_eq!(code_for_name("Indian_1975_UTM_Zone_47N"), Some(24047));
        assert_eq!(
            code_for_name("GDM_2000_MRSO_Peninsular_Malaysia"),
            Some(3375)
        );
        assert_eq!(
            wkt_code(
                r#"PROJCS["x",GEOGCS["y",AUTHORITY["EPSG","4326"]],AUTHORITY["EPSG","32648"]]"#
            ),
            Some(32648)
        );
        assert_eq!(
            wkt_code(r#"PROJCRS["x",BASEGEOGCRS["y",ID["EPSG",4326]],ID["EPSG",3405]]"#),
            Some(3405)
        );
    }

    #[test]
    fn unknown_crs_is_named_in_the_error() {
        let err =
            identify(Declared::Wkt(r#"PROJCS["My_Local_Grid",GEOGCS["x"]]"#)).expect_err("unknown");
        assert!(err.to_string().contains("My_Local_Grid"), "{err}");
        assert!(by_code(999_999).is_err());
    }
}
