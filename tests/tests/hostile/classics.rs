//! The fixed list: classic malformed and hostile requests, each sent anonymous and
//! signed in.
use super::cases::{Case, Targets};
use super::values::nested;
use serde_json::{Value, json};

const LIMIT: usize = 64 * 1024;

fn body_of_size(size: usize) -> Vec<u8> {
    let head = r#"{"query":"{ __typename }","variables":{"pad":""#;
    let tail = r#""}}"#;
    let pad = "x".repeat(size - head.len() - tail.len());
    format!("{head}{pad}{tail}").into_bytes()
}

fn fragment_bomb(levels: usize, fan: usize) -> String {
    let mut q = format!(
        "{{ ...F{} }} fragment F0 on QueryRoot {{ __typename }}",
        levels - 1
    );
    for i in 1..levels {
        let spreads = format!("...F{} ", i - 1).repeat(fan);
        q.push_str(&format!(" fragment F{i} on QueryRoot {{ {spreads}}}"));
    }
    q
}

fn queries(t: &Targets) -> Vec<String> {
    let id = &t.client_id;
    let aliases: String = (0..200)
        .map(|i| format!("a{i}: me {{ __typename }} "))
        .collect();
    vec![
        "{ me { __typename } }".into(),
        "{".into(),
        "}".into(),
        "{ nope }".into(),
        "{ client { id } }".into(),
        "{ client(id: null) { id } }".into(),
        "{ client(id: 1e400) { id } }".into(),
        "{ client(id: 99999999999999999999999999999) { id } }".into(),
        "{ client(id: -0) { id } }".into(),
        "{ client(id: true) { id } }".into(),
        "{ client(id: [1, 2]) { id } }".into(),
        "{ client(id: {a: 1}) { id } }".into(),
        "{ client(id: ENUM) { id } }".into(),
        "{ client(id: $undeclared) { id } }".into(),
        format!("{{ client(id: \"{id}\", extra: 1) {{ id }} }}"),
        format!("{{ client(id: \"{id}\") {{ id nope }} }}"),
        format!("{{ client(id: \"{id}\") }}"),
        format!("{{ client(id: \"{id}\") {{ id }} client(id: \"other\") {{ id }} }}"),
        "{ clients(first: 2147483648) { totalCount } }".into(),
        "{ clients(first: -2147483649) { totalCount } }".into(),
        "{ clients(first: -1) { totalCount } }".into(),
        "{ clients(first: 1.5) { totalCount } }".into(),
        "{ clients(first: \"10\") { totalCount } }".into(),
        "{ clients(after: \"\") { totalCount } }".into(),
        format!("{{ clients(after: \"{}\") {{ totalCount }} }}", "A".repeat(5000)),
        format!("{{ clients(search: {}) {{ totalCount }} }}", "[".repeat(3000) + &"]".repeat(3000)),
        format!("{{ clients(search: \"{}\") {{ totalCount }} }}", "%_\\\\".repeat(500)),
        "mutation { signOut signOut signOut }".into(),
        "subscription { me { __typename } }".into(),
        "query A { __typename } query A { __typename }".into(),
        "query A { __typename } query B { __typename }".into(),
        "{ ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }".into(),
        "{ ...Missing }".into(),
        "{ ... on Client { id } }".into(),
        "fragment A on QueryRoot { __typename }".into(),
        fragment_bomb(8, 10),
        fragment_bomb(40, 2),
        fragment_bomb(2000, 1),
        format!("{{ {aliases}}}"),
        format!("{{{}}}", " __typename".repeat(5500)),
        format!("{{ {} }}", "me { ".repeat(2000) + &"}".repeat(2000)),
        "{ __typename @skip(if: true) @skip(if: false) @include(if: true) @deprecated }".into(),
        format!("{{ __typename {}}}", "@skip(if: false) ".repeat(50)),
        "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }".into(),
        "{ __type(name: \"\\u0000\") { name } }".into(),
        "query ($a: Int = \"x\") { __typename }".into(),
        "query ($a: Nope) { __typename }".into(),
        "query ($a: Int!, $a: Int!) { __typename }".into(),
        "# only a comment".into(),
        "\u{feff}{ __typename }".into(),
        "{ __typename }\u{0}".into(),
        "\"\"\"unterminated".into(),
        "{ client(id: \"\\uD800\") { id } }".into(),
        "{ accountLink(token: \"lnk_\\u0000\") { state } }".into(),
        "mutation { requestPasswordReset(email: \"a\\u0000@example.com\") }".into(),
        format!("mutation {{ sendMessage(input: {{clientId: \"{id}\", body: \"a\\u0000b\"}}) {{ message {{ id }} }} }}"),
        format!("mutation {{ sendMessage(input: {{clientId: \"{id}\", body: \"{}\"}}) {{ message {{ id }} }} }}", "b".repeat(60_000)),
        format!("mutation {{ createClient(input: {{firstName: \"a\", lastName: \"b\", email: \"{}@example.com\"}}) {{ client {{ id }} }} }}", "c".repeat(60_000)),
        format!("mutation {{ createIntakeForm(input: {{title: \"t\", questions: [{}]}}) {{ form {{ id }} }} }}", "\"q\", ".repeat(10_000)),
        format!("mutation {{ completeIntakeForm(input: {{assignmentId: \"{id}\", answers: {}}}) {{ assignment {{ id }} }} }}", "{a: ".repeat(100) + "1" + &"}".repeat(100)),
    ]
}

/// Whole bodies that are not a GraphQL request, or barely one.
fn bodies() -> Vec<Vec<u8>> {
    let text = |s: &str| s.as_bytes().to_vec();
    let mut list = vec![
        text(""),
        text("null"),
        text("true"),
        text("\"{ __typename }\""),
        text("[]"),
        text("[[]]"),
        text("[null]"),
        text("[[{\"query\":\"{ __typename }\"}]]"),
        text("{}"),
        text("{\"query\": null}"),
        text("{\"query\": \"\"}"),
        text("{\"query\": [\"{ __typename }\"]}"),
        text("{\"query\":\"{ __typename }\",\"variables\":\"x\"}"),
        text("{\"query\":\"{ __typename }\",\"variables\":[]}"),
        text("{\"query\":\"{ __typename }\",\"operationName\":5}"),
        text("{\"query\":\"{ __typename }\",\"operationName\":\"Nope\"}"),
        text(
            "{\"query\":\"{ __typename }\",\"extensions\":{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"abc\"}}}",
        ),
        text("{\"query\":\"{ nope }\",\"query\":\"{ __typename }\"}"),
        text("{\"query\":\"{ __typename }\"} trailing"),
        text("{\"query\":\"{ __typename }\" /* comment */}"),
        text("{\"query\":\"{ clients(first: $n) { totalCount } }\",\"variables\":{\"n\":NaN}}"),
        text(
            "{\"query\":\"query($n: Int) { clients(first: $n) { totalCount } }\",\"variables\":{\"n\":1e999999}}",
        ),
        text(
            "{\"query\":\"query($n: Int) { clients(first: $n) { totalCount } }\",\"variables\":{\"n\":123456789012345678901234567890}}",
        ),
        text("{\"query\":\"{ __typename }\\ud800\"}"),
        text("{'query': '{ __typename }'}"),
        text("\u{feff}{\"query\":\"{ __typename }\"}"),
        b"{\"query\":\"{ __typename \xff\xfe }\"}".to_vec(),
        b"{\"query\":\"{ __typename }\xc0\xaf\"}".to_vec(),
        b"\xff\xfe{\x00\"\x00q\x00}\x00".to_vec(),
        "[".repeat(100_000).into_bytes(),
        "{\"a\":".repeat(20_000).into_bytes(),
        body_of_size(LIMIT - 1),
        body_of_size(LIMIT + 1),
        body_of_size(10 * LIMIT),
    ];
    let deep = json!({ "query": "query($v: String) { clients(search: $v) { totalCount } }", "variables": { "v": nested(120) } });
    list.push(deep.to_string().into_bytes());
    let batch = |n: usize| Value::Array(vec![json!({ "query": "{ __typename }" }); n]).to_string();
    list.extend([text(&batch(11)), text(&batch(500))]);
    list
}

/// Content types, methods and headers that are not what the endpoint takes.
fn envelopes() -> Vec<Case> {
    let op = br#"{"query":"{ __typename }"}"#.to_vec();
    let mut list = vec![];
    for ct in [
        None,
        Some(""),
        Some("text/plain"),
        Some("application/graphql"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/json-seq"),
        Some("application/jsonx"),
        Some("application/json, text/plain"),
        Some("application/json; charset=latin1"),
        Some("APPLICATION/JSON;;;;"),
    ] {
        let mut c = Case::raw("content type", op.clone(), false);
        c.content_type = ct.map(str::to_owned);
        list.push(c);
    }
    for method in ["PUT", "PATCH", "DELETE", "OPTIONS", "GET"] {
        let mut c = Case::raw("method", op.clone(), false);
        c.method = method;
        c.below_graphql = true;
        list.push(c);
    }
    let headers: Vec<(&str, String)> = vec![
        ("authorization", "Bearer".into()),
        ("authorization", "Bearer ".into()),
        ("authorization", "Basic dXNlcjpwYXNz".into()),
        ("authorization", format!("Bearer pat_{}", "A".repeat(43))),
        ("authorization", format!("Bearer pat_{}", "A".repeat(8000))),
        ("authorization", "Bearer pat_AAAA, Bearer pat_BBBB".into()),
        ("content-encoding", "gzip".into()),
        ("accept", "text/html".into()),
        ("accept", "application/graphql-response+json".into()),
        ("x-forwarded-for", "1.2.3.4, ::1, garbage".into()),
        ("x-huge", "h".repeat(7000)),
    ];
    for (name, value) in headers {
        let mut c = Case::raw("header", op.clone(), false);
        c.headers.push((name.into(), value));
        list.push(c);
    }
    let mut huge = Case::raw("huge header", op.clone(), false);
    huge.headers.push(("x-huge".into(), "h".repeat(200_000)));
    huge.below_graphql = true;
    list.push(huge);
    let mut many = Case::raw("many headers", op, false);
    many.headers = (0..500).map(|i| (format!("x-h{i}"), "v".into())).collect();
    many.below_graphql = true;
    list.push(many);
    list
}

/// The fixed list, each GraphQL case both anonymous and signed in.
pub fn classics(t: &Targets) -> Vec<Case> {
    let mut list = vec![];
    for signed_in in [false, true] {
        // Signed in, signOut would end the session the other cases use.
        for q in queries(t)
            .into_iter()
            .filter(|q| !(signed_in && q.contains("signOut")))
        {
            list.push(Case::json(
                "classic query",
                json!({ "query": q }),
                signed_in,
            ));
        }
        for body in bodies() {
            // Far over the limit, the server answers 413 before reading the body and
            // closes the connection: the client may see a broken pipe instead.
            let refused_unread = body.len() > 2 * LIMIT;
            let mut case = Case::raw("classic body", body, signed_in);
            case.below_graphql = refused_unread;
            list.push(case);
        }
    }
    list.extend(envelopes());
    list
}
