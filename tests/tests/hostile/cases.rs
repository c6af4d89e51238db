//! The hostile requests: a fixed list of classic nasties plus thousands generated from
//! a seeded RNG (the same cases on every run).
use super::values::{self, literal, pick};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// One request to send.
pub struct Case {
    pub kind: &'static str,
    pub method: &'static str,
    pub body: Vec<u8>,
    /// `None` sends no Content-Type at all.
    pub content_type: Option<String>,
    pub signed_in: bool,
    pub headers: Vec<(String, String)>,
    /// Refused below GraphQL (router, hyper): the answer may be empty or not JSON,
    /// or the connection may be closed.
    pub below_graphql: bool,
}

impl Case {
    pub fn json(kind: &'static str, body: Value, signed_in: bool) -> Self {
        Self::raw(kind, body.to_string().into_bytes(), signed_in)
    }

    pub fn raw(kind: &'static str, body: Vec<u8>, signed_in: bool) -> Self {
        Self {
            kind,
            method: "POST",
            body,
            content_type: Some("application/json".into()),
            signed_in,
            headers: vec![],
            below_graphql: false,
        }
    }
}

/// Ids the provider owns, so some hostile input reaches the services behind.
pub struct Targets {
    pub client_id: String,
    pub form_id: String,
}

/// Every operation, with its arguments as one variable `$v` of the declared type.
const OPERATIONS: &[(&str, &str)] = &[
    (
        "query($v: ID!) { client(id: $v) { id firstName email status resendQuota { remaining } activeLink { kind } emailDeliveries(first: 5) { status } } }",
        "ID",
    ),
    (
        "query($v: Int) { clients(first: $v) { totalCount edges { cursor node { id } } pageInfo { hasNextPage } } }",
        "Int",
    ),
    (
        "query($v: String) { clients(after: $v) { totalCount } }",
        "String",
    ),
    (
        "query($v: String) { clients(search: $v) { nodes { id } } }",
        "String",
    ),
    (
        "query($v: String!) { accountLink(token: $v) { state kind firstName } }",
        "String",
    ),
    (
        "query($v: ID) { auditEvents(clientId: $v) { nodes { id } } }",
        "ID",
    ),
    (
        "query($v: String) { auditEvents(after: $v) { nodes { id } } }",
        "String",
    ),
    (
        "mutation($v: SignInInput!) { signIn(input: $v) { token } }",
        "SignInInput",
    ),
    (
        "mutation($v: SignInInput!) { clientSignIn(input: $v) { token } }",
        "SignInInput",
    ),
    (
        "mutation($v: CreateClientInput!) { createClient(input: $v) { client { id } invite { status } } }",
        "CreateClientInput",
    ),
    (
        "mutation($v: ID!) { resendWelcomeEmail(clientId: $v) { resendsRemaining } }",
        "ID",
    ),
    (
        "mutation($v: UpdateClientEmailInput!) { updateClientEmail(input: $v) { client { id } } }",
        "UpdateClientEmailInput",
    ),
    (
        "mutation($v: SetClientPasswordInput!) { setClientPassword(input: $v) { client { id } } }",
        "SetClientPasswordInput",
    ),
    (
        "mutation($v: CompleteAccountLinkInput!) { completeAccountLink(input: $v) { token } }",
        "CompleteAccountLinkInput",
    ),
    (
        "mutation($v: String!) { requestPasswordReset(email: $v) }",
        "String",
    ),
    (
        "mutation($v: ChangePasswordInput!) { changePassword(input: $v) { client { id } } }",
        "ChangePasswordInput",
    ),
    (
        "mutation($v: CreateIntakeFormInput!) { createIntakeForm(input: $v) { form { id } } }",
        "CreateIntakeFormInput",
    ),
    (
        "mutation($v: AssignIntakeFormInput!) { assignIntakeForm(input: $v) { assignment { id } } }",
        "AssignIntakeFormInput",
    ),
    (
        "mutation($v: CompleteIntakeFormInput!) { completeIntakeForm(input: $v) { assignment { id } } }",
        "CompleteIntakeFormInput",
    ),
    (
        "mutation($v: SendMessageInput!) { sendMessage(input: $v) { message { id } } }",
        "SendMessageInput",
    ),
];

/// Field names of each input type, with a plausible value kind.
fn input_fields(ty: &str) -> &'static [&'static str] {
    match ty {
        "SignInInput" => &["email", "password"],
        "CreateClientInput" => &[
            "firstName",
            "lastName",
            "email",
            "sendInvite",
            "confirmUnusualDomain",
        ],
        "UpdateClientEmailInput" => &["clientId", "email", "resendInvite", "confirmUnusualDomain"],
        "SetClientPasswordInput" => &["clientId", "password", "requireChangeOnNextSignIn"],
        "CompleteAccountLinkInput" => &["token", "password"],
        "ChangePasswordInput" => &["currentPassword", "newPassword"],
        "CreateIntakeFormInput" => &["title", "description", "questions"],
        "AssignIntakeFormInput" => &["clientId", "formId"],
        "CompleteIntakeFormInput" => &["assignmentId", "answers"],
        "SendMessageInput" => &["clientId", "body"],
        _ => &[],
    }
}

/// A value for one field: usually plausible (so services run), often hostile.
fn field_value(rng: &mut StdRng, field: &str, t: &Targets) -> Value {
    if rng.random_bool(0.5) {
        return values::value(rng, 3);
    }
    match field {
        "clientId" | "assignmentId" => json!(t.client_id),
        "formId" => json!(t.form_id),
        "email" => json!(format!(
            "{}@example.com",
            values::string(rng).replace(['@', ' '], "")
        )),
        "sendInvite" | "resendInvite" | "confirmUnusualDomain" | "requireChangeOnNextSignIn" => {
            json!(rng.random_bool(0.5))
        }
        "questions" => json!(
            (0..rng.random_range(0..50))
                .map(|_| values::string(rng))
                .collect::<Vec<_>>()
        ),
        "answers" => values::value(rng, 6),
        _ => json!(values::string(rng)),
    }
}

fn argument(rng: &mut StdRng, ty: &str, t: &Targets) -> Value {
    let fields = input_fields(ty);
    if fields.is_empty() || rng.random_bool(0.15) {
        return match ty {
            "ID" if rng.random_bool(0.3) => json!(t.client_id),
            _ => values::value(rng, 3),
        };
    }
    let mut map = serde_json::Map::new();
    for field in fields {
        if rng.random_bool(0.9) {
            map.insert((*field).into(), field_value(rng, field, t));
        }
    }
    if rng.random_bool(0.1) {
        map.insert("unknownField".into(), values::value(rng, 1));
    }
    Value::Object(map)
}

/// One generated operation, as variables or as an inline literal.
fn operation(rng: &mut StdRng, t: &Targets) -> Value {
    let (query, ty) = pick(rng, OPERATIONS);
    let arg = argument(rng, ty, t);
    if rng.random_bool(0.7) {
        return json!({ "query": query, "variables": { "v": arg } });
    }
    // Inline: drop the variable definition and put the literal in its place.
    let body = &query[query.find(')').map_or(0, |i| i + 1)..];
    let inline = body.replacen("$v", &literal(&arg), 1);
    let keyword = if query.starts_with("mutation") {
        "mutation"
    } else {
        "query"
    };
    json!({ "query": format!("{keyword} {inline}") })
}

/// Random byte edits of a valid body: broken JSON, invalid UTF-8, truncation.
fn mangle(rng: &mut StdRng, mut body: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.random_range(1..6) {
        if body.is_empty() {
            break;
        }
        let at = rng.random_range(0..body.len());
        match rng.random_range(0..5) {
            0 => body[at] ^= 1 << rng.random_range(0..8),
            1 => body.insert(at, rng.random_range(0x80..=0xFF)),
            2 => {
                body.remove(at);
            }
            3 => body.truncate(at),
            _ => body
                .splice(at..at, [0xC0, 0xAF, 0xED, 0xA0, 0x80])
                .for_each(drop),
        }
    }
    body
}

/// `n` generated cases from `seed`.
pub fn generated(seed: u64, n: usize, t: &Targets) -> Vec<Case> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let signed_in = rng.random_bool(0.5);
            match rng.random_range(0..10) {
                0..=5 => Case::json("generated operation", operation(&mut rng, t), signed_in),
                6 => {
                    let items: Vec<Value> = (0..rng.random_range(0..14))
                        .map(|_| operation(&mut rng, t))
                        .collect();
                    Case::json("generated batch", Value::Array(items), signed_in)
                }
                7 | 8 => {
                    let body = operation(&mut rng, t).to_string().into_bytes();
                    Case::raw("mangled bytes", mangle(&mut rng, body), signed_in)
                }
                _ => {
                    let mut case = Case::json("garbage token", operation(&mut rng, t), false);
                    let token =
                        values::string(&mut rng).replace(|c: char| !c.is_ascii_graphic(), "");
                    case.headers
                        .push(("authorization".into(), format!("Bearer {token}")));
                    case
                }
            }
        })
        .collect()
}
