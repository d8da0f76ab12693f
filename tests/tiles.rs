//! Vector tiles over HTTP, decoded by the tests' own decoder (not our encoder's code).

mod common;

use amis_webgis::tiles::{BUFFER, EXTENT};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::mvt::{GeomType, Tile, area2, geometry, tag};
use common::{assert_error, get, send};

fn decode(bytes: &[u8]) -> Tile {
    common::mvt::decode(bytes).expect("valid MVT protobuf")
}

async fn tile_bytes(uri: &str) -> Vec<u8> {
    let reply = get(uri).await;
    assert_eq!(reply.status, StatusCode::OK, "{uri}");
    assert_eq!(
        reply.header("content-type"),
        "application/vnd.mapbox-vector-tile"
    );
    reply.body
}

#[tokio::test]
async fn z0_tile_holds_every_occurrence_with_typed_properties() {
    let tile = decode(&tile_bytes("/tiles/mineral-occurrences/0/0/0.mvt").await);
    assert_eq!(tile.layers.len(), 1);
    let layer = &tile.layers[0];
    assert_eq!(layer.name, "mineral-occurrences");
    assert_eq!(layer.version, 2);
    assert_eq!(layer.extent, Some(EXTENT));
    assert_eq!(layer.features.len(), 694);
    // Ok Tedi (Papua New Guinea) was tagged Indonesia in the first compilation and is gone.
    assert!(
        !layer.features.iter().any(|f| tag(layer, f, "name")
            .and_then(|v| v.string_value.as_deref())
            == Some("Ok Tedi"))
    );
    let cyclops = layer
        .features
        .iter()
        .find(|f| {
            tag(layer, f, "name").and_then(|v| v.string_value.as_deref()) == Some("Cyclops Region")
        })
        .expect("Cyclops Region is in the tile");
    assert_eq!(cyclops.id, Some(1));
    assert_eq!(
        tag(layer, cyclops, "country").and_then(|v| v.string_value.as_deref()),
        Some("IDN")
    );
    let mut ids: Vec<u64> = layer.features.iter().filter_map(|f| f.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 694, "feature ids are unique");
}

#[tokio::test]
async fn tile_features_match_the_items_api_for_the_same_area() {
    // z6 tile over Luzon (Philippines).
    let tile = decode(&tile_bytes("/tiles/mineral-occurrences/6/53/29.mvt").await);
    let inside = tile.layers[0]
        .features
        .iter()
        .filter(|f| {
            let geo::Geometry::Point(p) = geometry(f) else {
                panic!("points only")
            };
            (0.0..f64::from(EXTENT)).contains(&p.x()) && (0.0..f64::from(EXTENT)).contains(&p.y())
        })
        .count();
    // The tile's own bounds (without buffer), from its corners.
    let n = 64.0f64;
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| {
        (std::f64::consts::PI * (1.0 - 2.0 * y / n))
            .sinh()
            .atan()
            .to_degrees()
    };
    let bbox = format!("{},{},{},{}", lon(53.0), lat(30.0), lon(54.0), lat(29.0));
    let items = get(&format!(
        "/api/collections/mineral-occurrences/items?bbox={bbox}&limit=10000"
    ))
    .await
    .json();
    let expected = items["numberMatched"].as_u64().expect("numberMatched");
    assert!(expected > 10, "the tile is a dense one ({expected})");
    assert_eq!(inside as u64, expected);
}

#[tokio::test]
async fn composite_tile_has_one_valid_layer_each() {
    let bytes = tile_bytes(
        "/tiles/world-countries-50m,asean-countries,active-faults,mineral-occurrences/5/25/14.mvt",
    )
    .await;
    let tile = decode(&bytes);
    let names: Vec<&str> = tile.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "world-countries-50m",
            "asean-countries",
            "active-faults",
            "mineral-occurrences"
        ]
    );
    let lo = -f64::from(BUFFER);
    let hi = f64::from(EXTENT + BUFFER);
    let mut rings = 0;
    for layer in &tile.layers {
        assert!(!layer.features.is_empty(), "{}", layer.name);
        for feature in &layer.features {
            let g = geometry(feature);
            for c in geo::CoordsIter::coords_iter(&g) {
                assert!(
                    (lo..=hi).contains(&c.x) && (lo..=hi).contains(&c.y),
                    "{}: {c:?}",
                    layer.name
                );
            }
            let polygons: Vec<geo::Polygon> = match g {
                geo::Geometry::Polygon(p) => vec![p],
                geo::Geometry::MultiPolygon(mp) => mp.0,
                _ => vec![],
            };
            for p in polygons {
                assert!(p.exterior().is_closed());
                assert!(
                    p.exterior().0.len() >= 4,
                    "exterior has at least 3 distinct points"
                );
                assert!(
                    area2(p.exterior()) > 0.0,
                    "exterior rings have positive area (MVT 2.1)"
                );
                for hole in p.interiors() {
                    assert!(area2(hole) < 0.0, "holes have negative area");
                }
                rings += 1;
            }
            if let geo::Geometry::LineString(ls) = &geometry(feature) {
                assert!(
                    ls.0.windows(2).all(|w| w[0] != w[1]),
                    "no zero-length segments"
                );
            }
        }
    }
    assert!(rings > 0);
}

#[tokio::test]
async fn polygons_stay_valid_at_every_zoom_over_the_region() {
    // Walk the tiles over Indonesia/Malaysia from z0 to z9 (one path) on both polygon layers.
    let (lon, lat) = (110.0f64, 1.0f64);
    for z in 0..=9u8 {
        let (x, y) = common::tile_xy(z, lon, lat);
        let reply = get(&format!(
            "/tiles/world-countries-50m,world-countries-10m,asean-countries/{z}/{x}/{y}.mvt"
        ))
        .await;
        if reply.status == StatusCode::NO_CONTENT {
            continue;
        }
        for layer in decode(&reply.body).layers {
            for f in &layer.features {
                assert_eq!(f.r#type, Some(GeomType::Polygon));
                let g = geometry(f);
                let polys = match g {
                    geo::Geometry::Polygon(p) => vec![p],
                    geo::Geometry::MultiPolygon(mp) => mp.0,
                    other => panic!("z{z}: unexpected {other:?}"),
                };
                for p in polys {
                    assert!(
                        area2(p.exterior()) > 0.0,
                        "z{z} {}: exterior winding",
                        layer.name
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn tiles_are_gzipped_when_asked_with_etag_and_cache_headers() {
    let uri = "/tiles/active-faults/4/12/6.mvt";
    let plain = get(uri).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.header("cache-control").contains("max-age"));
    assert_eq!(plain.header("access-control-allow-origin"), "*");
    let etag = plain.header("etag").to_string();
    assert!(etag.starts_with('"'));

    let gz = send(
        Request::get(uri)
            .header("accept-encoding", "gzip")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(gz.body.as_slice()),
        &mut raw,
    )
    .expect("gunzip");
    assert_eq!(raw, plain.body);

    let revalidate = send(
        Request::get(uri)
            .header("if-none-match", &etag)
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(revalidate.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn empty_tile_is_204_and_high_zoom_works() {
    // Mid-Pacific: no data.
    assert_eq!(
        get("/tiles/mineral-occurrences/3/0/3.mvt").await.status,
        StatusCode::NO_CONTENT
    );
    // z22 over Grasberg-area occurrence still answers (200 or 204, never an error).
    let z = 22;
    let (x, y) = common::tile_xy(z, 137.116667, -4.05);
    let reply = get(&format!(
        "/tiles/mineral-occurrences,asean-countries/{z}/{x}/{y}.mvt"
    ))
    .await;
    assert!(reply.status == StatusCode::OK || reply.status == StatusCode::NO_CONTENT);
    let full = get(&format!("/tiles/asean-countries/{z}/{x}/{y}.mvt")).await;
    assert_eq!(
        full.status,
        StatusCode::OK,
        "inside Indonesia the country polygon covers the tile"
    );
}

#[tokio::test]
async fn bad_tile_requests_are_json_errors() {
    for (uri, status) in [
        ("/tiles/nope/0/0/0.mvt", StatusCode::NOT_FOUND),
        (
            "/tiles/mineral-occurrences,nope/0/0/0.mvt",
            StatusCode::NOT_FOUND,
        ),
        (
            "/tiles/mineral-occurrences/a/0/0.mvt",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/tiles/mineral-occurrences/1/0/0.5.mvt",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/tiles/mineral-occurrences/-1/0/0.mvt",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/tiles/mineral-occurrences/23/0/0.mvt",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/tiles/mineral-occurrences/2/4/0.mvt",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/tiles/mineral-occurrences/2/0/4.mvt",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/tiles/mineral-occurrences/99999999999999999999/0/0.mvt",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/tiles/mineral-occurrences,mineral-occurrences/0/0/0.mvt",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/tiles/mineral-occurrences/0/0/0.png",
            StatusCode::NOT_FOUND,
        ),
        (
            "/tiles/mineral-occurrences/0/0/0.mvt?foo=1",
            StatusCode::BAD_REQUEST,
        ),
        ("/tiles/..%2f..%2fetc/0/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/%2e%2e/0/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/a%00b/0/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/..%2Fdata%2Flayers.toml.json", StatusCode::NOT_FOUND),
        ("/tiles/nope.json", StatusCode::NOT_FOUND),
    ] {
        assert_error(&get(uri).await, status, uri);
    }
}

#[tokio::test]
async fn tilejson_describes_layers_with_absolute_urls() {
    let reply = get("/tiles/mineral-occurrences,active-faults.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json();
    assert_eq!(doc["tilejson"], "3.0.0");
    assert_eq!(
        doc["tiles"][0],
        "http://test.local/tiles/mineral-occurrences,active-faults/{z}/{x}/{y}.mvt"
    );
    let layers = doc["vector_layers"].as_array().expect("vector_layers");
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0]["id"], "mineral-occurrences");
    assert_eq!(layers[0]["fields"]["name"], "String");
    assert_eq!(layers[1]["fields"]["slip_type"], "String");
    let b = doc["bounds"].as_array().expect("bounds");
    assert!(
        b[0].as_f64() < Some(93.0) && b[2].as_f64() > Some(140.0),
        "{b:?}"
    );
    assert!(
        doc["attribution"]
            .as_str()
            .is_some_and(|a| a.contains("GEM"))
    );
    assert_eq!(doc["center"].as_array().map(Vec::len), Some(3));

    // Forwarded headers are anyone's to send: ignored unless the server is told it is behind
    // a proxy that sets them, and then shared caches are told the document varies on them.
    let forwarded = || {
        Request::get("/tiles/lakes.json")
            .header("host", "internal:8080")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "maps.example.org")
            .body(Body::empty())
            .expect("req")
    };
    let direct = send(forwarded()).await;
    assert_eq!(
        direct.json()["tiles"][0],
        "http://internal:8080/tiles/lakes/{z}/{x}/{y}.mvt"
    );
    let vary = |reply: &common::Reply| {
        reply
            .headers
            .get_all("vary")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ")
    };
    assert!(
        !vary(&direct).contains("X-Forwarded-Host"),
        "{}",
        vary(&direct)
    );
    let mut behind_proxy = common::state();
    behind_proxy.trust_proxy = true;
    let proxied = common::send_to(behind_proxy, forwarded()).await;
    assert_eq!(
        proxied.json()["tiles"][0],
        "https://maps.example.org/tiles/lakes/{z}/{x}/{y}.mvt"
    );
    assert!(
        vary(&proxied).contains("X-Forwarded-Host"),
        "{}",
        vary(&proxied)
    );
}

/// The sizing done before a tile is cut (empty tiles answered at once, small point tiles made
/// without the render pool) never hides content: over tiles at and around every bundled
/// layer's features, z0–14, a tile called empty renders to nothing, one called small holds
/// points only, no more than the limit; and most empty tiles are recognised.
#[test]
fn tile_cost_never_calls_a_tile_with_content_empty() {
    use amis_webgis::tiles::{SMALL_TILE_POINTS, TileCost, TileId, render, tile_cost};
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20_261_126);
    let (mut shortcut, mut empty, mut drawn, mut small) = (0, 0, 0, 0);
    for layer in common::layers() {
        let layers = std::slice::from_ref(layer);
        for _ in 0..150 {
            let feature = &layer.features[rng.random_range(0..layer.features.len())];
            let c = geo::CoordsIter::coords_iter(&feature.geometry)
                .next()
                .expect("a position");
            let z = rng.random_range(0..=14u8);
            let centre = TileId::containing(z, c.x, c.y);
            let n = 1i64 << z;
            // The tile of the feature and the ring around it: edges and buffers included.
            for (dx, dy) in (-1i64..=1).flat_map(|dx| (-1i64..=1).map(move |dy| (dx, dy))) {
                let (x, y) = (i64::from(centre.x) + dx, i64::from(centre.y) + dy);
                if !(0..n).contains(&x) || !(0..n).contains(&y) {
                    continue;
                }
                let tile = TileId::parse(&z.to_string(), &x.to_string(), &y.to_string())
                    .expect("a tile in range");
                let bytes = render(layers, tile).expect("encodes");
                let cost = tile_cost(layers, tile);
                let surely_empty = cost == TileCost::Empty;
                if cost == TileCost::Small {
                    small += 1;
                    let decoded = decode(&bytes);
                    let features: usize = decoded.layers.iter().map(|l| l.features.len()).sum();
                    assert!(features <= SMALL_TILE_POINTS, "{tile:?}: {features}");
                    for feature in decoded.layers.iter().flat_map(|l| &l.features) {
                        assert_eq!(feature.r#type, Some(GeomType::Point), "{tile:?}");
                    }
                }
                assert!(
                    !surely_empty || bytes.is_empty(),
                    "{}: {tile:?} was called empty but has {} bytes",
                    layer.meta.id,
                    bytes.len()
                );
                match (bytes.is_empty(), surely_empty) {
                    (true, true) => shortcut += 1,
                    (true, false) => empty += 1,
                    (false, _) => drawn += 1,
                }
            }
        }
    }
    assert!(drawn > 1_000, "{drawn} tiles with content");
    assert!(small > 100, "{small} small tiles");
    assert!(
        shortcut > 4 * empty,
        "{shortcut} empty tiles recognised, {empty} not"
    );
}

/// The tile route sets its CORS headers itself (the cached path is cheaper without
/// tower-http's layer); every kind of answer must carry what the layer gives the other routes:
/// success, a client error, a method not allowed, a preflight.
#[tokio::test]
async fn the_tile_route_answers_cross_origin_requests_like_every_route() {
    let cors_headers = |reply: &common::Reply| -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = reply
            .headers
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("access-control-"))
            .map(|(name, value)| {
                (
                    name.to_string(),
                    value.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let ask = |method: &str, uri: &str, preflight: bool| {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("origin", "https://investor.example");
        if preflight {
            request = request
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "if-none-match");
        }
        send(request.body(Body::empty()).expect("request"))
    };
    let tile = "/tiles/active-faults/4/12/6.mvt";
    let other = "/tiles/active-faults.json";
    for (method, tile_uri, other_uri, preflight, status) in [
        ("GET", tile, other, false, StatusCode::OK),
        (
            "GET",
            "/tiles/no-such-layer/4/12/6.mvt",
            "/tiles/no-such-layer.json",
            false,
            StatusCode::NOT_FOUND,
        ),
        ("POST", tile, other, false, StatusCode::METHOD_NOT_ALLOWED),
        ("OPTIONS", tile, other, true, StatusCode::OK),
    ] {
        let from_tile = ask(method, tile_uri, preflight).await;
        let from_other = ask(method, other_uri, preflight).await;
        assert_eq!(from_tile.status, status, "{method} {tile_uri}");
        assert_eq!(from_other.status, status, "{method} {other_uri}");
        let expected = cors_headers(&from_other);
        assert!(
            expected
                .iter()
                .any(|(n, v)| n == "access-control-allow-origin" && v == "*"),
            "{method} {other_uri}: {expected:?}"
        );
        assert_eq!(cors_headers(&from_tile), expected, "{method} {tile_uri}");
    }
}
