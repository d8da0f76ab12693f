//! Items queries: parsing the query string strictly, then selecting features — a plain
//! function over the in-memory layer, testable without HTTP.

use geo::{Intersects, Rect, coord};

use crate::catalog::Layer;
use crate::error::ApiError;
use crate::feature::Value;
use crate::index::BBox;
use crate::search::{Query, Rank};

pub const DEFAULT_LIMIT: usize = 100;
/// The largest page, as the API definition advertises it (clients such as GDAL page at
/// this size); a larger `limit` is refused, as the definition says it is invalid.
pub const MAX_LIMIT: usize = 10_000;
/// The largest `offset` the API definition allows.
pub const MAX_OFFSET: usize = 1_000_000_000;
/// Most query parameters one `items` request may have (a property filter takes one per
/// value): far more than any client sends, few enough that matching stays cheap.
pub const MAX_PARAMS: usize = 100;
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
/// Parameters `/items` defines besides property filters.
pub const ITEMS_PARAMS: [&str; 8] = [
    "bbox", "bbox-crs", "crs", "limit", "offset", "f", "datetime", "q",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemsFormat {
    GeoJson,
    FlatGeobuf,
    Csv,
}

/// `?name=a&name=b`: the property equals one of the values (or, for a list property,
/// one of its elements does).
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyFilter {
    pub field: usize,
    pub any_of: Vec<String>,
    pub is_list: bool,
}

impl PropertyFilter {
    fn matches(&self, value: &Value) -> bool {
        match value {
            Value::String(s) if self.is_list => {
                crate::vocab::list_items(s).any(|item| self.any_of.iter().any(|v| v == item))
            }
            other => self.any_of.iter().any(|v| other.matches_text(v)),
        }
    }
}

/// The criteria of a selection, apart from paging.
#[derive(Debug, Clone, Default)]
pub struct Selection<'a> {
    pub bbox: Option<&'a BBox>,
    pub filters: &'a [PropertyFilter],
    /// Free-text search (see [`crate::search`]): matches are ranked.
    pub text: Option<&'a Query>,
}

#[derive(Debug, Clone)]
pub struct ItemsQuery {
    pub bbox: Option<BBox>,
    /// Page size after clamping to [`MAX_LIMIT`]; `None` when the client gave none.
    pub limit: Option<usize>,
    pub offset: usize,
    pub filters: Vec<PropertyFilter>,
    /// Free-text search: every word begins a word of the feature's text (case and accents
    /// ignored); results come best match first.
    pub text: Option<Query>,
    pub format: ItemsFormat,
    /// The parameters as given, to rebuild `self`/`next`/`prev` links.
    pub params: Vec<(String, String)>,
}

impl ItemsQuery {
    /// GeoJSON pages default to [`DEFAULT_LIMIT`]; downloads return everything unless asked.
    pub fn page_size(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// The query in a canonical form: the same selection, page and format however the
    /// client ordered, repeated or spelled its parameters (`country=PHL` and
    /// `country=Philippines`), for caching what it builds.
    pub fn cache_key(&self) -> String {
        let mut filters: Vec<(usize, Vec<&str>)> = self
            .filters
            .iter()
            .map(|f| {
                let mut values: Vec<&str> = f.any_of.iter().map(String::as_str).collect();
                values.sort_unstable();
                (f.field, values)
            })
            .collect();
        filters.sort();
        format!(
            "bbox={:?}\nfilters={filters:?}\nq={:?}\nlimit={:?}\noffset={}\nf={:?}",
            self.bbox
                .as_ref()
                .map(|b| [b.west, b.south, b.east, b.north]),
            self.text,
            self.limit,
            self.offset,
            self.format
        )
    }

    pub fn selection(&self) -> Selection<'_> {
        Selection {
            bbox: self.bbox.as_ref(),
            filters: &self.filters,
            text: self.text.as_ref(),
        }
    }
}

pub fn parse_bbox(text: &str) -> Result<BBox, ApiError> {
    let bad = |reason: String| ApiError::invalid("bbox", reason);
    let values: Vec<f64> = text
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .map_err(|_| bad(format!("{v:?} is not a number")))
        })
        .collect::<Result<_, _>>()?;
    let (west, south, east, north) = match values.as_slice() {
        [w, s, e, n] => (*w, *s, *e, *n),
        [w, s, _, e, n, _] => (*w, *s, *e, *n),
        _ => {
            return Err(bad(format!(
                "expected 4 numbers (west,south,east,north) or 6 with heights, got {}",
                values.len()
            )));
        }
    };
    if values.iter().any(|v| !v.is_finite()) {
        return Err(bad("values must be finite numbers".into()));
    }
    if ![west, east].iter().all(|x| (-180.0..=180.0).contains(x)) {
        return Err(bad("longitudes must be within -180..180".into()));
    }
    if ![south, north].iter().all(|y| (-90.0..=90.0).contains(y)) {
        return Err(bad("latitudes must be within -90..90".into()));
    }
    if south > north {
        return Err(bad(format!(
            "south ({south}) is greater than north ({north})"
        )));
    }
    Ok(BBox {
        west,
        south,
        east,
        north,
    })
}

fn parse_count(name: &str, text: &str, min: usize, max: usize) -> Result<usize, ApiError> {
    let value: i128 = text
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid(name, format!("{text:?} is not an integer")))?;
    if value < min as i128 || value > max as i128 {
        return Err(ApiError::invalid(
            name,
            format!("must be from {min} to {max}, got {value}"),
        ));
    }
    Ok(usize::try_from(value).unwrap_or(usize::MAX))
}

/// `crs` (OGC API Features Part 2) and `bbox-crs`: the layers are stored and served in
/// CRS84, the one CRS every collection lists.
pub fn check_crs(name: &str, value: &str) -> Result<(), ApiError> {
    if value == CRS84 {
        Ok(())
    } else {
        Err(ApiError::invalid(
            name,
            format!("{value:?} is not offered; every collection is served in {CRS84}"),
        ))
    }
}

/// What `datetime` accepts, as the regular expression the API definition gives (ASCII
/// digits, so a client and this server agree on every string): an RFC 3339 date or
/// date-time, or an interval `a/b` with one open end at most (`..` or nothing). Empty means
/// no filter.
pub const DATETIME_PATTERN: &str = concat!(
    "^(",
    "[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?",
    "|[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?/([.][.]|[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?)?",
    "|([.][.])?/[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?",
    ")?$"
);

/// An RFC 3339 date, or date-time with a fraction and an offset, by shape (the layers carry
/// no time yet, so every feature matches whatever instant is asked for).
fn is_instant(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|d| d.len() == range.len() && d.iter().all(u8::is_ascii_digit))
    };
    let date = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10);
    if !date {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    let time = matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19);
    if !time {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

/// Checks `datetime` against [`DATETIME_PATTERN`].
fn check_datetime(text: &str) -> Result<(), ApiError> {
    let ok = match text.split_once('/') {
        None => text.is_empty() || is_instant(text),
        Some((a, b)) if !b.contains('/') => {
            let open = |s: &str| s.is_empty() || s == "..";
            (is_instant(a) && (open(b) || is_instant(b))) || (open(a) && is_instant(b))
        }
        Some(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "datetime",
            format!(
                "{text:?} is not an RFC 3339 date, date-time or interval (a/b, one end may be ..)"
            ),
        ))
    }
}

/// A property filter's value must be of the property's type (the API definition says which):
/// `asean=null` or `n=abc` is a mistake to report, not a filter that silently matches nothing.
fn check_filter_value(layer: &Layer, field: usize, value: &str) -> Result<(), ApiError> {
    use crate::feature::FieldType;
    let f = &layer.fields[field];
    let ok = match f.field_type {
        FieldType::String => true,
        // Any integer, however long: one the layer cannot hold just matches nothing.
        FieldType::Integer => {
            let digits = value.strip_prefix('-').unwrap_or(value);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        FieldType::Number => value.parse::<f64>().is_ok_and(f64::is_finite),
        FieldType::Boolean => value == "true" || value == "false",
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            &f.name,
            format!("{value:?} is not {}", f.field_type.described()),
        ))
    }
}

pub fn parse_items_query(
    layer: &Layer,
    params: Vec<(String, String)>,
) -> Result<ItemsQuery, ApiError> {
    let mut q = ItemsQuery {
        bbox: None,
        limit: None,
        offset: 0,
        filters: Vec::new(),
        text: None,
        format: ItemsFormat::GeoJson,
        params: Vec::new(),
    };
    if params.len() > MAX_PARAMS {
        return Err(ApiError::invalid(
            "query",
            format!(
                "{} parameters; at most {MAX_PARAMS} (list several values of one property as one parameter each, or narrow the query)",
                params.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (name, value) in &params {
        if !seen.insert(name.as_str()) && ITEMS_PARAMS.contains(&name.as_str()) {
            return Err(ApiError::invalid(name, "given more than once"));
        }
        match name.as_str() {
            // An empty query (or one of punctuation only) searches for nothing: all match.
            "q" => q.text = Query::parse(value),
            "bbox" => q.bbox = Some(parse_bbox(value)?),
            "bbox-crs" | "crs" => check_crs(name, value)?,
            "limit" => q.limit = Some(parse_count(name, value, 1, MAX_LIMIT)?),
            "offset" => q.offset = parse_count(name, value, 0, MAX_OFFSET)?,
            "datetime" => check_datetime(value)?, // no layer has time yet: every feature matches
            "f" => {
                q.format = match value.as_str() {
                    "json" | "geojson" => ItemsFormat::GeoJson,
                    "fgb" | "flatgeobuf" => ItemsFormat::FlatGeobuf,
                    "csv" => ItemsFormat::Csv,
                    other => {
                        return Err(ApiError::invalid(
                            "f",
                            format!("{other:?} is not one of json, fgb, csv"),
                        ));
                    }
                }
            }
            property => match layer.field_index(property) {
                Some(field) => {
                    check_filter_value(layer, field, value)?;
                    let values = vocabulary_values(layer, property, value);
                    match q.filters.iter_mut().find(|f| f.field == field) {
                        Some(filter) => {
                            for v in values {
                                if !filter.any_of.contains(&v) {
                                    filter.any_of.push(v);
                                }
                            }
                        }
                        None => q.filters.push(PropertyFilter {
                            field,
                            any_of: values,
                            is_list: layer.meta.lists.iter().any(|l| l == property),
                        }),
                    }
                }
                None => {
                    return Err(ApiError::UnknownParameter(
                        property.to_string(),
                        format!(
                            "it is neither a standard parameter ({}) nor a property of layer {:?}",
                            ITEMS_PARAMS.join(", "),
                            layer.meta.id
                        ),
                    ));
                }
            },
        }
    }
    q.params = params;
    Ok(q)
}

/// What a filter value stands for on an occurrences layer, by the one vocabulary: a
/// commodity written any known way, with a family's members (`Rare Earth Elements` also finds
/// `Cerium`); a country by name or code. Elsewhere, and for unknown values, the value itself.
pub fn vocabulary_values(layer: &Layer, property: &str, value: &str) -> Vec<String> {
    if layer.meta.kind != "occurrences" {
        return vec![value.to_string()];
    }
    match property {
        "commodities" | "primary_commodity" => match crate::vocab::commodity(value) {
            Some(name) => crate::vocab::family_members(name)
                .into_iter()
                .map(str::to_string)
                .collect(),
            None => vec![value.to_string()],
        },
        "country" => vec![crate::vocab::country(value).unwrap_or(value).to_string()],
        _ => vec![value.to_string()],
    }
}

/// Positions of the features matching every criterion of `selection`: ascending, or with
/// a text search, best match first (then ascending), so paging is stable either way.
pub fn select(layer: &Layer, selection: &Selection) -> Vec<u32> {
    let matches = |pos: &u32| {
        let props = &layer.features[*pos as usize].properties;
        selection.filters.iter().all(|f| f.matches(&props[f.field]))
    };
    let positions: Vec<u32> = match selection.bbox {
        Some(bbox) => layer
            .index
            .query(bbox)
            .into_iter()
            .filter(|pos| geometry_intersects(&layer.features[*pos as usize].geometry, bbox))
            .filter(matches)
            .collect(),
        None => (0..layer.features.len() as u32).filter(matches).collect(),
    };
    let Some(query) = selection.text else {
        return positions;
    };
    let index = layer.search_index();
    let mut ranked: Vec<(Rank, u32)> = positions
        .into_iter()
        .filter_map(|pos| {
            index
                .rank(query, pos as usize, &layer.features[pos as usize])
                .map(|rank| (rank, pos))
        })
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().map(|(_, pos)| pos).collect()
}

/// Exact test (not just envelopes), as OGC API Features asks for `bbox`.
pub fn geometry_intersects(geometry: &geo::Geometry, bbox: &BBox) -> bool {
    let rect = |w: f64, e: f64| {
        Rect::new(
            coord! { x: w, y: bbox.south },
            coord! { x: e, y: bbox.north },
        )
    };
    if bbox.west <= bbox.east {
        geometry.intersects(&rect(bbox.west, bbox.east))
    } else {
        geometry.intersects(&rect(bbox.west, 180.0))
            || geometry.intersects(&rect(-180.0, bbox.east))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_validation() {
        assert!(parse_bbox("90,-10,140,25").is_ok());
        assert!(
            parse_bbox("170,-10,-170,10").is_ok(),
            "antimeridian crossing is valid"
        );
        for bad in [
            "1,2,3",
            "a,b,c,d",
            "NaN,0,1,1",
            "0,0,inf,1",
            "0,-91,1,1",
            "0,10,1,5",
            "0,0,181,1",
        ] {
            assert!(parse_bbox(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts() {
        assert!(parse_count("limit", "0", 1, 10).is_err());
        assert!(parse_count("limit", "-5", 1, 10).is_err());
        assert!(parse_count("limit", "ten", 1, 10).is_err());
        assert!(parse_count("limit", "11", 1, 10).is_err());
        assert_eq!(parse_count("limit", "10", 1, 10).ok(), Some(10));
        assert_eq!(parse_count("offset", "0", 0, 10).ok(), Some(0));
        assert!(check_datetime("2020-01-01T00:00:00Z/..").is_ok());
        assert!(check_datetime("yesterday").is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]

        /// The server accepts exactly the strings the API definition's pattern allows: pieces
        /// of dates, times and intervals glued at random, so near-misses are common.
        #[test]
        fn datetime_check_is_the_documented_pattern(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "2024", "-", "01", "1", "T", "t", ":", "00", "Z", "z", "+07:00", "-05:30", ".", "5",
                "/", "..", "x", " ", "０", "2024-01-01", "10:00:00", "2024-01-01T10:00:00Z",
            ]), 0..8)
        ) {
            let text: String = pieces.concat();
            static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
                regex::Regex::new(DATETIME_PATTERN).expect("the pattern compiles")
            });
            proptest::prop_assert_eq!(check_datetime(&text).is_ok(), PATTERN.is_match(&text), "{:?}", text);
        }
    }
}
