//! OGC API – Features over HTTP on the bundled data: every endpoint and every bad input.

mod common;

use std::collections::HashSet;

use axum::http::StatusCode;
use common::{assert_error, get};

const ITEMS: &str = "/api/collections/mineral-occurrences/items";

#[tokio::test]
async fn landing_conformance_collections_and_openapi() {
    let landing = get("/api").await;
    assert_eq!(landing.status, StatusCode::OK, "/api");
    let rels: Vec<String> = landing.json()["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| l["rel"].as_str().unwrap_or_default().to_string())
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.iter().any(|r| r == rel), "landing lacks {rel}");
    }
    assert_eq!(
        get("/api/").await.status,
        StatusCode::OK,
        "landing with a trailing slash"
    );
    let conf = get("/api/conformance").await.json();
    assert!(conf["conformsTo"].as_array().is_some_and(|c| {
        c.iter()
            .any(|u| u.as_str().is_some_and(|u| u.ends_with("conf/geojson")))
    }));

    let collections = get("/api/collections").await.json();
    let ids: Vec<&str> = collections["collections"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "mineral-occurrences",
            "active-faults",
            "asean-countries",
            "world-countries-50m",
            "world-countries-10m",
            "lakes",
            "rivers",
            "places",
            "physical-regions",
            "peaks",
            "ports",
            "airports"
        ]
    );

    let occ = get("/api/collections/mineral-occurrences").await.json();
    assert_eq!(occ["itemType"], "feature");
    assert_eq!(occ["featureCount"], 694);
    assert_eq!(occ["classify"], "primary_commodity");
    let bbox = &occ["extent"]["spatial"]["bbox"][0];
    assert!(
        (bbox[0].as_f64().unwrap_or(0.0) - 92.3).abs() < 1e-3
            && (bbox[2].as_f64().unwrap_or(0.0) - 140.45).abs() < 1e-3,
        "{bbox}"
    );
    let links = occ["links"].as_array().expect("links");
    assert!(
        links
            .iter()
            .any(|l| l["rel"] == "items" && l["type"] == "application/geo+json")
    );
    assert!(
        links
            .iter()
            .any(|l| l["href"] == "http://test.local/tiles/mineral-occurrences.json")
    );

    let faults = get("/api/collections/active-faults").await.json();
    assert_eq!(faults["featureCount"], 276);

    let openapi = get("/api/openapi.json").await;
    assert!(
        openapi
            .header("content-type")
            .starts_with("application/vnd.oai.openapi+json")
    );
    let doc = openapi.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let items_path = &doc["paths"]["/collections/mineral-occurrences/items"]["get"];
    // Standard parameters are references (GDAL reads `limit`'s maximum only from one).
    let resolve = |p: &serde_json::Value| match p["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .cloned()
            .expect("reference resolves"),
        None => p.clone(),
    };
    let params: Vec<serde_json::Value> = items_path["parameters"]
        .as_array()
        .expect("params")
        .iter()
        .map(resolve)
        .collect();
    let named = |name: &str| params.iter().find(|p| p["name"] == name);
    for p in [
        "bbox",
        "bbox-crs",
        "crs",
        "limit",
        "offset",
        "datetime",
        "q",
        "f",
        "country",
        "commodities",
    ] {
        assert!(named(p).is_some(), "openapi lacks parameter {p}");
    }
    assert!(items_path["parameters"].as_array().is_some_and(|ps| {
        ps.iter()
            .any(|p| p["$ref"] == "#/components/parameters/limit")
    }));
    let limit = named("limit").expect("limit");
    assert_eq!(limit["schema"]["maximum"], 10_000);
    assert_eq!(limit["schema"]["default"], 100);
    assert!(doc["paths"]["/collections/rivers/items/{featureId}"].is_object());
    assert!(doc["paths"]["/collections/rivers/queryables"].is_object());
    assert!(doc["paths"]["/production"].is_object());
}

#[tokio::test]
async fn items_default_page_and_feature_shape() {
    let reply = get(ITEMS).await;
    assert_eq!(reply.header("content-type"), "application/geo+json");
    let fc = reply.json();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["numberMatched"], 694);
    assert_eq!(fc["numberReturned"], 100);
    let f = &fc["features"][0];
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["geometry"]["type"], "Point");
    assert!(f["id"].is_u64());
    assert!(f["properties"]["name"].is_string());
    assert!(
        fc["links"]
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l["rel"] == "next"))
    );
    assert!(
        !fc["links"]
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l["rel"] == "prev"))
    );
}

#[tokio::test]
async fn walking_next_links_returns_every_feature_once() {
    for (uri, expected) in [
        (format!("{ITEMS}?limit=37"), 694u64),
        (format!("{ITEMS}?limit=50&country=Philippines"), 316),
        (
            "/api/collections/active-faults/items?limit=100&bbox=95,10,110,30".to_string(),
            0,
        ),
    ] {
        let mut next = Some(uri.replace("/api", "http://test.local/api"));
        let mut seen = HashSet::new();
        let mut matched = None;
        while let Some(url) = next.take() {
            let path = url
                .strip_prefix("http://test.local")
                .expect("absolute link on our host");
            let page = get(path).await.json();
            matched.get_or_insert(page["numberMatched"].as_u64().expect("numberMatched"));
            let features = page["features"].as_array().expect("features");
            assert_eq!(page["numberReturned"].as_u64(), Some(features.len() as u64));
            for f in features {
                assert!(
                    seen.insert(f["id"].as_u64().expect("id")),
                    "feature returned twice"
                );
            }
            next = page["links"]
                .as_array()
                .expect("links")
                .iter()
                .find(|l| l["rel"] == "next")
                .and_then(|l| l["href"].as_str())
                .map(str::to_string);
        }
        let matched = matched.expect("one page at least");
        assert_eq!(seen.len() as u64, matched, "{uri}");
        if expected > 0 {
            assert_eq!(matched, expected, "{uri}");
        } else {
            assert!(
                matched > 0 && matched < 276,
                "{uri}: bbox selects some faults"
            );
        }
    }
}

#[tokio::test]
async fn limit_above_the_advertised_maximum_is_refused_and_paging_continues() {
    // The API definition says 10,000 at most (clients page at that size); beyond is invalid.
    let description = assert_error(
        &get("/api/collections/places/items?limit=50000").await,
        StatusCode::BAD_REQUEST,
        "limit above the maximum",
    );
    assert!(description.contains("10000"), "{description}");
    let fc = get("/api/collections/places/items?limit=10000")
        .await
        .json();
    assert_eq!(fc["numberReturned"], 630);
    let fc = get(&format!("{ITEMS}?limit=680&offset=10")).await.json();
    assert_eq!(fc["numberReturned"], 680);
    assert!(
        fc["links"]
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l["rel"] == "prev"))
    );
    let fc = get(&format!("{ITEMS}?offset=5000")).await.json();
    assert_eq!(fc["numberReturned"], 0);
    assert_eq!(fc["numberMatched"], 694);
}

#[tokio::test]
async fn filters_bbox_text_and_lists() {
    let count = |fc: serde_json::Value| fc["numberMatched"].as_u64().expect("numberMatched");
    assert_eq!(
        count(get(&format!("{ITEMS}?country=Indonesia")).await.json()),
        107
    );
    // Countries are stored as ISO alpha-3 codes; names and alpha-2 codes find them too.
    for alias in ["IDN", "ID", "indonesia", "Republic%20of%20Indonesia"] {
        assert_eq!(
            count(get(&format!("{ITEMS}?country={alias}")).await.json()),
            107,
            "{alias}"
        );
    }
    assert_eq!(
        count(
            get(&format!("{ITEMS}?country=Indonesia&country=Laos"))
                .await
                .json()
        ),
        130
    );
    let nickel_primary = count(
        get(&format!("{ITEMS}?primary_commodity=Nickel"))
            .await
            .json(),
    );
    let nickel_any = count(get(&format!("{ITEMS}?commodities=Nickel")).await.json());
    assert_eq!(nickel_primary, 146);
    assert_eq!(nickel_any, 150);
    assert!(
        nickel_any > nickel_primary,
        "list filter finds secondary nickel too ({nickel_any})"
    );
    let fc = get(&format!("{ITEMS}?q=grasberg")).await.json();
    assert!(count(fc.clone()) >= 1);
    assert!(
        fc["features"]
            .as_array()
            .expect("features")
            .iter()
            .all(|f| f.to_string().to_lowercase().contains("grasberg"))
    );
    // Philippines only, by bbox.
    let fc = get(&format!("{ITEMS}?bbox=116,4.5,127,21.5&limit=10000"))
        .await
        .json();
    for f in fc["features"].as_array().expect("features") {
        let c = &f["geometry"]["coordinates"];
        assert!((116.0..=127.0).contains(&c[0].as_f64().unwrap_or(0.0)));
    }
    // A bbox across the antimeridian that covers the region's east end only.
    let east = count(get(&format!("{ITEMS}?bbox=140,-10,-170,0")).await.json());
    let plain = count(get(&format!("{ITEMS}?bbox=140,-10,180,0")).await.json());
    assert_eq!(east, plain);
    assert!(east > 0);
    assert_eq!(
        count(
            get("/api/collections/active-faults/items?slip_type=Dextral")
                .await
                .json()
        ),
        21
    );
}

#[tokio::test]
async fn single_feature_and_stable_ids() {
    let first = get(&format!("{ITEMS}?limit=1")).await.json();
    let id = first["features"][0]["id"].as_u64().expect("id");
    let reply = get(&format!("{ITEMS}/{id}")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let f = reply.json();
    assert_eq!(f["id"], id);
    assert_eq!(f["properties"], first["features"][0]["properties"]);
    assert!(
        f["links"]
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l["rel"] == "collection"))
    );
}

#[tokio::test]
async fn health_reports_layers() {
    let h = get("/health").await.json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["layers"], 12);
}

#[tokio::test]
async fn every_bad_input_is_a_json_4xx() {
    let bad = StatusCode::BAD_REQUEST;
    let missing = StatusCode::NOT_FOUND;
    let cases: Vec<(String, StatusCode, &str)> = vec![
        ("/api/collections/nope".into(), missing, "nope"),
        ("/api/collections/nope/items".into(), missing, "nope"),
        (format!("{ITEMS}/999999"), missing, "999999"),
        (format!("{ITEMS}/abc"), missing, "abc"),
        (format!("{ITEMS}/-1"), missing, "-1"),
        (format!("{ITEMS}?bbox=1,2,3"), bad, "bbox"),
        (format!("{ITEMS}?bbox=1,2,3,4,5"), bad, "bbox"),
        (format!("{ITEMS}?bbox=a,b,c,d"), bad, "bbox"),
        (format!("{ITEMS}?bbox=NaN,0,1,1"), bad, "bbox"),
        (format!("{ITEMS}?bbox=0,0,inf,1"), bad, "bbox"),
        (format!("{ITEMS}?bbox=0,-95,1,1"), bad, "bbox"),
        (format!("{ITEMS}?bbox=0,0,1,91"), bad, "bbox"),
        (format!("{ITEMS}?bbox=0,10,1,5"), bad, "bbox"),
        (format!("{ITEMS}?bbox="), bad, "bbox"),
        (format!("{ITEMS}?limit=0"), bad, "limit"),
        (format!("{ITEMS}?limit=-3"), bad, "limit"),
        (format!("{ITEMS}?limit=ten"), bad, "limit"),
        (format!("{ITEMS}?limit=1.5"), bad, "limit"),
        (format!("{ITEMS}?offset=-1"), bad, "offset"),
        (format!("{ITEMS}?offset=x"), bad, "offset"),
        (format!("{ITEMS}?limit=1&limit=2"), bad, "limit"),
        (format!("{ITEMS}?colour=red"), bad, "colour"),
        (format!("{ITEMS}?slip_type=Dextral"), bad, "slip_type"),
        (format!("{ITEMS}?f=xml"), bad, "f"),
        (format!("{ITEMS}?bbox-crs=EPSG:3857"), bad, "bbox-crs"),
        (format!("{ITEMS}?datetime=yesterday"), bad, "datetime"),
        (
            format!("{ITEMS}?datetime=2024-01-01T10:00"),
            bad,
            "datetime",
        ),
        (format!("{ITEMS}?datetime=../.."), bad, "datetime"),
        (
            format!("{ITEMS}?datetime=2024-01-01/2024-02-01/2024-03-01"),
            bad,
            "datetime",
        ),
        (format!("{ITEMS}?limit=10001"), bad, "limit"),
        (format!("{ITEMS}?offset=1000000001"), bad, "offset"),
        (format!("{ITEMS}?crs=EPSG:4326"), bad, "crs"),
        (format!("{ITEMS}/1?crs=EPSG:3857"), bad, "crs"),
        (
            "/api/collections/world-countries-50m/items?asean=null".into(),
            bad,
            "asean",
        ),
        (
            "/api/collections/places/items?population=many".into(),
            bad,
            "population",
        ),
        (
            "/api/collections/places/items?capital=yes".into(),
            bad,
            "capital",
        ),
        (
            "/api/production?commodity=Unobtainium".into(),
            bad,
            "Unobtainium",
        ),
        ("/api/production?iso3=AAA".into(), bad, "AAA"),
        ("/api/collections?foo=1".into(), bad, "foo"),
        ("/api/collections/lakes?limit=5".into(), bad, "limit"),
        ("/api?f=html".into(), bad, "f"),
        (format!("{ITEMS}/1?bbox=1,2,3,4"), bad, "bbox"),
        (
            "/api/collections/..%2F..%2Fetc%2Fpasswd/items".into(),
            missing,
            "passwd",
        ),
        ("/api/collections/%2e%2e/items".into(), missing, ".."),
        ("/api/collections/lakes%0a/items".into(), missing, "lakes"),
        ("/nowhere".into(), missing, "nowhere"),
        // A path segment that is not UTF-8 once decoded, on every route with parameters.
        ("/api/collections/%FF".into(), bad, "UTF-8"),
        ("/api/collections/%FF/items".into(), bad, "UTF-8"),
        ("/api/collections/%FF/items/1".into(), bad, "UTF-8"),
        ("/api/collections/%FF/versions".into(), bad, "UTF-8"),
        ("/tiles/%FF".into(), bad, "UTF-8"),
        ("/tiles/lakes%FF/1/1/1.mvt".into(), bad, "UTF-8"),
        ("/styles/%FF".into(), bad, "UTF-8"),
        ("/fonts/%FF/0-255.pbf".into(), bad, "UTF-8"),
        ("/assets/%FF".into(), bad, "UTF-8"),
    ];
    for (uri, status, mentions) in cases {
        let description = assert_error(&get(&uri).await, status, &uri);
        assert!(
            description.contains(mentions),
            "{uri}: {description:?} should name {mentions:?}"
        );
    }
}

/// The numbers are counted independently from the shared GeoJSON compilation (Python, one
/// pass over the 694 features), not by this server.
#[tokio::test]
async fn commodity_filters_match_whole_elements_and_families() {
    let count = |fc: serde_json::Value| fc["numberMatched"].as_u64().expect("numberMatched");
    for (filter, expected) in [
        ("commodities=Phosphorus", 2),
        ("commodities=Platinum", 114),
        ("commodities=Rare%20Earth%20Elements", 41),
        ("commodities=REE", 41),
        ("commodities=Platinum%20group%20elements", 139),
        ("commodities=pge", 139),
        ("commodities=Ni", 150),
        (
            "commodities=Copper&commodities=Lithium&commodities=Nickel&commodities=Cobalt&commodities=Graphite&commodities=Rare%20Earth%20Elements",
            305,
        ),
    ] {
        assert_eq!(
            count(get(&format!("{ITEMS}?{filter}")).await.json()),
            expected,
            "{filter}"
        );
    }
}

#[tokio::test]
async fn text_search_forgives_case_accents_and_spacing_and_ranks() {
    let names = |fc: &serde_json::Value| -> Vec<String> {
        fc["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| {
                f["properties"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    for (q, first) in [
        ("nui%20phao", "Nui Phao"),
        ("N%C3%9AI%20%20PH%C3%81O", "Nui Phao"),
        ("phu%20kh", "Phu Kham"),
        ("santo%20nino", "Santo Niño"),
    ] {
        let fc = get(&format!("{ITEMS}?q={q}")).await.json();
        assert_eq!(
            names(&fc).first().map(String::as_str),
            Some(first),
            "{q}: {:?}",
            names(&fc)
        );
        // The same matcher across every occurrence layer.
        let all = get(&format!("/api/search?q={q}")).await.json();
        assert_eq!(
            names(&all).first().map(String::as_str),
            Some(first),
            "search {q}"
        );
        assert_eq!(all["features"][0]["collection"], "mineral-occurrences");
    }
    // Words match from their start, in any property; the name's matches come first.
    let fc = get(&format!("{ITEMS}?q=santo&limit=10")).await.json();
    assert!(
        names(&fc).iter().take(4).all(|n| n.starts_with("Santo")),
        "{:?}",
        names(&fc)
    );
    assert_eq!(
        get(&format!("{ITEMS}?q=asberg")).await.json()["numberMatched"],
        0,
        "not a substring search"
    );
    let grasberg = get(&format!("{ITEMS}?q=grasberg%20copper")).await.json();
    assert!(
        grasberg["numberMatched"].as_u64().is_some_and(|n| n >= 2),
        "{grasberg}"
    );
    // No letter or digit: nothing to find, which is an empty answer, not an error.
    let nothing = get("/api/search?q=%20%3B").await;
    nothing.assert_status(StatusCode::OK);
    assert_eq!(nothing.json()["numberMatched"], 0);
    assert_error(&get("/api/search").await, StatusCode::BAD_REQUEST, "no q");
    assert_error(
        &get("/api/search?q=x&limit=500").await,
        StatusCode::BAD_REQUEST,
        "limit",
    );
}

#[tokio::test]
async fn the_catalog_has_an_etag_and_the_vocabulary_is_served() {
    let first = get("/api/collections").await;
    let etag = first.header("etag").to_string();
    assert!(etag.starts_with('"'), "{etag}");
    let again = common::send(
        axum::http::Request::get("/api/collections")
            .header("host", "test.local")
            .header("if-none-match", &etag)
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let vocab = get("/api/vocabulary").await.json();
    assert_eq!(vocab["listSeparator"], ", ");
    assert_eq!(
        vocab["families"]["Rare Earth Elements"]
            .as_array()
            .map(Vec::len),
        Some(17)
    );
    assert_eq!(vocab["criticalMinerals"]["commodities"][0], "Copper");
    assert!(
        vocab["criticalMinerals"]["source"]
            .as_str()
            .is_some_and(|s| s.contains("IEA"))
    );
}

/// What the API definition allows is answered: empty optional values, every datetime form,
/// the CRS parameters of Part 2, typed filters, with the response's CRS said.
#[tokio::test]
async fn every_value_the_definition_allows_is_answered() {
    for query in [
        "datetime=&q=",
        "datetime=2024-01-01",
        "datetime=2024-01-01T10:00:00Z",
        "datetime=2024-01-01T10:00:00.5%2B07:00",
        "datetime=2024-01-01T10:00:00Z/..",
        "datetime=../2024-01-01",
        "datetime=/2024-01-01",
        "datetime=2024-01-01/",
        "datetime=2024-01-01/2024-02-01",
        "crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84&bbox=95,-10,140,20",
        "bbox=95,-10,0,140,20,1000",
        "limit=10000&offset=1000000000",
    ] {
        let reply = get(&format!("{ITEMS}?{query}")).await;
        reply.assert_status(StatusCode::OK);
        assert_eq!(
            reply.header("content-crs"),
            "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>",
            "{query}"
        );
    }
    let capitals = get("/api/collections/places/items?capital=1&limit=1000").await;
    capitals.assert_status(StatusCode::OK);
    let one = get(&format!(
        "{ITEMS}/1?crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    ))
    .await;
    one.assert_status(StatusCode::OK);
    assert_eq!(
        one.header("content-crs"),
        "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    );
    // An integer too long for any value matches nothing; it is still an integer.
    let huge = get("/api/collections/places/items?population=260209271601453474231877632").await;
    huge.assert_status(StatusCode::OK);
    assert_eq!(huge.json()["numberMatched"], 0);
}
