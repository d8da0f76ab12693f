//! Agency tokens: random, stored only as hashes, scoped, revocable; and the `token` CLI.

use amis_webgis::auth::{AuthError, TokenStore};

fn temp_store(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("amis-tokens-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn tokens_authenticate_by_hash_within_their_scope() {
    let dir = temp_store("lib");
    let mut store = TokenStore::open(&dir).expect("empty store opens");
    let (record, token) = store
        .create(
            "Geological Agency of Indonesia",
            &["idn-*".into(), "geology-idn".into()],
        )
        .expect("create");
    let (_, other) = store
        .create("Mines and Geosciences Bureau", &["phl-*".into()])
        .expect("create");
    assert!(
        token.starts_with("amis_") && token.len() == 5 + 64,
        "256-bit hex token"
    );
    assert_ne!(token, other);

    let file = std::fs::read_to_string(dir.join("tokens.json")).expect("token file");
    assert!(
        !file.contains(&token[5..]) && !file.contains(&other[5..]),
        "no plaintext token on disk"
    );
    assert!(file.contains(&record.sha256));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("tokens.json"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let found = store.authenticate(&token).expect("the token authenticates");
    assert_eq!(found.agency, "Geological Agency of Indonesia");
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('0') { '1' } else { '0' });
    assert!(store.authenticate(&tampered).is_none());
    assert!(store.authenticate("").is_none());
    assert!(
        store.authenticate(&record.sha256).is_none(),
        "the hash is not a credential"
    );

    assert!(found.may_write("idn-occurrences"));
    assert!(found.may_write("geology-idn"));
    assert!(!found.may_write("phl-occurrences"));
    assert!(
        !found.may_write("mineral-occurrences"),
        "bundled layers are outside an agency scope"
    );
    assert!(!found.may_write("idn"), "'idn-*' needs the dash");

    // Persisted: a fresh process sees the same tokens; revocation sticks.
    let mut reopened = TokenStore::open(&dir).expect("reopen");
    assert!(reopened.authenticate(&other).is_some());
    let revoked = reopened.revoke(&record.id).expect("revoke");
    assert!(revoked.revoked.is_some());
    let after = TokenStore::open(&dir).expect("reopen");
    assert!(
        after.authenticate(&token).is_none(),
        "a revoked token no longer works"
    );
    assert!(after.authenticate(&other).is_some());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_agencies_scopes_and_ids_are_refused() {
    let dir = temp_store("bad");
    let mut store = TokenStore::open(&dir).expect("open");
    assert!(matches!(
        store.create("", &["a-*".into()]),
        Err(AuthError::InvalidAgency)
    ));
    assert!(
        store.create("Agency\n", &["a-*".into()]).is_ok(),
        "surrounding whitespace is trimmed"
    );
    assert!(matches!(
        store.create("Ag\u{7}ency", &["a-*".into()]),
        Err(AuthError::InvalidAgency)
    ));
    for scope in ["", "../*", "a/b", "A-*", "x[", "{a,b}"] {
        assert!(
            matches!(
                store.create("Agency", &[scope.into()]),
                Err(AuthError::InvalidScope(_))
            ),
            "{scope:?}"
        );
    }
    assert!(matches!(
        store.create("Agency", &[]),
        Err(AuthError::InvalidScope(_))
    ));
    assert!(matches!(
        store.revoke("nope"),
        Err(AuthError::UnknownToken(_))
    ));
    std::fs::write(dir.join("tokens.json"), b"{not json").expect("corrupt");
    assert!(
        matches!(TokenStore::open(&dir), Err(AuthError::Storage { .. })),
        "a corrupt file is an error, not an empty store"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cli_prints_the_token_once_and_stores_only_its_hash() {
    let dir = temp_store("cli");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_amis-webgis"))
            .arg("token")
            .args(args)
            .env("AMIS_STORE", &dir)
            .output()
            .expect("binary runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (ok, created) = run(&[
        "create",
        "--agency",
        "Department of Mineral Resources, Thailand",
        "--layers",
        "tha-*",
    ]);
    assert!(ok, "{created}");
    let token = created
        .lines()
        .find_map(|l| l.strip_prefix("token:"))
        .expect("token line")
        .trim()
        .to_string();
    let id = created
        .lines()
        .find_map(|l| l.strip_prefix("token id:"))
        .expect("id line")
        .trim()
        .to_string();
    let (ok, listed) = run(&["list"]);
    assert!(ok && listed.contains(&id) && listed.contains("tha-*") && !listed.contains(&token));
    assert!(
        !std::fs::read_to_string(dir.join("tokens.json"))
            .expect("file")
            .contains(&token)
    );
    assert!(
        TokenStore::open(&dir)
            .expect("open")
            .authenticate(&token)
            .is_some()
    );
    let (ok, _) = run(&["revoke", &id]);
    assert!(ok);
    assert!(
        TokenStore::open(&dir)
            .expect("open")
            .authenticate(&token)
            .is_none()
    );
    let (ok, _) = run(&["create", "--agency", "X", "--layers", "../*"]);
    assert!(!ok, "an invalid scope fails the command");
    std::fs::remove_dir_all(&dir).ok();
}
