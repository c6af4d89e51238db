//! Each request limit at its documented default, just under and just over.
use portal_tests::{Backend, TestApp, error_code, spawn_app};
use serde_json::{Value, json};

async fn post(app: &TestApp, body: Vec<u8>) -> (u16, Value) {
    let resp = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn query(app: &TestApp, q: &str) -> Value {
    app.graphql(q, json!({}), None).await
}

fn refused_with(body: &Value, words: &str) -> bool {
    error_code(body) == Some("BAD_USER_INPUT")
        && body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.to_lowercase().contains(words))
}

/// `{ __schema { types { fields { type { ofType … { name } } } } } }`, `depth` fields deep.
fn deep(depth: usize) -> String {
    let of_types = depth - 5;
    format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(of_types),
        "} ".repeat(of_types)
    )
}

/// `{ me { a { a … } } }`, `depth` fields deep.
fn ordinary_deep(depth: usize) -> String {
    format!(
        "{{ me {{ {}__typename {}}} }}",
        "a { ".repeat(depth - 2),
        "} ".repeat(depth - 2)
    )
}

fn sized_body(size: usize) -> Vec<u8> {
    let head = r#"{"query":"{ __typename }","variables":{"pad":""#;
    let tail = r#""}}"#;
    format!("{head}{}{tail}", "x".repeat(size - head.len() - tail.len())).into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_limit_holds_at_its_default() {
    let app = spawn_app(Backend::Sqlite).await;

    // Body: 64 KiB.
    let (status, body) = post(&app, sized_body(64 * 1024)).await;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (200, &json!("QueryRoot"))
    );
    let (status, body) = post(&app, sized_body(64 * 1024 + 1)).await;
    assert_eq!(status, 413);
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));

    // Batch: 1 to 10 operations.
    let batch = |n: usize| {
        Value::Array(vec![json!({ "query": "{ __typename }" }); n])
            .to_string()
            .into_bytes()
    };
    let (status, body) = post(&app, batch(10)).await;
    assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(10)));
    for n in [11, 0] {
        let (status, body) = post(&app, batch(n)).await;
        assert_eq!(status, 400, "batch of {n}");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    }

    // Depth: 12 for ordinary fields (checked before validation, so unknown fields
    // nested 13 deep are refused for their depth); 15 under `__schema`, what
    // graphql-js's introspection query needs.
    let body = query(&app, &ordinary_deep(12)).await;
    assert!(!refused_with(&body, "nested"), "{body}");
    assert!(refused_with(
        &query(&app, &ordinary_deep(13)).await,
        "nested"
    ));
    let body = query(&app, &deep(15)).await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(refused_with(&query(&app, &deep(16)).await, "nested"));

    // Aliases: 30.
    let aliases = |n: usize| {
        format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: __typename "))
                .collect::<String>()
        )
    };
    assert!(query(&app, &aliases(30)).await["errors"].is_null());
    assert!(refused_with(&query(&app, &aliases(31)).await, "aliases"));

    // Complexity: 5000; clients(first: 100) { nodes { id } } costs 100 × 2 + 1.
    let lists = |n: usize| {
        let fields: String = (0..n)
            .map(|i| format!("c{i}: clients(first: 100) {{ nodes {{ id }} }} "))
            .collect();
        format!("{{ {fields}}}")
    };
    let body = query(&app, &lists(24)).await;
    assert_eq!(
        error_code(&body),
        Some("UNAUTHENTICATED"),
        "4824 runs: {body}"
    );
    assert!(refused_with(&query(&app, &lists(25)).await, "complex"));

    // Complexity counts fields with fragments expanded: 5000 run, 5001 and bombs do not.
    let f2 = "fragment F0 on QueryRoot { a0: __typename a1: __typename a2: __typename a3: __typename a4: __typename a5: __typename a6: __typename a7: __typename a8: __typename a9: __typename } \
              fragment F1 on QueryRoot { ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 } \
              fragment F2 on QueryRoot { ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 }";
    let body = query(&app, &format!("{{ ...F2 ...F2 ...F2 ...F2 ...F2 }} {f2}")).await;
    assert!(body["errors"].is_null(), "5000 fields run: {body}");
    let body = query(
        &app,
        &format!("{{ ...F2 ...F2 ...F2 ...F2 ...F2 b: __typename }} {f2}"),
    )
    .await;
    assert!(refused_with(&body, "complex"), "{body}");
    let mut bomb = String::from("{ ...F9 } fragment F0 on QueryRoot { __typename }");
    for i in 1..10 {
        bomb.push_str(&format!(
            " fragment F{i} on QueryRoot {{ {}}}",
            format!("...F{} ", i - 1).repeat(10)
        ));
    }
    assert!(refused_with(&query(&app, &bomb).await, "complex"));
    let cycle =
        "{ ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { __typename ...A }";
    assert_eq!(
        error_code(&query(&app, cycle).await),
        Some("BAD_USER_INPUT")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_with_a_nul_character_is_refused_before_it_reaches_postgres() {
    let app = spawn_app(Backend::Postgres).await;
    let provider = app.signed_in_provider("Nul Practice").await;
    let body = app
        .graphql(
            "mutation($e: String!) { signIn(input: {email: $e, password: \"x\"}) { token } }",
            json!({ "e": "dr\u{0}@practice.test" }),
            None,
        )
        .await;
    assert!(refused_with(&body, "nul"), "{body}");
    let body = app
        .graphql(
            "{ clients(search: \"a\\u0000\") { totalCount } }",
            json!({}),
            Some(&provider.token),
        )
        .await;
    assert!(refused_with(&body, "nul"), "{body}");
    let body = app
        .graphql(
            "{ clients(search: \"a\\u0001\") { totalCount } }",
            json!({}),
            Some(&provider.token),
        )
        .await;
    assert_eq!(body["data"]["clients"]["totalCount"], 0, "{body}");
}

/// Each free-text argument just over its documented maximum: `BAD_USER_INPUT` naming
/// the field, never `INTERNAL` (SQLite once failed a 50,000-character search with
/// "LIKE or GLOB pattern too complex").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_free_text_argument_over_its_maximum_is_refused_naming_the_field() {
    let app = spawn_app(Backend::Sqlite).await;
    let provider = app.signed_in_provider("Bounded Practice").await;
    let created = app
        .create_client(&provider.token, "Jane", "Doe", None)
        .await;
    let client_id = created["data"]["createClient"]["client"]["id"].clone();
    let x = |n: usize| "x".repeat(n);
    let search = "query($s: String) { clients(search: $s) { totalCount } }";
    let at_bound = app
        .graphql(search, json!({ "s": x(254) }), Some(&provider.token))
        .await;
    assert_eq!(at_bound["data"]["clients"]["totalCount"], 0, "{at_bound}");

    let sign_in =
        "mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) { token } }";
    let client_sign_in = "mutation($e: String!, $p: String!) { clientSignIn(input: {email: $e, password: $p}) { token } }";
    let link = "query($t: String!) { accountLink(token: $t) { state } }";
    let complete = "mutation($t: String!) { completeAccountLink(input: {token: $t, password: \"lantern orbit violet canyon 42\"}) { token } }";
    let form =
        "mutation($i: CreateIntakeFormInput!) { createIntakeForm(input: $i) { form { id } } }";
    let message = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }";
    let create = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }";
    let cases: Vec<(&str, Value, &str)> = vec![
        (search, json!({ "s": x(50_000) }), "search"),
        (search, json!({ "s": x(255) }), "search"),
        (sign_in, json!({ "e": x(255), "p": "x" }), "email"),
        (
            sign_in,
            json!({ "e": "a@b.test", "p": x(1025) }),
            "password",
        ),
        (client_sign_in, json!({ "e": x(255), "p": "x" }), "email"),
        (link, json!({ "t": x(257) }), "token"),
        (complete, json!({ "t": x(257) }), "token"),
        (form, json!({ "i": { "title": x(201) } }), "title"),
        (
            form,
            json!({ "i": { "title": "T", "description": x(2001) } }),
            "description",
        ),
        (
            form,
            json!({ "i": { "title": "T", "questions": ["Q", x(501)] } }),
            "questions",
        ),
        (
            message,
            json!({ "i": { "clientId": client_id, "body": x(10_001) } }),
            "body",
        ),
        (
            create,
            json!({ "i": { "firstName": x(101), "lastName": "Doe" } }),
            "firstName",
        ),
        (
            create,
            json!({ "i": { "firstName": "Jo", "lastName": "Doe", "email": format!("{}@b.test", x(250)) } }),
            "email",
        ),
    ];
    for (operation, variables, field) in cases {
        let body = app
            .graphql(operation, variables, Some(&provider.token))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{field}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
}
