//! FlatGeobuf downloads answer HEAD and byte ranges the way HTTP readers (GDAL's /vsicurl/,
//! QGIS, flatgeobuf.js) expect, and the bytes they stitch together are the streamed file.

mod common;

use amis_webgis::source::{Format, read_bytes};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{assert_error, get, send};

const FGB: &str = "/api/collections/mineral-occurrences/items?f=fgb";

async fn ranged(uri: &str, range: &str, if_range: Option<&str>) -> common::Reply {
    let mut request = Request::get(uri).header("range", range);
    if let Some(tag) = if_range {
        request = request.header("if-range", tag);
    }
    send(request.body(Body::empty()).expect("request")).await
}

#[tokio::test]
async fn ranges_stitch_into_the_streamed_file() {
    let whole = get(FGB).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.header("accept-ranges"), "bytes");
    let total = whole.body.len();
    assert_eq!(
        read_bytes(&whole.body, Format::FlatGeobuf)
            .expect("valid FlatGeobuf")
            .features
            .len(),
        694
    );

    let head = send(Request::head(FGB).body(Body::empty()).expect("request")).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), total.to_string());
    assert_eq!(head.header("accept-ranges"), "bytes");
    assert!(head.header("etag").starts_with("\"fgb-"));

    // The way /vsicurl/ reads: consecutive blocks until the end.
    let mut stitched = Vec::new();
    let block = 16_384;
    while stitched.len() < total {
        let start = stitched.len();
        let reply = ranged(FGB, &format!("bytes={start}-{}", start + block - 1), None).await;
        assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT);
        let end = (start + block).min(total) - 1;
        assert_eq!(
            reply.header("content-range"),
            format!("bytes {start}-{end}/{total}")
        );
        assert_eq!(
            reply.header("content-length"),
            (end + 1 - start).to_string()
        );
        stitched.extend_from_slice(&reply.body);
    }
    assert!(
        stitched == whole.body,
        "ranges differ from the streamed file"
    );

    let tail = ranged(FGB, "bytes=-100", None).await;
    assert_eq!(tail.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.body, whole.body[total - 100..]);
    assert_eq!(
        &ranged(FGB, "bytes=0-6", None).await.body[..],
        b"fgb\x03fgb"
    );
}

#[tokio::test]
async fn ranges_follow_the_query_and_the_validator() {
    // A filtered download is its own file, with its own validator.
    let filtered = format!("{FGB}&country=Indonesia");
    let whole = get(&filtered).await;
    let head = send(
        Request::head(&filtered)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(head.header("content-length"), whole.body.len().to_string());
    let all = send(Request::head(FGB).body(Body::empty()).expect("request")).await;
    assert_ne!(head.header("etag"), all.header("etag"));
    assert!(
        read_bytes(&whole.body, Format::FlatGeobuf)
            .expect("valid")
            .features
            .len()
            < 694
    );

    // If-Range with another version's validator: the whole current file, not a stale slice.
    let stale = ranged(FGB, "bytes=0-99", Some("\"fgb-0000000000000000\"")).await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.header("content-range"), "");
    let current = ranged(FGB, "bytes=0-99", Some(all.header("etag"))).await;
    assert_eq!(current.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(current.body.len(), 100);

    // Past the end: 416 with the size, as a JSON error; a malformed Range is ignored.
    let total: usize = all.header("content-length").parse().expect("length");
    let past = ranged(FGB, &format!("bytes={total}-"), None).await;
    assert_error(&past, StatusCode::RANGE_NOT_SATISFIABLE, "past the end");
    assert_eq!(past.header("content-range"), format!("bytes */{total}"));
    let nonsense = ranged(FGB, "pages=1-2", None).await;
    assert_eq!(nonsense.status, StatusCode::OK);
    assert_eq!(nonsense.body.len(), total);
}

/// GDAL asks with `Accept-Encoding: gzip`; FlatGeobuf bodies and answers to HEAD and Range
/// must keep their real length and ranges, so they are never compressed. CSV is.
#[tokio::test]
async fn flatgeobuf_head_and_ranges_are_never_compressed() {
    let gzip = |request: axum::http::request::Builder| {
        request
            .header("accept-encoding", "gzip")
            .body(Body::empty())
            .expect("request")
    };
    let whole = send(gzip(Request::get(FGB))).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.header("content-encoding"), "");
    assert_eq!(whole.header("content-length"), whole.body.len().to_string());
    let head = send(gzip(Request::head(FGB))).await;
    assert_eq!(head.header("content-encoding"), "");
    assert_eq!(head.header("content-length"), whole.body.len().to_string());
    assert_eq!(head.header("accept-ranges"), "bytes");
    let part = send(gzip(Request::get(FGB).header("range", "bytes=0-99"))).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.header("content-encoding"), "");
    assert_eq!(part.body[..], whole.body[..100]);
    let csv = send(gzip(Request::get(
        "/api/collections/mineral-occurrences/items?f=csv",
    )))
    .await;
    assert_eq!(csv.header("content-encoding"), "gzip");
}

/// The built file is cached by what the query means, not how it is written, and its
/// validator comes from its bytes.
#[tokio::test]
async fn the_ranged_cache_normalises_the_query() {
    let head = |uri: String| async move {
        send(Request::head(uri).body(Body::empty()).expect("request")).await
    };
    let a = head(format!("{FGB}&country=PHL&commodities=Gold")).await;
    let b = head(format!("{FGB}&commodities=gold&country=Philippines")).await;
    let c = head(format!("{FGB}&country=PHL")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("etag"), b.header("etag"));
    assert_ne!(a.header("etag"), c.header("etag"));
    // Content-derived: the same selection reached by another filter has the same validator.
    let all_countries = head(format!(
        "{FGB}&country=BRN&country=KHM&country=IDN&country=LAO&country=MYS&country=MMR&country=PHL&country=SGP&country=THA&country=VNM&country=TLS"
    ))
    .await;
    let everything = head(FGB.to_string()).await;
    assert_eq!(
        all_countries.header("content-length"),
        everything.header("content-length")
    );
    assert_eq!(all_countries.header("etag"), everything.header("etag"));
}
