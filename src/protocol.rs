//! The data protocol agencies upload against (docs/data-protocol.md), as code: per layer
//! kind, which geometry and which properties a file must have. Checking returns a report of
//! every problem (feature, field, reason), so an agency can fix a file in one pass.

use crate::feature::{Feature, FeatureSet, Value};

/// How many problems a report lists in full; the total is always given.
pub const MAX_REPORTED: usize = 100;

/// Commodity names accepted in `commodities` (MinMod commodity names, as the bundled
/// compilation uses them). Published in docs/data-protocol.md.
pub const COMMODITIES: &[&str] = &[
    "Aluminum",
    "Antimony",
    "Arsenic",
    "Barium",
    "Beryllium",
    "Bismuth",
    "Cadmium",
    "Calcium",
    "Cerium",
    "Cesium",
    "Chromium",
    "Clay",
    "Coal",
    "Cobalt",
    "Copper",
    "Diamond",
    "Dysprosium",
    "Erbium",
    "Europium",
    "Feldspar",
    "Fluorspar",
    "Gadolinium",
    "Gallium",
    "Gemstone > Jade",
    "Gemstone > Ruby",
    "Gemstone > Sapphire",
    "Germanium",
    "Gold",
    "Graphite",
    "Gypsum-Anhydrite",
    "Hafnium",
    "Holmium",
    "Indium",
    "Iridium",
    "Iron",
    "Kaolin",
    "Lanthanum",
    "Lead",
    "Limestone",
    "Lithium",
    "Lutetium",
    "Magnesite",
    "Magnesium",
    "Manganese",
    "Mercury",
    "Molybdenum",
    "Neodymium",
    "Nickel",
    "Niobium",
    "Olivine",
    "Osmium",
    "Palladium",
    "Phosphorus",
    "Phosphorus-Phosphates",
    "Platinum",
    "Platinum group elements",
    "Potassium",
    "Praseodymium",
    "Pyrite",
    "Quartz",
    "Rare Earth Elements",
    "Rhenium",
    "Rhodium",
    "Rubidium",
    "Ruthenium",
    "Salt",
    "Samarium",
    "Scandium",
    "Selenium",
    "Silica",
    "Silver",
    "Strontium",
    "Sulfur",
    "Tantalum",
    "Tellurium",
    "Terbium",
    "Thorium",
    "Thulium",
    "Tin",
    "Titanium",
    "Tungsten",
    "Uranium",
    "Vanadium",
    "Wollastonite",
    "Ytterbium",
    "Yttrium",
    "Zinc",
    "Zirconium",
];

/// ISO 3166-1 alpha-3 codes of the ASEAN member states and Timor-Leste.
pub const COUNTRIES: &[&str] = &[
    "BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM", "TLS",
];

/// Accepted values of the optional `status` of an occurrence.
pub const STATUSES: &[&str] = &[
    "occurrence",
    "prospect",
    "deposit",
    "past producer",
    "producer",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Occurrences,
    Geology,
    Other,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "occurrences" => Some(Kind::Occurrences),
            "geology" => Some(Kind::Geology),
            "other" => Some(Kind::Other),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    /// 1-based position of the feature in the file; `None` for the file as a whole.
    pub feature: Option<u64>,
    pub field: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub total: usize,
    /// The first [`MAX_REPORTED`] problems.
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn is_valid(&self) -> bool {
        self.total == 0
    }
}

struct Collector(Report);

impl Collector {
    fn push(&mut self, feature: Option<u64>, field: Option<&str>, reason: impl Into<String>) {
        self.0.total += 1;
        if self.0.problems.len() < MAX_REPORTED {
            self.0.problems.push(Problem {
                feature,
                field: field.map(str::to_string),
                reason: reason.into(),
            });
        }
    }
}

/// Checks a parsed file against the protocol for `kind`. Coordinates were already checked by
/// the reader (finite, in range, non-empty); this checks geometry types and properties.
pub fn check(set: &FeatureSet, kind: Kind) -> Report {
    let mut out = Collector(Report {
        total: 0,
        problems: Vec::new(),
    });
    for (feature, reason) in &set.invalid {
        out.push(Some(*feature), None, reason.clone());
    }
    if set.features.is_empty() && set.invalid.is_empty() {
        out.push(None, None, "the file has no features");
    }
    let field = |name: &str| set.field_index(name);
    let required: &[&str] = match kind {
        Kind::Occurrences => &["name", "commodities", "country"],
        Kind::Geology => &["unit_name"],
        Kind::Other => &[],
    };
    for name in required {
        if field(name).is_none() {
            out.push(
                None,
                Some(name),
                "required property is missing from the file",
            );
        }
    }
    if kind == Kind::Geology && field("lithology").is_none() && field("age").is_none() {
        out.push(
            None,
            Some("lithology"),
            "geological units need a lithology or an age property (or both)",
        );
    }
    for feature in &set.features {
        check_geometry(feature, kind, &mut out);
        match kind {
            Kind::Occurrences => check_occurrence(set, feature, &mut out),
            Kind::Geology => check_geology(set, feature, &mut out),
            Kind::Other => {}
        }
    }
    out.0
}

fn check_geometry(feature: &Feature, kind: Kind, out: &mut Collector) {
    use geo::Geometry as G;
    let ok = match kind {
        Kind::Occurrences => matches!(feature.geometry, G::Point(_)),
        Kind::Geology => matches!(feature.geometry, G::Polygon(_) | G::MultiPolygon(_)),
        Kind::Other => true,
    };
    if !ok {
        let expected = if kind == Kind::Occurrences {
            "Point"
        } else {
            "Polygon or MultiPolygon"
        };
        out.push(
            Some(feature.id),
            None,
            format!("geometry must be a {expected}"),
        );
    }
}

fn text<'a>(set: &FeatureSet, feature: &'a Feature, name: &str) -> Option<&'a str> {
    match set.field_index(name).map(|i| &feature.properties[i]) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        _ => None,
    }
}

fn check_occurrence(set: &FeatureSet, feature: &Feature, out: &mut Collector) {
    let id = Some(feature.id);
    if set.field_index("name").is_some() && text(set, feature, "name").is_none() {
        out.push(id, Some("name"), "name is empty");
    }
    if set.field_index("commodities").is_some() {
        match text(set, feature, "commodities") {
            None => out.push(
                id,
                Some("commodities"),
                "at least one commodity is required",
            ),
            Some(list) => {
                for item in list.split(',').map(str::trim) {
                    if !COMMODITIES.contains(&item) {
                        out.push(
                            id,
                            Some("commodities"),
                            format!("{item:?} is not in the published commodity list"),
                        );
                    }
                }
            }
        }
    }
    if set.field_index("country").is_some() {
        match text(set, feature, "country") {
            Some(code) if COUNTRIES.contains(&code) => {}
            Some(other) => out.push(
                id,
                Some("country"),
                format!(
                    "{other:?} is not an ISO 3166-1 alpha-3 code of an ASEAN member or Timor-Leste"
                ),
            ),
            None => out.push(id, Some("country"), "country is empty"),
        }
    }
    if let Some(status) = text(set, feature, "status")
        && !STATUSES.contains(&status)
    {
        out.push(
            id,
            Some("status"),
            format!("{status:?} is not one of: {}", STATUSES.join(", ")),
        );
    }
}

fn check_geology(set: &FeatureSet, feature: &Feature, out: &mut Collector) {
    let id = Some(feature.id);
    if set.field_index("unit_name").is_some() && text(set, feature, "unit_name").is_none() {
        out.push(id, Some("unit_name"), "unit name is empty");
    }
    let has_class =
        text(set, feature, "lithology").is_some() || text(set, feature, "age").is_some();
    if (set.field_index("lithology").is_some() || set.field_index("age").is_some()) && !has_class {
        out.push(id, Some("lithology"), "lithology and age are both empty");
    }
}
