//! Items queries: parsing the query string strictly, then selecting features — a plain
//! function over the in-memory layer, testable without HTTP.

use geo::{Intersects, Rect, coord};

use crate::catalog::Layer;
use crate::error::ApiError;
use crate::feature::Value;
use crate::index::BBox;
use crate::search::{Query, Rank};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 10_000;
/// Most query parameters one `items` request may have (a property filter takes one per
/// value): far more than any client sends, few enough that matching stays cheap.
pub const MAX_PARAMS: usize = 100;
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
/// Parameters `/items` defines besides property filters.
pub const ITEMS_PARAMS: [&str; 7] = ["bbox", "bbox-crs", "limit", "offset", "f", "datetime", "q"];

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

fn parse_count(name: &str, text: &str, min: usize) -> Result<usize, ApiError> {
    let value: i128 = text
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid(name, format!("{text:?} is not an integer")))?;
    if value < min as i128 {
        return Err(ApiError::invalid(
            name,
            format!("must be at least {min}, got {value}"),
        ));
    }
    Ok(usize::try_from(value).unwrap_or(usize::MAX))
}

/// A light check of RFC 3339 instants and `a/b` intervals (either end may be `..`).
fn check_datetime(text: &str) -> Result<(), ApiError> {
    let instant = |s: &str| {
        s == ".."
            || s.is_empty()
            || (s.len() >= 10
                && s.as_bytes()[4] == b'-'
                && s.as_bytes()[7] == b'-'
                && s[..4].bytes().all(|b| b.is_ascii_digit()))
    };
    let ok = match text.split_once('/') {
        Some((a, b)) => instant(a) && instant(b) && !(a == ".." && b == ".."),
        None => text != ".." && !text.is_empty() && instant(text),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "datetime",
            format!("{text:?} is not an RFC 3339 date-time or interval"),
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
            "bbox-crs" if value == CRS84 => {}
            "bbox-crs" => {
                return Err(ApiError::invalid(
                    name,
                    format!("only {CRS84} is supported"),
                ));
            }
            "limit" => q.limit = Some(parse_count(name, value, 1)?.min(MAX_LIMIT)),
            "offset" => q.offset = parse_count(name, value, 0)?,
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
        assert!(parse_count("limit", "0", 1).is_err());
        assert!(parse_count("limit", "-5", 1).is_err());
        assert!(parse_count("limit", "ten", 1).is_err());
        assert_eq!(parse_count("offset", "0", 0).ok(), Some(0));
        assert!(check_datetime("2020-01-01T00:00:00Z/..").is_ok());
        assert!(check_datetime("yesterday").is_err());
    }
}
