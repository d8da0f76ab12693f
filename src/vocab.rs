//! The one definition of the controlled vocabularies: the list separator, commodity names,
//! their synonyms and groups, the investor colour groups, the critical-minerals list and the
//! country codes. The data protocol normalises uploads with it, the `items` filters expand
//! groups with it, the styles colour with it, and the web map reads it from
//! `/api/vocabulary`, so a commodity means the same thing everywhere.

use std::collections::HashMap;
use std::sync::OnceLock;

/// How list properties are written once published: `"Copper, Gold, Molybdenum"`.
pub const LIST_SEPARATOR: &str = ", ";
/// Separators accepted in uploads; each is rewritten to [`LIST_SEPARATOR`].
pub const INPUT_SEPARATORS: [char; 3] = [',', ';', '|'];

/// The elements of a published list property, trimmed, empty ones left out.
///
/// ```
/// let items: Vec<&str> = amis_webgis::vocab::list_items("Copper, Gold,  Molybdenum").collect();
/// assert_eq!(items, ["Copper", "Gold", "Molybdenum"]);
/// ```
pub fn list_items(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// The elements of a list as an agency may write it (`,` `;` or `|`).
pub fn input_items(text: &str) -> impl Iterator<Item = &str> {
    text.split(INPUT_SEPARATORS)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Published commodity names: the MinMod names the regional compilation uses, with the
/// commodities of the USGS Mineral Resources Data System and the BGS World Mineral
/// Statistics that they lack (industrial minerals, construction materials and dimension
/// stone, energy minerals); see docs/commodities.md for the sources. A commodity outside
/// this list is still published, as written, with a warning and the "Other" colour.
pub const COMMODITIES: &[&str] = &[
    "Abrasives",
    "Aluminum",
    "Andalusite",
    "Antimony",
    "Arsenic",
    "Asbestos",
    "Barium",
    "Basalt",
    "Bentonite",
    "Beryllium",
    "Bismuth",
    "Boron-Borates",
    "Bromine",
    "Cadmium",
    "Calcium",
    "Cement raw materials",
    "Cerium",
    "Cesium",
    "Chromium",
    "Clay",
    "Coal",
    "Cobalt",
    "Copper",
    "Corundum",
    "Diamond",
    "Diatomite",
    "Dimension stone",
    "Dolomite",
    "Dysprosium",
    "Erbium",
    "Europium",
    "Feldspar",
    "Fluorspar",
    "Gadolinium",
    "Gallium",
    "Garnet",
    "Gemstone",
    "Gemstone > Jade",
    "Gemstone > Ruby",
    "Gemstone > Sapphire",
    "Germanium",
    "Gold",
    "Granite",
    "Graphite",
    "Gypsum-Anhydrite",
    "Hafnium",
    "Helium",
    "Holmium",
    "Indium",
    "Iodine",
    "Iridium",
    "Iron",
    "Kaolin",
    "Kyanite",
    "Lanthanum",
    "Lead",
    "Limestone",
    "Lithium",
    "Lutetium",
    "Magnesite",
    "Magnesium",
    "Manganese",
    "Marble",
    "Mercury",
    "Mica",
    "Molybdenum",
    "Natural gas",
    "Neodymium",
    "Nepheline syenite",
    "Nickel",
    "Niobium",
    "Nitrogen-Nitrates",
    "Oil shale",
    "Olivine",
    "Osmium",
    "Palladium",
    "Peat",
    "Perlite",
    "Petroleum",
    "Phosphorus",
    "Phosphorus-Phosphates",
    "Platinum",
    "Platinum group elements",
    "Potassium",
    "Praseodymium",
    "Promethium",
    "Pumice",
    "Pyrite",
    "Pyrophyllite",
    "Quartz",
    "Rare Earth Elements",
    "Rhenium",
    "Rhodium",
    "Rubidium",
    "Ruthenium",
    "Salt",
    "Samarium",
    "Sand and gravel",
    "Sandstone",
    "Scandium",
    "Selenium",
    "Shale",
    "Silica",
    "Sillimanite",
    "Silver",
    "Slate",
    "Sodium",
    "Sodium carbonate",
    "Stone, crushed",
    "Strontium",
    "Sulfur",
    "Talc-Soapstone",
    "Tantalum",
    "Tellurium",
    "Terbium",
    "Thallium",
    "Thorium",
    "Thulium",
    "Tin",
    "Titanium",
    "Tungsten",
    "Uranium",
    "Vanadium",
    "Vermiculite",
    "Wollastonite",
    "Ytterbium",
    "Yttrium",
    "Zeolites",
    "Zinc",
    "Zirconium",
];

/// Other ways agencies write a commodity: chemical symbols, British spellings, ore and
/// mineral names and rock or product names that stand for one commodity unambiguously
/// (a mineral that is an ore of two, like columbite-tantalite or carnotite, is left out).
/// Matched without regard to case, accents or punctuation.
pub const COMMODITY_SYNONYMS: &[(&str, &str)] = &[
    ("Al", "Aluminum"),
    ("Aluminium", "Aluminum"),
    ("Bauxite", "Aluminum"),
    ("Sb", "Antimony"),
    ("Stibnite", "Antimony"),
    ("As", "Arsenic"),
    ("Ba", "Barium"),
    ("Barite", "Barium"),
    ("Baryte", "Barium"),
    ("Be", "Beryllium"),
    ("Bi", "Bismuth"),
    ("Cd", "Cadmium"),
    ("Ca", "Calcium"),
    ("Ce", "Cerium"),
    ("Cs", "Cesium"),
    ("Caesium", "Cesium"),
    ("Cr", "Chromium"),
    ("Chromite", "Chromium"),
    ("Chrome", "Chromium"),
    ("Co", "Cobalt"),
    ("Cu", "Copper"),
    ("Dy", "Dysprosium"),
    ("Er", "Erbium"),
    ("Eu", "Europium"),
    ("Fluorite", "Fluorspar"),
    ("Gd", "Gadolinium"),
    ("Ga", "Gallium"),
    ("Jade", "Gemstone > Jade"),
    ("Ruby", "Gemstone > Ruby"),
    ("Sapphire", "Gemstone > Sapphire"),
    ("Ge", "Germanium"),
    ("Au", "Gold"),
    ("Gypsum", "Gypsum-Anhydrite"),
    ("Anhydrite", "Gypsum-Anhydrite"),
    ("Hf", "Hafnium"),
    ("Ho", "Holmium"),
    ("In", "Indium"),
    ("Ir", "Iridium"),
    ("Fe", "Iron"),
    ("Iron ore", "Iron"),
    ("La", "Lanthanum"),
    ("Pb", "Lead"),
    ("Li", "Lithium"),
    ("Lu", "Lutetium"),
    ("Mg", "Magnesium"),
    ("Mn", "Manganese"),
    ("Hg", "Mercury"),
    ("Mo", "Molybdenum"),
    ("Nd", "Neodymium"),
    ("Ni", "Nickel"),
    ("Nb", "Niobium"),
    ("Columbium", "Niobium"),
    ("Os", "Osmium"),
    ("Pd", "Palladium"),
    ("P", "Phosphorus"),
    ("Phosphate", "Phosphorus-Phosphates"),
    ("Phosphates", "Phosphorus-Phosphates"),
    ("Phosphorite", "Phosphorus-Phosphates"),
    ("Pt", "Platinum"),
    ("PGE", "Platinum group elements"),
    ("PGM", "Platinum group elements"),
    ("Platinum group metals", "Platinum group elements"),
    ("K", "Potassium"),
    ("Potash", "Potassium"),
    ("Pr", "Praseodymium"),
    ("Pm", "Promethium"),
    ("REE", "Rare Earth Elements"),
    ("Rare earths", "Rare Earth Elements"),
    ("Rare earth", "Rare Earth Elements"),
    ("Re", "Rhenium"),
    ("Rh", "Rhodium"),
    ("Rb", "Rubidium"),
    ("Ru", "Ruthenium"),
    ("Halite", "Salt"),
    ("Sm", "Samarium"),
    ("Sc", "Scandium"),
    ("Se", "Selenium"),
    ("Silica sand", "Silica"),
    ("Ag", "Silver"),
    ("Sr", "Strontium"),
    ("S", "Sulfur"),
    ("Sulphur", "Sulfur"),
    ("Ta", "Tantalum"),
    ("Te", "Tellurium"),
    ("Tb", "Terbium"),
    ("Th", "Thorium"),
    ("Tm", "Thulium"),
    ("Sn", "Tin"),
    ("Cassiterite", "Tin"),
    ("Ti", "Titanium"),
    ("W", "Tungsten"),
    ("Wolfram", "Tungsten"),
    ("U", "Uranium"),
    ("V", "Vanadium"),
    ("Yb", "Ytterbium"),
    ("Y", "Yttrium"),
    ("Zn", "Zinc"),
    ("Zr", "Zirconium"),
    // Ore minerals, rock and product names that stand for one commodity (docs/commodities.md).
    ("Hematite", "Iron"),
    ("Haematite", "Iron"),
    ("Magnetite", "Iron"),
    ("Limonite", "Iron"),
    ("Goethite", "Iron"),
    ("Siderite", "Iron"),
    ("Iron sand", "Iron"),
    ("Laterite iron", "Iron"),
    ("Chalcopyrite", "Copper"),
    ("Chalcocite", "Copper"),
    ("Bornite", "Copper"),
    ("Covellite", "Copper"),
    ("Malachite", "Copper"),
    ("Azurite", "Copper"),
    ("Cuprite", "Copper"),
    ("Enargite", "Copper"),
    ("Galena", "Lead"),
    ("Sphalerite", "Zinc"),
    ("Smithsonite", "Zinc"),
    ("Cinnabar", "Mercury"),
    ("Molybdenite", "Molybdenum"),
    ("Pentlandite", "Nickel"),
    ("Garnierite", "Nickel"),
    ("Nickel laterite", "Nickel"),
    ("Lateritic nickel", "Nickel"),
    ("Cobaltite", "Cobalt"),
    ("Ilmenite", "Titanium"),
    ("Rutile", "Titanium"),
    ("Zircon", "Zirconium"),
    ("Baddeleyite", "Zirconium"),
    ("Monazite", "Rare Earth Elements"),
    ("Xenotime", "Rare Earth Elements"),
    ("Bastnaesite", "Rare Earth Elements"),
    ("Bastnasite", "Rare Earth Elements"),
    ("Ion-adsorption clay", "Rare Earth Elements"),
    ("Spodumene", "Lithium"),
    ("Lepidolite", "Lithium"),
    ("Petalite", "Lithium"),
    ("Beryl", "Beryllium"),
    ("Columbite", "Niobium"),
    ("Tantalite", "Tantalum"),
    ("Wolframite", "Tungsten"),
    ("Scheelite", "Tungsten"),
    ("Ferberite", "Tungsten"),
    ("Huebnerite", "Tungsten"),
    ("Pyrolusite", "Manganese"),
    ("Psilomelane", "Manganese"),
    ("Rhodochrosite", "Manganese"),
    ("Braunite", "Manganese"),
    ("Realgar", "Arsenic"),
    ("Orpiment", "Arsenic"),
    ("Arsenopyrite", "Arsenic"),
    ("Uraninite", "Uranium"),
    ("Pitchblende", "Uranium"),
    ("Argentite", "Silver"),
    ("Acanthite", "Silver"),
    ("Celestite", "Strontium"),
    ("Celestine", "Strontium"),
    ("Strontianite", "Strontium"),
    ("Apatite", "Phosphorus-Phosphates"),
    ("Phosphate rock", "Phosphorus-Phosphates"),
    ("Guano", "Phosphorus-Phosphates"),
    ("Sylvite", "Potassium"),
    ("Carnallite", "Potassium"),
    ("Borax", "Boron-Borates"),
    ("Borates", "Boron-Borates"),
    ("Boron", "Boron-Borates"),
    ("Kernite", "Boron-Borates"),
    ("Colemanite", "Boron-Borates"),
    ("Kaolinite", "Kaolin"),
    ("China clay", "Kaolin"),
    ("Ball clay", "Clay"),
    ("Fire clay", "Clay"),
    ("Fireclay", "Clay"),
    ("Common clay", "Clay"),
    ("Brick clay", "Clay"),
    ("Fuller's earth", "Bentonite"),
    ("Fullers earth", "Bentonite"),
    ("Muscovite", "Mica"),
    ("Phlogopite", "Mica"),
    ("Sericite", "Mica"),
    ("Chrysotile", "Asbestos"),
    ("Talc", "Talc-Soapstone"),
    ("Soapstone", "Talc-Soapstone"),
    ("Steatite", "Talc-Soapstone"),
    ("Lignite", "Coal"),
    ("Anthracite", "Coal"),
    ("Bituminous coal", "Coal"),
    ("Sub-bituminous coal", "Coal"),
    ("Brown coal", "Coal"),
    ("Coking coal", "Coal"),
    ("Thermal coal", "Coal"),
    ("Crude oil", "Petroleum"),
    ("Oil", "Petroleum"),
    ("Gas", "Natural gas"),
    ("Tar sands", "Petroleum"),
    ("Oil sands", "Petroleum"),
    ("Jadeite", "Gemstone > Jade"),
    ("Nephrite", "Gemstone > Jade"),
    ("Gem", "Gemstone"),
    ("Gems", "Gemstone"),
    ("Gemstones", "Gemstone"),
    ("Precious stones", "Gemstone"),
    ("Emerald", "Gemstone"),
    ("Spinel", "Gemstone"),
    ("Peridot", "Gemstone"),
    ("Topaz", "Gemstone"),
    ("Tourmaline", "Gemstone"),
    ("Amber", "Gemstone"),
    ("Emery", "Abrasives"),
    ("Tripoli", "Abrasives"),
    ("Construction sand", "Sand and gravel"),
    ("Gravel", "Sand and gravel"),
    ("Sand & gravel", "Sand and gravel"),
    ("Construction aggregate", "Stone, crushed"),
    ("Crushed stone", "Stone, crushed"),
    ("Broken stone", "Stone, crushed"),
    ("Crushed rock", "Stone, crushed"),
    ("Aggregate", "Stone, crushed"),
    ("Road stone", "Stone, crushed"),
    ("Building stone", "Dimension stone"),
    ("Ornamental stone", "Dimension stone"),
    ("Decorative stone", "Dimension stone"),
    ("Cement rock", "Cement raw materials"),
    ("Cement", "Cement raw materials"),
    ("Cement raw material", "Cement raw materials"),
    ("Marl", "Cement raw materials"),
    ("Dolostone", "Dolomite"),
    ("Limestone (general)", "Limestone"),
    ("Chalk", "Limestone"),
    ("Zeolite", "Zeolites"),
    ("Diatomaceous earth", "Diatomite"),
    ("Kieselguhr", "Diatomite"),
    ("Pumicite", "Pumice"),
    ("Volcanic ash", "Pumice"),
    ("Glass sand", "Silica"),
    ("Quartz sand", "Silica"),
    ("Quartzite", "Silica"),
    ("Chert", "Silica"),
    ("Trona", "Sodium carbonate"),
    ("Soda ash", "Sodium carbonate"),
    ("Natron", "Sodium carbonate"),
    ("Rock salt", "Salt"),
    ("Nitrates", "Nitrogen-Nitrates"),
    ("Nitrate", "Nitrogen-Nitrates"),
    ("Nitrogen", "Nitrogen-Nitrates"),
    ("Saltpeter", "Nitrogen-Nitrates"),
    ("Tl", "Thallium"),
    ("Br", "Bromine"),
    ("I", "Iodine"),
    ("He", "Helium"),
    ("Na", "Sodium"),
    ("B", "Boron-Borates"),
    ("Granitic rock", "Granite"),
    ("Andalucite", "Andalusite"),
    ("Disthene", "Kyanite"),
    ("Nepheline", "Nepheline syenite"),
    ("Expanded perlite", "Perlite"),
    ("Feldspathic sand", "Feldspar"),
    ("Fluorine", "Fluorspar"),
];

/// Commodities that stand for a family: a filter on the family also finds occurrences that
/// list only its members. The 17 rare earth elements (IUPAC: Sc, Y and the 15 lanthanides)
/// and the six platinum group elements.
pub const COMMODITY_FAMILIES: &[(&str, &[&str])] = &[
    (
        "Rare Earth Elements",
        &[
            "Scandium",
            "Yttrium",
            "Lanthanum",
            "Cerium",
            "Praseodymium",
            "Neodymium",
            "Promethium",
            "Samarium",
            "Europium",
            "Gadolinium",
            "Terbium",
            "Dysprosium",
            "Holmium",
            "Erbium",
            "Thulium",
            "Ytterbium",
            "Lutetium",
        ],
    ),
    (
        "Platinum group elements",
        &[
            "Platinum",
            "Palladium",
            "Rhodium",
            "Ruthenium",
            "Iridium",
            "Osmium",
        ],
    ),
];

/// A group of commodities as investors think of them, with the colour the map uses.
#[derive(Debug, serde::Serialize)]
pub struct ColourGroup {
    pub label: &'static str,
    pub color: &'static str,
    pub commodities: &'static [&'static str],
}

/// Every published commodity is in exactly one group (a test checks); a commodity outside
/// the list is drawn as [`OTHER_COMMODITIES`], and a point is grey only when it names no
/// commodity at all.
pub const COLOUR_GROUPS: &[ColourGroup] = &[
    ColourGroup {
        label: "Precious metals & gems",
        color: "#d4a017",
        commodities: &[
            "Gold",
            "Silver",
            "Platinum group elements",
            "Platinum",
            "Palladium",
            "Rhodium",
            "Ruthenium",
            "Iridium",
            "Osmium",
            "Diamond",
            "Gemstone",
            "Gemstone > Jade",
            "Gemstone > Ruby",
            "Gemstone > Sapphire",
        ],
    },
    ColourGroup {
        label: "Base metals",
        color: "#c0504d",
        commodities: &[
            "Copper",
            "Zinc",
            "Lead",
            "Iron",
            "Aluminum",
            "Molybdenum",
            "Mercury",
            "Cadmium",
            "Arsenic",
        ],
    },
    ColourGroup {
        label: "Battery & technology metals",
        color: "#2e86ab",
        commodities: &[
            "Nickel",
            "Cobalt",
            "Lithium",
            "Graphite",
            "Manganese",
            "Chromium",
            "Rare Earth Elements",
            "Scandium",
            "Yttrium",
            "Lanthanum",
            "Cerium",
            "Praseodymium",
            "Neodymium",
            "Promethium",
            "Samarium",
            "Europium",
            "Gadolinium",
            "Terbium",
            "Dysprosium",
            "Holmium",
            "Erbium",
            "Thulium",
            "Ytterbium",
            "Lutetium",
            "Tin",
            "Tungsten",
            "Titanium",
            "Zirconium",
            "Hafnium",
            "Vanadium",
            "Antimony",
            "Bismuth",
            "Gallium",
            "Germanium",
            "Indium",
            "Tantalum",
            "Niobium",
            "Magnesium",
            "Beryllium",
            "Cesium",
            "Rubidium",
            "Rhenium",
            "Selenium",
            "Tellurium",
            "Strontium",
            "Thallium",
        ],
    },
    ColourGroup {
        label: "Industrial minerals",
        color: "#6a994e",
        commodities: &[
            "Phosphorus-Phosphates",
            "Phosphorus",
            "Potassium",
            "Clay",
            "Kaolin",
            "Sulfur",
            "Pyrite",
            "Gypsum-Anhydrite",
            "Salt",
            "Limestone",
            "Calcium",
            "Magnesite",
            "Olivine",
            "Silica",
            "Quartz",
            "Feldspar",
            "Fluorspar",
            "Wollastonite",
            "Barium",
            "Abrasives",
            "Andalusite",
            "Asbestos",
            "Bentonite",
            "Boron-Borates",
            "Bromine",
            "Corundum",
            "Diatomite",
            "Dolomite",
            "Garnet",
            "Helium",
            "Iodine",
            "Kyanite",
            "Mica",
            "Nepheline syenite",
            "Nitrogen-Nitrates",
            "Perlite",
            "Pumice",
            "Pyrophyllite",
            "Sillimanite",
            "Sodium",
            "Sodium carbonate",
            "Talc-Soapstone",
            "Vermiculite",
            "Zeolites",
        ],
    },
    ColourGroup {
        label: "Construction materials & dimension stone",
        color: "#a47551",
        commodities: &[
            "Basalt",
            "Cement raw materials",
            "Dimension stone",
            "Granite",
            "Marble",
            "Sand and gravel",
            "Sandstone",
            "Shale",
            "Slate",
            "Stone, crushed",
        ],
    },
    ColourGroup {
        label: "Energy minerals",
        color: "#3d3d3d",
        commodities: &[
            "Coal",
            "Uranium",
            "Thorium",
            "Natural gas",
            "Petroleum",
            "Oil shale",
            "Peat",
        ],
    },
];

/// A commodity no list knows is published as written (the agency's word is kept, with a
/// warning) and drawn in this group's colour.
pub const OTHER_COMMODITIES: &str = "Other commodities";
pub const OTHER_COMMODITIES_COLOUR: &str = "#9467bd";

/// Colour of a point that names no commodity.
pub const UNSPECIFIED_COLOUR: &str = "#8c8c8c";

/// The critical-minerals list behind the map's preset, with its source.
#[derive(Debug, serde::Serialize)]
pub struct CriticalList {
    pub name: &'static str,
    pub source: &'static str,
    pub url: &'static str,
    pub commodities: &'static [&'static str],
}

/// The key energy transition minerals of the IEA's Global Critical Minerals Outlook 2024,
/// which the regional action plan AMCAP-IV cites. "Rare Earth Elements" is a family, so the
/// preset also finds occurrences that list individual rare earths.
pub const CRITICAL_MINERALS: CriticalList = CriticalList {
    name: "Key energy transition minerals (IEA Global Critical Minerals Outlook 2024)",
    source: "IEA (2024), Global Critical Minerals Outlook 2024, IEA, Paris. Licence: CC BY 4.0",
    url: "https://www.iea.org/reports/global-critical-minerals-outlook-2024",
    commodities: &[
        "Copper",
        "Lithium",
        "Nickel",
        "Cobalt",
        "Graphite",
        "Rare Earth Elements",
    ],
};

/// An ASEAN member state or Timor-Leste: the code the protocol publishes, its display name,
/// and the other ways files name it.
#[derive(Debug, serde::Serialize)]
pub struct Country {
    pub iso3: &'static str,
    pub name: &'static str,
    pub iso2: &'static str,
    #[serde(skip)]
    pub variants: &'static [&'static str],
}

pub const COUNTRIES: &[Country] = &[
    Country {
        iso3: "BRN",
        name: "Brunei Darussalam",
        iso2: "BN",
        variants: &["Brunei", "Negara Brunei Darussalam"],
    },
    Country {
        iso3: "KHM",
        name: "Cambodia",
        iso2: "KH",
        variants: &["Kingdom of Cambodia", "Kampuchea"],
    },
    Country {
        iso3: "IDN",
        name: "Indonesia",
        iso2: "ID",
        variants: &["Republic of Indonesia"],
    },
    Country {
        iso3: "LAO",
        name: "Lao PDR",
        iso2: "LA",
        variants: &[
            "Laos",
            "Lao",
            "Lao People's Democratic Republic",
            "Lao P.D.R.",
        ],
    },
    Country {
        iso3: "MYS",
        name: "Malaysia",
        iso2: "MY",
        variants: &[],
    },
    Country {
        iso3: "MMR",
        name: "Myanmar",
        iso2: "MM",
        variants: &["Burma", "Republic of the Union of Myanmar"],
    },
    Country {
        iso3: "PHL",
        name: "Philippines",
        iso2: "PH",
        variants: &[
            "The Philippines",
            "Republic of the Philippines",
            "Pilipinas",
        ],
    },
    Country {
        iso3: "SGP",
        name: "Singapore",
        iso2: "SG",
        variants: &["Republic of Singapore"],
    },
    Country {
        iso3: "THA",
        name: "Thailand",
        iso2: "TH",
        variants: &["Kingdom of Thailand"],
    },
    Country {
        iso3: "VNM",
        name: "Viet Nam",
        iso2: "VN",
        variants: &["Vietnam", "Socialist Republic of Viet Nam"],
    },
    Country {
        iso3: "TLS",
        name: "Timor-Leste",
        iso2: "TL",
        variants: &[
            "East Timor",
            "Timor Leste",
            "Democratic Republic of Timor-Leste",
        ],
    },
];

/// Folds text for matching: lower case, accents removed (`Việt` → `viet`), `đ` → `d`,
/// punctuation other than letters and digits turned into single spaces.
///
/// ```
/// assert_eq!(amis_webgis::vocab::fold("  Núi   Pháo "), "nui phao");
/// assert_eq!(amis_webgis::vocab::fold("Việt-Nam"), "viet nam");
/// ```
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            'ø' | 'Ø' => 'o',
            'ł' | 'Ł' => 'l',
            'ß' => 's',
            other => other,
        };
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

struct Lookup {
    commodity: HashMap<String, &'static str>,
    country: HashMap<String, &'static str>,
}

fn lookup() -> &'static Lookup {
    static LOOKUP: OnceLock<Lookup> = OnceLock::new();
    LOOKUP.get_or_init(|| {
        let mut commodity = HashMap::new();
        for name in COMMODITIES {
            commodity.insert(fold(name), *name);
        }
        for (synonym, name) in COMMODITY_SYNONYMS {
            commodity.entry(fold(synonym)).or_insert(*name);
        }
        let mut country = HashMap::new();
        for c in COUNTRIES {
            for key in [c.iso3, c.name, c.iso2].iter().chain(c.variants) {
                country.insert(fold(key), c.iso3);
            }
        }
        Lookup { commodity, country }
    })
}

/// The published name of a commodity written any way the vocabulary knows.
///
/// ```
/// use amis_webgis::vocab::commodity;
/// assert_eq!(commodity("Au"), Some("Gold"));
/// assert_eq!(commodity("NICKEL"), Some("Nickel"));
/// assert_eq!(commodity("ree"), Some("Rare Earth Elements"));
/// assert_eq!(commodity("Kryptonite"), None);
/// ```
pub fn commodity(text: &str) -> Option<&'static str> {
    lookup().commodity.get(&fold(text)).copied()
}

/// The ISO 3166-1 alpha-3 code of a country written as a code, a name or a common variant.
///
/// ```
/// use amis_webgis::vocab::country;
/// assert_eq!(country("Viet Nam"), Some("VNM"));
/// assert_eq!(country("lao pdr"), Some("LAO"));
/// assert_eq!(country("Burma"), Some("MMR"));
/// assert_eq!(country("TL"), Some("TLS"));
/// assert_eq!(country("France"), None);
/// ```
pub fn country(text: &str) -> Option<&'static str> {
    lookup().country.get(&fold(text)).copied()
}

/// The display name of an alpha-3 code.
pub fn country_name(iso3: &str) -> Option<&'static str> {
    COUNTRIES.iter().find(|c| c.iso3 == iso3).map(|c| c.name)
}

/// What a filter on `name` finds: the commodity itself and, for a family, its members.
///
/// ```
/// let pge = amis_webgis::vocab::family_members("Platinum group elements");
/// assert!(pge.contains(&"Platinum group elements") && pge.contains(&"Osmium"));
/// assert_eq!(amis_webgis::vocab::family_members("Platinum"), vec!["Platinum"]);
/// ```
pub fn family_members(name: &str) -> Vec<&str> {
    let mut out = vec![name];
    if let Some((_, members)) = COMMODITY_FAMILIES.iter().find(|(f, _)| *f == name) {
        out.extend(members.iter().copied());
    }
    out
}

/// The colour group of a published commodity.
pub fn colour_group(name: &str) -> Option<&'static ColourGroup> {
    COLOUR_GROUPS.iter().find(|g| g.commodities.contains(&name))
}

/// The whole vocabulary as the web map and other clients read it (`/api/vocabulary`).
pub fn document() -> serde_json::Value {
    let families: serde_json::Map<String, serde_json::Value> = COMMODITY_FAMILIES
        .iter()
        .map(|(name, members)| (name.to_string(), serde_json::json!(members)))
        .collect();
    serde_json::json!({
        "listSeparator": LIST_SEPARATOR,
        "inputSeparators": INPUT_SEPARATORS.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        "commodities": COMMODITIES,
        "synonyms": COMMODITY_SYNONYMS.iter().map(|(s, n)| serde_json::json!([s, n])).collect::<Vec<_>>(),
        "families": families,
        "colourGroups": COLOUR_GROUPS,
        "unspecifiedColour": UNSPECIFIED_COLOUR,
        "otherCommodities": { "label": OTHER_COMMODITIES, "color": OTHER_COMMODITIES_COLOUR },
        "criticalMinerals": CRITICAL_MINERALS,
        "countries": COUNTRIES,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_commodity_has_exactly_one_colour_group() {
        for name in COMMODITIES {
            let groups = COLOUR_GROUPS
                .iter()
                .filter(|g| g.commodities.contains(name))
                .count();
            assert_eq!(groups, 1, "{name}");
        }
        for group in COLOUR_GROUPS {
            for name in group.commodities {
                assert!(COMMODITIES.contains(name), "{name} is not published");
            }
        }
    }

    #[test]
    fn synonyms_and_families_name_published_commodities() {
        for (synonym, name) in COMMODITY_SYNONYMS {
            assert!(COMMODITIES.contains(name), "{synonym} -> {name}");
        }
        for (family, members) in COMMODITY_FAMILIES {
            assert!(COMMODITIES.contains(family));
            for m in *members {
                assert!(COMMODITIES.contains(m), "{m}");
            }
        }
        assert_eq!(COMMODITY_FAMILIES[0].1.len(), 17);
        for c in CRITICAL_MINERALS.commodities {
            assert!(COMMODITIES.contains(c));
        }
    }

    #[test]
    fn names_and_symbols_match_in_any_case() {
        assert_eq!(commodity("In"), Some("Indium"));
        assert_eq!(commodity("indium"), Some("Indium"));
        assert_eq!(commodity("gypsum"), Some("Gypsum-Anhydrite"));
        assert_eq!(
            commodity("Phosphorus-phosphates"),
            Some("Phosphorus-Phosphates")
        );
        assert_eq!(country("viet nam"), Some("VNM"));
        assert_eq!(country("VIETNAM"), Some("VNM"));
        assert_eq!(country("Brunei Darussalam"), Some("BRN"));
    }
}
