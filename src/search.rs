//! Forgiving text search over a layer's text properties: case, accents and spacing do not
//! matter (`nui phao` finds "Núi Pháo"), every word of the query must begin a word of the
//! feature's text (`phu kh` finds "Phu Kham"), and matches are ranked: the whole name, then
//! the name's beginning, then words of the name, then words elsewhere.
//!
//! The items API's `q`, `/api/search` and the web map's search box all use this one matcher.

use std::collections::HashMap;
use std::sync::Arc;

use crate::feature::{Feature, Field, FieldType, Value};
use crate::vocab::fold;

/// How well a feature matches; lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// The name is the query.
    Name,
    /// The name begins with the query.
    NameStart,
    /// Every word of the query begins a word of the name.
    NameWords,
    /// Every word of the query begins a word of the name or of another text property.
    Anywhere,
}

/// A parsed query: its folded text and its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    text: String,
    words: Vec<String>,
}

impl Query {
    /// `None` when the query has no letters or digits to search for.
    pub fn parse(text: &str) -> Option<Query> {
        let text = fold(text);
        let words: Vec<String> = text
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect();
        (!words.is_empty()).then_some(Query { text, words })
    }
}

/// Folded text of one layer, built once (the first time the layer is searched).
pub struct SearchIndex {
    /// The name column's folded value per feature, in feature order.
    names: Vec<Option<Box<str>>>,
    name_column: Option<usize>,
    /// Folded text of every distinct value of the other text columns, by the address of the
    /// layer's shared string: values repeat (countries, commodities), names rarely do.
    others: HashMap<usize, Box<str>>,
    text_columns: Vec<usize>,
}

fn key(s: &Arc<str>) -> usize {
    Arc::as_ptr(s) as *const u8 as usize
}

/// The column searched first: `name`, else the first text column whose name contains "name".
fn name_column(fields: &[Field]) -> Option<usize> {
    fields.iter().position(|f| f.name == "name").or_else(|| {
        fields.iter().position(|f| {
            f.field_type == FieldType::String && f.name.to_lowercase().contains("name")
        })
    })
}

impl SearchIndex {
    pub fn build(fields: &[Field], features: &[Feature]) -> SearchIndex {
        let name_column = name_column(fields);
        let text_columns: Vec<usize> = fields
            .iter()
            .enumerate()
            .filter(|(i, f)| f.field_type == FieldType::String && Some(*i) != name_column)
            .map(|(i, _)| i)
            .collect();
        let mut others = HashMap::new();
        let names = features
            .iter()
            .map(|f| {
                for &c in &text_columns {
                    if let Value::String(s) = &f.properties[c] {
                        others
                            .entry(key(s))
                            .or_insert_with(|| fold(s).into_boxed_str());
                    }
                }
                match name_column.map(|c| &f.properties[c]) {
                    Some(Value::String(s)) => Some(fold(s).into_boxed_str()),
                    _ => None,
                }
            })
            .collect();
        SearchIndex {
            names,
            name_column,
            others,
            text_columns,
        }
    }

    /// How feature `pos` matches `query`, if it does.
    pub fn rank(&self, query: &Query, pos: usize, feature: &Feature) -> Option<Rank> {
        let name = self.names.get(pos).and_then(|n| n.as_deref()).unwrap_or("");
        if !name.is_empty() {
            if name == query.text {
                return Some(Rank::Name);
            }
            if name.starts_with(&query.text) {
                return Some(Rank::NameStart);
            }
        }
        let begins_a_word = |text: &str, word: &str| text.split(' ').any(|w| w.starts_with(word));
        let in_name: Vec<bool> = query.words.iter().map(|w| begins_a_word(name, w)).collect();
        if in_name.iter().all(|b| *b) {
            return Some(Rank::NameWords);
        }
        let elsewhere = |word: &str| {
            self.text_columns
                .iter()
                .any(|&c| match &feature.properties[c] {
                    Value::String(s) => self
                        .others
                        .get(&key(s))
                        .is_some_and(|t| begins_a_word(t, word)),
                    _ => false,
                })
        };
        query
            .words
            .iter()
            .zip(&in_name)
            .all(|(w, found)| *found || elsewhere(w))
            .then_some(Rank::Anywhere)
    }

    /// Whether the layer has a name column (search results are labelled by it).
    pub fn has_names(&self) -> bool {
        self.name_column.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(names: &[&str], others: &[&str]) -> (Vec<Field>, Vec<Feature>) {
        let fields = vec![
            Field {
                name: "name".into(),
                field_type: FieldType::String,
            },
            Field {
                name: "commodities".into(),
                field_type: FieldType::String,
            },
        ];
        let features = names
            .iter()
            .zip(others)
            .enumerate()
            .map(|(i, (n, o))| Feature {
                id: i as u64 + 1,
                geometry: geo::Geometry::Point(geo::point!(x: 0.0, y: 0.0)),
                properties: vec![Value::String((*n).into()), Value::String((*o).into())],
            })
            .collect();
        (fields, features)
    }

    #[test]
    fn accents_case_spacing_and_word_prefixes() {
        let (fields, features) = layer(
            &[
                "Núi Pháo",
                "Phu  Kham",
                "Nui Phao North",
                "Santo Niño",
                "Bukit Besi",
            ],
            &[
                "Tungsten",
                "Copper, Gold",
                "Tungsten",
                "Gold",
                "Iron, Phosphorus-Phosphates",
            ],
        );
        let index = SearchIndex::build(&fields, &features);
        let rank =
            |q: &str, i: usize| index.rank(&Query::parse(q).expect("words"), i, &features[i]);
        assert_eq!(rank("nui phao", 0), Some(Rank::Name));
        assert_eq!(rank("NUI PHAO", 2), Some(Rank::NameStart));
        assert_eq!(rank("phu kham", 1), Some(Rank::Name));
        assert_eq!(rank("kham", 1), Some(Rank::NameWords));
        assert_eq!(rank("santo nino", 3), Some(Rank::Name));
        assert_eq!(rank("nino", 3), Some(Rank::NameWords));
        assert_eq!(rank("besi iron", 4), Some(Rank::Anywhere));
        assert_eq!(rank("phosph", 4), Some(Rank::Anywhere));
        assert_eq!(rank("ham", 1), None, "words match from their start");
        assert!(Query::parse(" ,; ").is_none());
    }
}
