//! Provider sign-in, sessions and sign-out.
use portal_tests::{Backend, PASSWORD, error_code, on_both_databases, spawn_app, spawn_app_with};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;
use sha2::Digest;

on_both_databases!(
    a_provider_signs_in_and_sees_itself,
    wrong_password_and_unknown_email_get_the_same_error,
    sign_out_ends_the_session,
    an_expired_or_forged_token_is_unauthenticated,
    sessions_are_stored_only_as_hashes,
);

const ME: &str = "{ me { ... on Provider { email name organization { name } } } }";

async fn a_provider_signs_in_and_sees_itself(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("Sunrise Clinic", "Doc@Sunrise.test")
        .await;
    // Email matching is case-insensitive and trims.
    let body = app.sign_in("  doc@SUNRISE.test ", PASSWORD).await;
    let token = body["data"]["signIn"]["token"].as_str().expect("token");
    assert!(token.starts_with("pat_"));
    assert!(body["data"]["signIn"]["expiresAt"].is_string());
    let me = app.graphql(ME, json!({}), Some(token)).await;
    assert_eq!(me["data"]["me"]["email"], "doc@sunrise.test");
    assert_eq!(me["data"]["me"]["organization"]["name"], "Sunrise Clinic");
    let anonymous = app.graphql(ME, json!({}), None).await;
    assert!(anonymous["data"]["me"].is_null());
}

async fn wrong_password_and_unknown_email_get_the_same_error(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("Sunrise Clinic", "doc@sunrise.test")
        .await;
    let wrong = app
        .sign_in("doc@sunrise.test", "not the password at all")
        .await;
    let unknown = app.sign_in("nobody@sunrise.test", PASSWORD).await;
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"));
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(
        wrong["errors"][0]["extensions"],
        unknown["errors"][0]["extensions"]
    );
    assert!(wrong["data"].is_null() && unknown["data"].is_null());
}

async fn sign_out_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let provider = app.signed_in_provider("Sunrise Clinic").await;
    let out = app
        .graphql("mutation { signOut }", json!({}), Some(&provider.token))
        .await;
    assert_eq!(out["data"]["signOut"], true);
    let after = app
        .graphql(
            "{ clients { totalCount } }",
            json!({}),
            Some(&provider.token),
        )
        .await;
    assert_eq!(error_code(&after), Some("UNAUTHENTICATED"));
    let again = app
        .graphql("mutation { signOut }", json!({}), Some(&provider.token))
        .await;
    assert_eq!(error_code(&again), Some("UNAUTHENTICATED"));
}

async fn an_expired_or_forged_token_is_unauthenticated(backend: Backend) {
    let app = spawn_app_with(backend, &[("SESSION_TTL_SECS", "3600")]).await;
    let provider = app.signed_in_provider("Sunrise Clinic").await;
    app.state
        .db
        .execute_unprepared("UPDATE session SET expires_at = created_at")
        .await
        .unwrap();
    for token in [
        provider.token.as_str(),
        "pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "garbage",
    ] {
        let body = app
            .graphql("{ clients { totalCount } }", json!({}), Some(token))
            .await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{token}");
    }
    let none = app
        .graphql("{ clients { totalCount } }", json!({}), None)
        .await;
    assert_eq!(error_code(&none), Some("UNAUTHENTICATED"));
}

async fn sessions_are_stored_only_as_hashes(backend: Backend) {
    let app = spawn_app(backend).await;
    let provider = app.signed_in_provider("Sunrise Clinic").await;
    let sessions = entity::session::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    let sha256_hex: String = sha2::Sha256::digest(provider.token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sessions[0].token_hash, sha256_hex, "stored as its SHA-256");
    assert!(!sessions[0].token_hash.contains(&provider.token[4..]));
    let lifetime = sessions[0].expires_at - sessions[0].created_at;
    assert_eq!(lifetime.num_hours(), 12, "default session lifetime");
}
