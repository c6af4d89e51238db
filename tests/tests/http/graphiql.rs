//! The playground: served in development with the Authorization note, and from the
//! service's own embedded files under a policy naming no other host.
use portal_tests::{Backend, spawn_app};
use serde_json::json;

#[tokio::test]
async fn graphiql_is_served_with_the_authorization_note_in_development() {
    let app = spawn_app(Backend::Sqlite).await;
    let resp = app
        .http
        .get(format!("{}/graphiql", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("graphiql"));
    assert!(html.contains("Authorization"));
    assert!(html.contains("Bearer"));
    let introspection = app
        .graphql("{ __schema { queryType { name } } }", json!({}), None)
        .await;
    assert_eq!(
        introspection["data"]["__schema"]["queryType"]["name"],
        "QueryRoot"
    );
}

/// A vendored GraphiQL file, as committed, and the path the service serves it under.
pub(crate) fn graphiql_file(name: &str) -> (Vec<u8>, String) {
    use sha2::Digest;
    let path = format!(
        "{}/../api/assets/graphiql/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let version = format!("{:x}", sha2::Sha256::digest(&bytes));
    let served = format!("/graphiql/assets/{}/{name}", &version[..16]);
    (bytes, served)
}

#[tokio::test]
async fn graphiql_comes_from_the_service_itself_under_a_policy_naming_no_other_host() {
    let app = spawn_app(Backend::Sqlite).await;
    let page = || async {
        let resp = app
            .http
            .get(format!("{}/graphiql", app.address))
            .send()
            .await
            .unwrap();
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        (csp, resp.text().await.unwrap())
    };
    let (csp, html) = page().await;
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "connect-src 'self';",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("http") && !csp.contains("unsafe"), "{csp}");
    assert!(
        !html.contains("http"),
        "no absolute URL in the page:\n{html}"
    );
    let (other_csp, _) = page().await;
    assert_ne!(csp, other_csp, "each page has a nonce of its own");

    for (name, content_type) in [
        ("graphiql.min.js", "text/javascript; charset=utf-8"),
        ("graphiql.min.css", "text/css; charset=utf-8"),
        ("react.production.min.js", "text/javascript; charset=utf-8"),
        (
            "react-dom.production.min.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let (bytes, path) = graphiql_file(name);
        assert!(html.contains(&format!("\"{path}\"")), "{path} linked");
        let resp = app
            .http
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-type"], content_type, "{path}");
        assert_eq!(
            resp.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(resp.bytes().await.unwrap() == bytes, "{path} as vendored");
        let stale = path.replace("/graphiql/assets/", "/graphiql/assets/0");
        let stale = app.http.get(format!("{}{stale}", app.address)).send();
        assert_eq!(stale.await.unwrap().status(), 404, "another version");
    }
}
