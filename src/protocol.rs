//! The data protocol agencies upload against (docs/data-protocol.md), as code.
//!
//! [`prepare`] takes a decoded file the way an agency has it and makes it publishable where
//! that is unambiguous: it maps the agency's column names to the protocol's, infers the
//! layer kind, and normalises values (country names and codes to ISO alpha-3, commodity
//! synonyms and symbols to the published names, list separators to `", "`). Every
//! normalisation is reported as a warning; what cannot be corrected is an error, and a file
//! with errors is not published. Each problem names the feature by its position in the file
//! and by its own identifier and name, so the agency can find it in its GIS.

use std::collections::BTreeMap;

use crate::feature::{Feature, FeatureSet, FieldType, StringInterner, Value};
use crate::vocab;

/// How many errors, and how many warnings, a report lists in full; totals are always given.
pub const MAX_REPORTED: usize = 100;
/// How many distinct corrections (`field`, `from`, `to`) a report lists; the rest are
/// counted together per field.
pub const MAX_NORMALISATIONS: usize = 100;
/// The most characters of a value a report quotes.
pub const MAX_QUOTED: usize = 200;
/// The largest report, serialised: past it the last problems listed are left out (the
/// totals stay), so no answer about a file exceeds 64 KiB.
pub const MAX_REPORT_BYTES: usize = 60 << 10;

/// A value as a report quotes it: in quotes, escaped, cut to [`MAX_QUOTED`] characters.
fn quote(text: &str) -> String {
    format!("{:?}", crate::feature::abbreviate(text, MAX_QUOTED))
}

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
    pub const ALL: [Kind; 3] = [Kind::Occurrences, Kind::Geology, Kind::Other];

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "occurrences" => Some(Kind::Occurrences),
            "geology" => Some(Kind::Geology),
            "other" => Some(Kind::Other),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Occurrences => "occurrences",
            Kind::Geology => "geology",
            Kind::Other => "other",
        }
    }

    /// The protocol's properties for this kind, each with the column names agencies commonly
    /// use for it (matched without regard to case, spaces or punctuation; Shapefile's
    /// ten-character truncations included).
    fn properties(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Kind::Occurrences => &[
                (
                    "name",
                    &[
                        "site_name",
                        "sitename",
                        "deposit_name",
                        "deposit",
                        "occurrence",
                        "occurrence_name",
                        "mine_name",
                        "prospect_name",
                        "locality",
                        "nama",
                        "nama_lokasi",
                        "nama_lok",
                        "ten",
                        "ten_mo",
                        "chue",
                        "nom",
                    ],
                ),
                (
                    "commodities",
                    &[
                        "commoditie",
                        "commodity",
                        "commodity_list",
                        "commods",
                        "commod",
                        "komoditas",
                        "komoditi",
                        "khoang_san",
                        "mineral_commodities",
                        "minerals_commodities",
                    ],
                ),
                (
                    "country",
                    &[
                        "iso3",
                        "iso_a3",
                        "country_code",
                        "countrycode",
                        "iso_code",
                        "negara",
                        "quoc_gia",
                        "admin0",
                        "cntry_name",
                        "nation",
                    ],
                ),
                (
                    "status",
                    &[
                        "deposit_status",
                        "dev_status",
                        "development_status",
                        "status_",
                    ],
                ),
                (
                    "deposit_type",
                    &[
                        "deposit_ty",
                        "dep_type",
                        "deposit_model",
                        "model",
                        "type_deposit",
                    ],
                ),
                ("source", &["data_source", "sumber"]),
                ("reference", &["ref", "record_id", "reference_id"]),
            ],
            Kind::Geology => &[
                (
                    "unit_name",
                    &[
                        "unit",
                        "unitname",
                        "map_unit",
                        "formation",
                        "satuan",
                        "nama_satuan",
                    ],
                ),
                (
                    "lithology",
                    &["litho", "rock_type", "rocktype", "litologi", "lithologie"],
                ),
                ("age", &["era", "period", "epoch", "umur", "geol_age"]),
                ("source", &["data_source", "sumber"]),
            ],
            Kind::Other => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// 1-based position of the feature in the file; `None` for the file as a whole.
    pub feature: Option<u64>,
    /// The feature's own identifier (its `id`, `reference`, … property), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The feature's name, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field: Option<String>,
    pub reason: String,
}

/// One kind of correction, with how many features it touched.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Normalisation {
    pub field: String,
    pub from: String,
    pub to: String,
    pub features: usize,
}

/// Which column each protocol property was read from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mapped {
    pub property: String,
    pub column: String,
    /// `given` (`?fields=`) or `recognised` (a common alternative name).
    pub how: &'static str,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub kind: &'static str,
    #[serde(rename = "kindInferred")]
    pub kind_inferred: bool,
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    /// The first [`MAX_REPORTED`] errors, then the first [`MAX_REPORTED`] warnings.
    pub problems: Vec<Problem>,
    pub normalised: Vec<Normalisation>,
    pub columns: Vec<Mapped>,
    /// The CRS the file was reprojected from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crs: Option<String>,
    /// Problems listed that were left out to keep the report under [`MAX_REPORT_BYTES`].
    #[serde(rename = "problemsLeftOut", skip_serializing_if = "is_zero")]
    pub problems_left_out: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Report {
    pub fn is_valid(&self) -> bool {
        self.errors == 0
    }

    /// Leaves out the last problems listed until the report serialises to at most `max`
    /// bytes (errors are listed before warnings, so warnings go first).
    pub fn fit(&mut self, max: usize) {
        let size = |r: &Report| serde_json::to_vec(r).map_or(0, |v| v.len());
        while size(self) > max && !self.problems.is_empty() {
            let drop = self.problems.len().div_ceil(4);
            self.problems.truncate(self.problems.len() - drop);
            self.problems_left_out += drop;
        }
    }

    /// Adds an error about the file as a whole (a check made after the report was drawn up).
    pub fn add_error(&mut self, field: Option<&str>, reason: String) {
        self.errors += 1;
        self.valid = false;
        let at = self
            .problems
            .iter()
            .position(|p| p.severity == Severity::Warning)
            .unwrap_or(self.problems.len());
        self.problems.insert(
            at,
            Problem {
                severity: Severity::Error,
                feature: None,
                id: None,
                name: None,
                field: field.map(str::to_string),
                reason,
            },
        );
    }

    pub fn first_error(&self) -> Option<&Problem> {
        self.problems.iter().find(|p| p.severity == Severity::Error)
    }
}

/// `?fields=name:NAMA_LOKASI,commodities:KOMODITAS`: which of the file's columns holds each
/// protocol property.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldMapping(pub Vec<(String, String)>);

impl FieldMapping {
    pub fn parse(text: &str) -> Result<FieldMapping, String> {
        let mut pairs = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (property, column) = item
                .split_once(':')
                .map(|(p, c)| (p.trim(), c.trim()))
                .filter(|(p, c)| !p.is_empty() && !c.is_empty())
                .ok_or_else(|| format!("{item:?} is not property:COLUMN"))?;
            if pairs.iter().any(|(p, _): &(String, String)| p == property) {
                return Err(format!("property {property:?} is mapped twice"));
            }
            pairs.push((property.to_string(), column.to_string()));
        }
        Ok(FieldMapping(pairs))
    }
}

struct Collector {
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
    error_total: usize,
    warning_total: usize,
    /// Corrections by field, value as written and value published: looked up without
    /// allocating (this runs for every corrected value of every feature).
    normalised: BTreeMap<String, BTreeMap<String, BTreeMap<String, usize>>>,
    /// How many distinct corrections `normalised` holds.
    normalised_distinct: usize,
    /// Corrections past the first [`MAX_NORMALISATIONS`] distinct ones, by field.
    normalised_other: BTreeMap<String, usize>,
}

impl Collector {
    fn push(
        &mut self,
        severity: Severity,
        at: Option<&Who>,
        field: Option<&str>,
        reason: impl Into<String>,
    ) {
        let (list, total) = match severity {
            Severity::Error => (&mut self.errors, &mut self.error_total),
            Severity::Warning => (&mut self.warnings, &mut self.warning_total),
        };
        *total += 1;
        if list.len() < MAX_REPORTED {
            let cut = |s: &str| crate::feature::abbreviate(s, MAX_QUOTED);
            list.push(Problem {
                severity,
                feature: at.map(|w| w.position),
                id: at.and_then(|w| w.id.as_deref().map(cut)),
                name: at.and_then(|w| w.name.as_deref().map(cut)),
                field: field.map(cut),
                reason: crate::feature::abbreviate(&reason.into(), 3 * MAX_QUOTED),
            });
        }
    }

    fn error(&mut self, at: Option<&Who>, field: Option<&str>, reason: impl Into<String>) {
        self.push(Severity::Error, at, field, reason);
    }

    fn warn(&mut self, at: Option<&Who>, field: Option<&str>, reason: impl Into<String>) {
        self.push(Severity::Warning, at, field, reason);
    }

    /// A value corrected: a warning for the feature (written out only while the report
    /// still lists warnings), and a line in the summary.
    fn normalised(&mut self, at: &Who, field: &str, from: &str, to: &str) {
        if self.warnings.len() < MAX_REPORTED {
            self.warn(
                Some(at),
                Some(field),
                format!("{} was published as {}", quote(from), quote(to)),
            );
        } else {
            self.warning_total += 1;
        }
        self.count_normalised(field, from, to);
    }

    /// A line in the summary of corrections: one per distinct (`field`, `from`, `to`) up to
    /// [`MAX_NORMALISATIONS`], then one count per field for the rest.
    fn count_normalised(&mut self, field: &str, from: &str, to: &str) {
        let cut = |s: &str| crate::feature::abbreviate(s, MAX_QUOTED);
        let seen = |map: &mut BTreeMap<String, BTreeMap<String, BTreeMap<String, usize>>>,
                    from: &str,
                    to: &str| {
            map.get_mut(field)
                .and_then(|m| m.get_mut(from))
                .and_then(|m| m.get_mut(to))
                .map(|count| *count += 1)
                .is_some()
        };
        // As written, then cut as the summary stores a long value.
        if seen(&mut self.normalised, from, to) || seen(&mut self.normalised, &cut(from), &cut(to))
        {
            return;
        }
        if self.normalised_distinct < MAX_NORMALISATIONS {
            self.normalised_distinct += 1;
            self.normalised
                .entry(field.to_string())
                .or_default()
                .entry(cut(from))
                .or_default()
                .insert(cut(to), 1);
        } else {
            *self.normalised_other.entry(field.to_string()).or_default() += 1;
        }
    }
}

/// How a problem names a feature.
struct Who {
    position: u64,
    id: Option<String>,
    name: Option<String>,
}

/// Columns that hold a record's own identifier, in order of preference.
const ID_COLUMNS: [&str; 8] = [
    "id",
    "reference",
    "record_id",
    "site_id",
    "source_record_id",
    "code",
    "objectid",
    "fid",
];

/// Maps columns, infers the kind when `kind` is `None`, normalises what is unambiguous and
/// checks the rest. `set` is changed in place (renamed columns, corrected values,
/// single-point MultiPoints made Points); publish it only if the report is valid.
pub fn prepare(set: &mut FeatureSet, kind: Option<Kind>, mapping: &FieldMapping) -> Report {
    let mut out = Collector {
        errors: Vec::new(),
        warnings: Vec::new(),
        error_total: 0,
        warning_total: 0,
        normalised: BTreeMap::new(),
        normalised_distinct: 0,
        normalised_other: BTreeMap::new(),
    };
    for warning in &set.warnings {
        out.warn(None, None, warning.clone());
    }
    let columns = map_columns(set, kind, mapping, &mut out);
    let (kind, kind_inferred) = match kind {
        Some(k) => (k, false),
        None => (infer_kind(set), true),
    };
    // Columns recognised for another kind than the one inferred stay as they were named.
    let columns: Vec<Mapped> = columns
        .into_iter()
        .filter(|m| m.how == "given" || kind.properties().iter().any(|(p, _)| *p == m.property))
        .collect();
    for m in &columns {
        if m.how == "recognised" {
            out.warn(
                None,
                Some(&m.property),
                format!("column {:?} was read as {:?}", m.column, m.property),
            );
        }
    }
    let id_column = ID_COLUMNS.iter().find_map(|c| {
        set.fields
            .iter()
            .position(|f| f.name.eq_ignore_ascii_case(c))
    });
    let name_column = set
        .field_index("name")
        .or_else(|| set.field_index("unit_name"));
    let who = |feature: &Feature| Who {
        position: feature.id,
        id: id_column.and_then(|i| text_of(&feature.properties[i])),
        name: name_column.and_then(|i| text_of(&feature.properties[i])),
    };
    for (position, reason) in set.invalid.first() {
        out.error(
            Some(&Who {
                position: *position,
                id: None,
                name: None,
            }),
            None,
            reason.clone(),
        );
    }
    // Readers keep the first few invalid features; the rest still count.
    out.error_total += set.invalid.total() - set.invalid.first().len();
    if set.features.is_empty() && set.invalid.is_empty() {
        out.error(None, None, "the file has no features with a geometry");
    }
    match kind {
        Kind::Occurrences => occurrences(set, &who, &mut out),
        Kind::Geology => geology(set, &who, &mut out),
        Kind::Other => {}
    }
    let mut problems = out.errors;
    problems.extend(out.warnings);
    let mut normalised: Vec<Normalisation> = Vec::new();
    for (field, froms) in out.normalised {
        for (from, tos) in froms {
            for (to, features) in tos {
                normalised.push(Normalisation {
                    field: field.clone(),
                    from: from.clone(),
                    to,
                    features,
                });
            }
        }
    }
    normalised.extend(
        out.normalised_other
            .into_iter()
            .map(|(field, features)| Normalisation {
                field,
                from: "(other values)".into(),
                to: "(see the problems listed)".into(),
                features,
            }),
    );
    let mut report = Report {
        kind: kind.name(),
        kind_inferred,
        valid: out.error_total == 0,
        errors: out.error_total,
        warnings: out.warning_total,
        problems,
        normalised,
        columns,
        crs: set.crs.clone(),
        problems_left_out: 0,
    };
    report.fit(MAX_REPORT_BYTES);
    report
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

/// Renames columns to protocol properties: first as `?fields=` says, then where a column
/// has a common alternative name and the property's own name is not already taken.
fn map_columns(
    set: &mut FeatureSet,
    kind: Option<Kind>,
    mapping: &FieldMapping,
    out: &mut Collector,
) -> Vec<Mapped> {
    let mut mapped = Vec::new();
    for (property, column) in &mapping.0 {
        let found = set
            .fields
            .iter()
            .position(|f| f.name == *column)
            .or_else(|| {
                set.fields
                    .iter()
                    .position(|f| f.name.eq_ignore_ascii_case(column))
            });
        match found {
            None => out.error(
                None,
                Some(property),
                format!(
                    "?fields maps {property:?} to column {column:?}, which the file does not have (it has {})",
                    set.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ),
            Some(i) => {
                if let Some(clash) = set.fields.iter().position(|f| f.name == *property)
                    && clash != i
                {
                    // The file's own column of that name gives way, keeping its values.
                    set.fields[clash].name = format!("{property}_original");
                }
                mapped.push(Mapped {
                    property: property.clone(),
                    column: set.fields[i].name.clone(),
                    how: "given",
                });
                set.fields[i].name = property.clone();
            }
        }
    }
    let kinds: &[Kind] = match kind {
        Some(Kind::Occurrences) => &[Kind::Occurrences],
        Some(Kind::Geology) => &[Kind::Geology],
        Some(Kind::Other) => &[],
        None => &[Kind::Occurrences, Kind::Geology],
    };
    let key = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .flat_map(|c| c.to_lowercase())
            .collect()
    };
    for kind in kinds {
        for (property, alternatives) in kind.properties() {
            if set.fields.iter().any(|f| f.name == *property) {
                continue;
            }
            // The property itself in another case ("NAME"), then the alternatives in order.
            let wanted: Vec<String> = std::iter::once(*property)
                .chain(alternatives.iter().copied())
                .map(key)
                .collect();
            let found = wanted.iter().find_map(|w| {
                set.fields.iter().position(|f| {
                    key(&f.name) == *w && !mapped.iter().any(|m: &Mapped| m.property == f.name)
                })
            });
            if let Some(i) = found {
                mapped.push(Mapped {
                    property: property.to_string(),
                    column: set.fields[i].name.clone(),
                    how: "recognised",
                });
                set.fields[i].name = property.to_string();
            }
        }
    }
    mapped
}

/// A point file naming occurrences is `occurrences`; polygons describing units `geology`.
fn infer_kind(set: &FeatureSet) -> Kind {
    use geo::Geometry as G;
    let has = |name: &str| set.field_index(name).is_some();
    let all =
        |f: fn(&G) -> bool| !set.features.is_empty() && set.features.iter().all(|x| f(&x.geometry));
    let points =
        all(|g| matches!(g, G::Point(_)) || matches!(g, G::MultiPoint(mp) if mp.0.len() == 1));
    let areas = all(|g| matches!(g, G::Polygon(_) | G::MultiPolygon(_)));
    if points && (has("commodities") || has("name") && has("country")) {
        Kind::Occurrences
    } else if areas && has("unit_name") && (has("lithology") || has("age")) {
        Kind::Geology
    } else {
        Kind::Other
    }
}

fn occurrences(set: &mut FeatureSet, who: &impl Fn(&Feature) -> Who, out: &mut Collector) {
    let name = set.field_index("name");
    let commodities = set.field_index("commodities");
    // Points are coloured by their primary commodity's group: a file without that column
    // gets it, as the first listed commodity (the protocol lists the most important first).
    let mut primary = set.field_index("primary_commodity");
    let derive_primary = primary.is_none() && commodities.is_some();
    if derive_primary {
        set.fields.push(crate::feature::Field {
            name: "primary_commodity".into(),
            field_type: FieldType::String,
        });
        for feature in &mut set.features {
            // Exactly one more slot: `push` would double the vector (48 bytes a feature).
            feature.properties.reserve_exact(1);
            feature.properties.push(Value::Null);
        }
        primary = Some(set.fields.len() - 1);
    }
    let country = set.field_index("country");
    let status = set.field_index("status");
    if name.is_none() {
        out.warn(
            None,
            Some("name"),
            "the file has no name column: occurrences will be unnamed",
        );
    }
    if commodities.is_none() {
        out.error(
            None,
            Some("commodities"),
            "required property is missing from the file",
        );
    }
    if country.is_none() {
        out.error(
            None,
            Some("country"),
            "required property is missing from the file",
        );
    }
    // Normalised columns hold text whatever their type in the file (a code stored as a number).
    for idx in [name, commodities, primary, country, status]
        .into_iter()
        .flatten()
    {
        set.fields[idx].field_type = FieldType::String;
    }
    let mut strings = StringInterner::default();
    for feature in &mut set.features {
        let at = who(feature);
        if let geo::Geometry::MultiPoint(mp) = &feature.geometry
            && mp.0.len() == 1
        {
            feature.geometry = geo::Geometry::Point(mp.0[0]);
            out.normalised(&at, "geometry", "MultiPoint of one point", "Point");
        }
        if !matches!(feature.geometry, geo::Geometry::Point(_)) {
            out.error(Some(&at), None, "geometry must be a Point");
        }
        for idx in [name, commodities, primary, country, status]
            .into_iter()
            .flatten()
        {
            let value = &mut feature.properties[idx];
            if !matches!(value, Value::String(_) | Value::Null) {
                let text = value.to_text();
                *value = Value::String(strings.intern(&text));
            }
        }
        if let Some(i) = name {
            match current_text(&feature.properties[i]) {
                None => out.warn(Some(&at), Some("name"), "name is empty"),
                Some(raw) => {
                    let clean = clean_text(&raw);
                    if clean != raw {
                        out.normalised(&at, "name", &raw, &clean);
                        feature.properties[i] = Value::String(strings.intern(&clean));
                    }
                }
            }
        }
        if let Some(i) = commodities {
            match current_text(&feature.properties[i]) {
                None => out.warn(
                    Some(&at),
                    Some("commodities"),
                    "no commodity is listed: the occurrence is shown, but no commodity filter finds it",
                ),
                Some(raw) => {
                    // Published names are static; only a commodity in no list is owned.
                    let mut published: Vec<std::borrow::Cow<'static, str>> = Vec::new();
                    for item in vocab::input_items(&raw) {
                        let name = match vocab::commodity(item) {
                            Some(name) => {
                                if name != item {
                                    out.normalised(&at, "commodities", item, name);
                                }
                                std::borrow::Cow::Borrowed(name)
                            }
                            None => unlisted_commodity(&at, "commodities", item, out).into(),
                        };
                        if !published.contains(&name) {
                            published.push(name);
                        }
                    }
                    let joined = published.join(vocab::LIST_SEPARATOR);
                    if joined != raw {
                        let as_written: Vec<&str> = raw.split(vocab::LIST_SEPARATOR).collect();
                        let items: Vec<&str> = vocab::input_items(&raw).collect();
                        if as_written != items {
                            out.warn(
                                Some(&at),
                                Some("commodities"),
                                format!("the list {} was published as {} (one separator, \", \")", quote(&raw), quote(&joined)),
                            );
                            out.count_normalised(
                                "commodities",
                                "list separators , ; | and spacing",
                                vocab::LIST_SEPARATOR,
                            );
                        }
                        feature.properties[i] = if published.is_empty() {
                            Value::Null
                        } else {
                            Value::String(strings.intern(&joined))
                        };
                    }
                }
            }
        }
        if let (Some(p), Some(c)) = (primary, commodities)
            && current_text(&feature.properties[p]).is_none()
            && let Some(first) = current_text(&feature.properties[c])
                .and_then(|list| vocab::list_items(&list).next().map(str::to_string))
        {
            feature.properties[p] = Value::String(strings.intern(&first));
            if !derive_primary {
                out.warn(
                    Some(&at),
                    Some("primary_commodity"),
                    format!("empty: set to the first listed commodity, {first:?}"),
                );
            }
            out.count_normalised("primary_commodity", "(none)", "the first listed commodity");
        }
        if let Some(i) = primary
            && let Some(raw) = current_text(&feature.properties[i])
        {
            match vocab::commodity(&raw) {
                Some(name) if name != raw => {
                    out.normalised(&at, "primary_commodity", &raw, name);
                    feature.properties[i] = Value::String(strings.intern(name));
                }
                Some(_) => {}
                None => {
                    let kept = unlisted_commodity(&at, "primary_commodity", &raw, out);
                    if kept != raw {
                        feature.properties[i] = Value::String(strings.intern(&kept));
                    }
                }
            }
        }
        if let Some(i) = country {
            match current_text(&feature.properties[i]) {
                None => out.error(Some(&at), Some("country"), "country is empty"),
                Some(raw) => match vocab::country(&raw) {
                    Some(code) if code != raw => {
                        out.normalised(&at, "country", &raw, code);
                        feature.properties[i] = Value::String(strings.intern(code));
                    }
                    Some(_) => {}
                    None => out.error(
                        Some(&at),
                        Some("country"),
                        format!(
                            "{} is not an ASEAN member state or Timor-Leste (give an ISO 3166-1 alpha-3 code such as IDN, or the country's name)",
                            quote(&raw)
                        ),
                    ),
                },
            }
        }
        if let Some(i) = status
            && let Some(raw) = current_text(&feature.properties[i])
        {
            let folded = vocab::fold(&raw);
            match STATUSES.iter().find(|s| vocab::fold(s) == folded) {
                Some(s) if *s != raw => {
                    out.normalised(&at, "status", &raw, s);
                    feature.properties[i] = Value::String(strings.intern(s));
                }
                Some(_) => {}
                None => out.error(
                    Some(&at),
                    Some("status"),
                    format!("{} is not one of: {}", quote(&raw), STATUSES.join(", ")),
                ),
            }
        }
    }
}

/// A commodity no list knows: kept as the agency wrote it (spacing cleaned, Unicode NFC),
/// with a warning, and counted in the summary so a data manager sees each name once.
fn unlisted_commodity(at: &Who, field: &str, item: &str, out: &mut Collector) -> String {
    use unicode_normalization::UnicodeNormalization;
    let kept: String = clean_text(item).nfc().collect();
    out.warn(
        Some(at),
        Some(field),
        format!(
            "{} is in no commodity list the server knows (USGS MRDS, BGS World Mineral Statistics, their ore minerals): published as written, drawn as \"{}\"",
            quote(&kept),
            vocab::OTHER_COMMODITIES
        ),
    );
    out.count_normalised(field, &kept, "(kept as written: in no list)");
    kept
}

fn current_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.to_string()),
        _ => None,
    }
}

/// Text without control characters, leading or trailing space, or runs of spaces.
fn clean_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn geology(set: &mut FeatureSet, who: &impl Fn(&Feature) -> Who, out: &mut Collector) {
    let unit = set.field_index("unit_name");
    let lithology = set.field_index("lithology");
    let age = set.field_index("age");
    if unit.is_none() {
        out.error(
            None,
            Some("unit_name"),
            "required property is missing from the file",
        );
    }
    if lithology.is_none() && age.is_none() {
        out.error(
            None,
            Some("lithology"),
            "geological units need a lithology or an age property (or both)",
        );
    }
    for feature in &mut set.features {
        let at = who(feature);
        if let geo::Geometry::GeometryCollection(_)
        | geo::Geometry::Point(_)
        | geo::Geometry::MultiPoint(_)
        | geo::Geometry::LineString(_)
        | geo::Geometry::MultiLineString(_)
        | geo::Geometry::Line(_) = feature.geometry
        {
            out.error(
                Some(&at),
                None,
                "geometry must be a Polygon or MultiPolygon",
            );
        }
        if unit.is_some_and(|i| current_text(&feature.properties[i]).is_none()) {
            out.error(Some(&at), Some("unit_name"), "unit name is empty");
        }
        let has_class = [lithology, age]
            .into_iter()
            .flatten()
            .any(|i| current_text(&feature.properties[i]).is_some());
        if (lithology.is_some() || age.is_some()) && !has_class {
            out.error(
                Some(&at),
                Some("lithology"),
                "lithology and age are both empty",
            );
        }
    }
}
