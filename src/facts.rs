//! What documents say about a layer (its geometry kinds, the values of its properties, its
//! classes, where to put its name), worked out once when a layer version is built rather
//! than by scanning every feature on every request for a catalog, a style or queryables.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::LayerMeta;
use crate::feature::{Feature, Field, FieldType, Value, geometry_name};

/// Text properties with at most this many distinct values list them (queryables' `enum`),
/// which is what lets a client build filter menus without downloading the layer.
pub const MAX_ENUM: usize = 200;

/// Facts about one layer version.
#[derive(Debug, Default)]
pub struct LayerFacts {
    /// GeoJSON geometry type names present, e.g. `{"MultiPolygon", "Polygon"}`.
    pub geometry_types: BTreeSet<&'static str>,
    pub has_points: bool,
    pub has_lines: bool,
    pub has_polygons: bool,
    /// Per field: its distinct values (list elements for list properties), sorted, when a
    /// text field has at most [`MAX_ENUM`] of them.
    pub enums: Vec<Option<Vec<String>>>,
    /// The values of the classifying property, most frequent first (ties by value).
    pub classes: Vec<String>,
    /// For layers with polygons and a `name`: one point per named feature inside its largest
    /// polygon, where the map writes its name (a tiled polygon would be named once per tile).
    pub label_points: Vec<LabelPoint>,
}

#[derive(Debug, Clone)]
pub struct LabelPoint {
    pub name: Value,
    /// 1 for an ASEAN member state (or a layer without the flag, which is only ASEAN).
    pub asean: i64,
    pub x: f64,
    pub y: f64,
}

impl LayerFacts {
    pub fn compute(meta: &LayerMeta, fields: &[Field], features: &[Feature]) -> LayerFacts {
        use geo::Geometry as G;
        let mut facts = LayerFacts::default();
        for f in features {
            facts.geometry_types.insert(geometry_name(&f.geometry));
            match f.geometry {
                G::Point(_) | G::MultiPoint(_) => facts.has_points = true,
                G::LineString(_) | G::MultiLineString(_) | G::Line(_) => facts.has_lines = true,
                G::Polygon(_) | G::MultiPolygon(_) | G::Rect(_) | G::Triangle(_) => {
                    facts.has_polygons = true
                }
                G::GeometryCollection(_) => {}
            }
        }
        facts.enums = fields
            .iter()
            .enumerate()
            .map(|(idx, field)| {
                (field.field_type == FieldType::String)
                    .then(|| distinct_text(features, idx, meta.lists.contains(&field.name)))
                    .flatten()
                    .map(|set| set.into_iter().collect())
            })
            .collect();
        let field_index = |name: &str| fields.iter().position(|f| f.name == name);
        if let Some(idx) = meta.classify.as_deref().and_then(field_index) {
            facts.classes = classes(features, idx);
        }
        if facts.has_polygons
            && let Some(name_idx) = field_index("name")
        {
            facts.label_points = label_points(features, name_idx, field_index("asean"));
        }
        facts
    }
}

/// The distinct values of text field `idx`; `None` past [`MAX_ENUM`] of them.
fn distinct_text(features: &[Feature], idx: usize, is_list: bool) -> Option<BTreeSet<String>> {
    let mut values = BTreeSet::new();
    for f in features {
        if let Value::String(v) = &f.properties[idx] {
            if is_list {
                values.extend(crate::vocab::list_items(v).map(str::to_string));
            } else if !values.contains(&**v) {
                values.insert(v.to_string());
            }
            if values.len() > MAX_ENUM {
                return None;
            }
        }
    }
    Some(values)
}

fn classes(features: &[Feature], idx: usize) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in features {
        if let Value::String(s) = &f.properties[idx] {
            *counts.entry(s).or_default() += 1;
        }
    }
    let mut sorted: Vec<(&str, usize)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    sorted.into_iter().map(|(v, _)| v.to_string()).collect()
}

fn label_points(
    features: &[Feature],
    name_idx: usize,
    asean_idx: Option<usize>,
) -> Vec<LabelPoint> {
    use geo::{Area, InteriorPoint};
    features
        .iter()
        .filter_map(|f| {
            let largest = match &f.geometry {
                geo::Geometry::Polygon(p) => Some(p),
                geo::Geometry::MultiPolygon(mp) => {
                    mp.0.iter()
                        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
                }
                _ => None,
            }?;
            let point = largest.interior_point()?;
            let asean = match asean_idx.map(|i| &f.properties[i]) {
                Some(Value::Int(i)) => *i,
                Some(Value::Bool(b)) => i64::from(*b),
                _ => 1,
            };
            Some(LabelPoint {
                name: f.properties[name_idx].clone(),
                asean,
                x: point.x(),
                y: point.y(),
            })
        })
        .collect()
}
