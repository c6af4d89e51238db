//! Creating, reading and listing clients, scoped to the provider's practice.
use portal_tests::{Backend, error_code, on_both_databases, spawn_app};
use serde_json::{Value, json};

on_both_databases!(
    a_client_is_created_with_trimmed_names_and_optional_email,
    invalid_client_input_is_refused_naming_the_field,
    an_email_is_unique_per_practice_whatever_its_case,
    another_practices_client_looks_exactly_like_a_missing_one,
    clients_are_paged_by_name_with_opaque_cursors,
    search_matches_names_and_email_words,
    creating_a_client_writes_an_audit_event,
    client_operations_need_a_provider_session,
);

const CLIENT: &str = "query($id: ID!) { client(id: $id) { id firstName email status } }";

async fn a_client_is_created_with_trimmed_names_and_optional_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = app.signed_in_provider("Sunrise").await;
    let body = app
        .create_client(&p.token, "  Jane ", " Doe  ", Some(" Jane@Example.com "))
        .await;
    let c = &body["data"]["createClient"]["client"];
    assert_eq!(c["firstName"], "Jane");
    assert_eq!(c["lastName"], "Doe");
    assert_eq!(c["email"], "Jane@Example.com");
    assert_eq!(c["status"], "INVITED");
    let no_email = app.create_client(&p.token, "Sam", "Lee", None).await;
    assert_eq!(
        no_email["data"]["createClient"]["client"]["status"],
        "NO_EMAIL"
    );
    let blank_email = app.create_client(&p.token, "Ann", "Lee", Some("  ")).await;
    assert_eq!(
        blank_email["data"]["createClient"]["client"]["email"],
        Value::Null
    );
    let read = app
        .graphql(CLIENT, json!({ "id": c["id"] }), Some(&p.token))
        .await;
    assert_eq!(read["data"]["client"]["firstName"], "Jane");
}

async fn invalid_client_input_is_refused_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = app.signed_in_provider("Sunrise").await;
    let cases = [
        (("  ", "Doe", None), "firstName"),
        (("Jane", "", None), "lastName"),
        (("Jane", "Doe", Some("jane@")), "email"),
        (("Jane", "Doe", Some("jane example.com")), "email"),
        (("Jane", "Doe", Some("jane@example")), "email"),
        (
            (
                "Jane - your account was locked, verify at https://evil.example/verify",
                "Doe",
                None,
            ),
            "firstName",
        ),
        (("Jane", "Doe\u{202e}cod.exe", None), "lastName"),
        (("Ja\u{200b}ne", "Doe", None), "firstName"),
        (("Jane", "Doe\u{2028}Security team", None), "lastName"),
    ];
    for ((first, last, email), field) in cases {
        let body = app.create_client(&p.token, first, last, email).await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{first:?} {last:?} {email:?}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
        assert!(body["data"].is_null());
    }
    let list = app
        .graphql("{ clients { totalCount } }", json!({}), Some(&p.token))
        .await;
    assert_eq!(
        list["data"]["clients"]["totalCount"], 0,
        "nothing half-written"
    );
}

async fn an_email_is_unique_per_practice_whatever_its_case(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = app.signed_in_provider("Sunrise").await;
    let other = app.signed_in_provider("Moonrise").await;
    let first = app
        .create_client(&p.token, "Jane", "Doe", Some("jane@example.com"))
        .await;
    assert!(first["errors"].is_null());
    let dup = app
        .create_client(&p.token, "Janet", "Doe", Some("JANE@Example.COM"))
        .await;
    assert_eq!(error_code(&dup), Some("EMAIL_TAKEN"));
    let elsewhere = app
        .create_client(&other.token, "Jane", "Doe", Some("jane@example.com"))
        .await;
    assert!(
        elsewhere["errors"].is_null(),
        "another practice may have the same address"
    );
}

async fn another_practices_client_looks_exactly_like_a_missing_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let mine = app.signed_in_provider("Sunrise").await;
    let theirs = app.signed_in_provider("Moonrise").await;
    let created = app
        .create_client(&theirs.token, "Jane", "Doe", Some("jane@example.com"))
        .await;
    let their_id = created["data"]["createClient"]["client"]["id"].clone();
    let foreign = app
        .graphql(CLIENT, json!({ "id": their_id }), Some(&mine.token))
        .await;
    let missing_id = uuid::Uuid::now_v7().to_string();
    let missing = app
        .graphql(CLIENT, json!({ "id": missing_id }), Some(&mine.token))
        .await;
    assert_eq!(foreign, missing);
    assert_eq!(foreign, json!({ "data": { "client": null } }));
    let list = app
        .graphql(
            "{ clients { totalCount edges { node { id } } } }",
            json!({}),
            Some(&mine.token),
        )
        .await;
    assert_eq!(list["data"]["clients"]["totalCount"], 0);
    let bad_id = app
        .graphql(CLIENT, json!({ "id": "not-an-id" }), Some(&mine.token))
        .await;
    assert_eq!(error_code(&bad_id), Some("BAD_USER_INPUT"));
}

const PAGE: &str = "query($first: Int, $after: String) { clients(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { lastName firstName } } } }";

async fn clients_are_paged_by_name_with_opaque_cursors(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = app.signed_in_provider("Sunrise").await;
    // 25 clients in scrambled order; two share a last name to exercise the tie-break.
    let mut expected = Vec::new();
    for i in (0..25).rev() {
        let last = format!("Name{:02}", i / 2 * 2);
        let first = format!("F{i:02}");
        app.create_client(&p.token, &first, &last, None).await;
        expected.push(format!("{last} {first}"));
    }
    expected.sort();
    let (mut seen, mut after, mut pages) = (Vec::new(), Value::Null, 0);
    loop {
        let body = app
            .graphql(PAGE, json!({ "first": 10, "after": after }), Some(&p.token))
            .await;
        let conn = &body["data"]["clients"];
        assert_eq!(conn["totalCount"], 25);
        for edge in conn["edges"].as_array().unwrap() {
            seen.push(format!(
                "{} {}",
                edge["node"]["lastName"].as_str().unwrap(),
                edge["node"]["firstName"].as_str().unwrap()
            ));
        }
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected, "every client once, in name order");
    for (args, field) in [
        (json!({ "first": -1 }), "first"),
        (json!({ "first": 101 }), "first"),
        (json!({ "after": "bm9wZQ" }), "after"),
    ] {
        let body = app.graphql(PAGE, args, Some(&p.token)).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
}

async fn search_matches_names_and_email_words(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = app.signed_in_provider("Sunrise").await;
    app.create_client(&p.token, "Jane", "Doe", Some("jane.doe@example.com"))
        .await;
    app.create_client(&p.token, "John", "Doe", None).await;
    app.create_client(&p.token, "Ann", "Smith_Jones", Some("ann@mail.test"))
        .await;
    let search = |term: &'static str| {
        let app = &app;
        let token = p.token.clone();
        async move {
            let body = app
                .graphql(
                    "query($s: String) { clients(search: $s) { totalCount } }",
                    json!({ "s": term }),
                    Some(&token),
                )
                .await;
            body["data"]["clients"]["totalCount"].as_u64().unwrap()
        }
    };
    assert_eq!(search("doe").await, 2);
    assert_eq!(search("JANE doe").await, 1);
    assert_eq!(search("mail.test").await, 1);
    assert_eq!(search("smith_").await, 1);
    assert_eq!(search("%").await, 0, "LIKE wildcards are literal");
    assert_eq!(search("_").await, 1);
    assert_eq!(search("").await, 3);
}

async fn creating_a_client_writes_an_audit_event(backend: Backend) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app(backend).await;
    let p = app.signed_in_provider("Sunrise").await;
    let body = app
        .create_client(&p.token, "Jane", "Doe", Some("jane@example.com"))
        .await;
    let id: uuid::Uuid = body["data"]["createClient"]["client"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let events = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::ClientId.eq(id))
        .all(&app.state.db)
        .await
        .unwrap();
    let mut actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    actions.sort();
    assert_eq!(actions, ["client.created", "email.invite_sent"]);
    for event in &events {
        assert_eq!(event.actor_kind, entity::audit_event::ActorKind::Provider);
        assert_eq!(event.ip.as_deref(), Some("127.0.0.1"));
        let detail = event.detail.clone().unwrap_or_default();
        assert!(
            !detail.contains("jane@"),
            "no full address in the trail: {detail}"
        );
    }
    let sign_ins = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Action.eq("provider.signed_in"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(sign_ins.len(), 1);
}

async fn client_operations_need_a_provider_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let anonymous = app
        .create_client(
            "pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "Jane",
            "Doe",
            None,
        )
        .await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
    for query in [
        "{ clients { totalCount } }",
        "{ client(id: \"01a21016-059b-70e7-963c-91ce56ed6539\") { id } }",
    ] {
        let body = app.graphql(query, json!({}), None).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{query}");
    }
}

on_both_databases!(an_unexpected_failure_answers_internal_with_an_id_and_writes_nothing);

async fn an_unexpected_failure_answers_internal_with_an_id_and_writes_nothing(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let app = spawn_app(backend).await;
    let p = app.signed_in_provider("Sunrise").await;
    // The audit write fails after the client row is inserted in the same transaction.
    app.state
        .db
        .execute_unprepared("DROP TABLE audit_event")
        .await
        .unwrap();
    let body = app
        .create_client(&p.token, "Jane", "Doe", Some("jane@example.com"))
        .await;
    assert_eq!(error_code(&body), Some("INTERNAL"));
    let error_id = body["errors"][0]["extensions"]["errorId"]
        .as_str()
        .expect("errorId");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(error_id));
    assert!(
        !message.to_lowercase().contains("audit") && !message.to_lowercase().contains("table"),
        "{message}"
    );
    let list = app
        .graphql("{ clients { totalCount } }", json!({}), Some(&p.token))
        .await;
    assert_eq!(
        list["data"]["clients"]["totalCount"], 0,
        "the client insert was rolled back"
    );
}
