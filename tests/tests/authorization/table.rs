//! The matrix itself: one row per operation (or per boundary of an operation), one
//! expected answer per viewer. Designed answers come from DESIGN.md (R12: another
//! practice's client looks exactly like a missing one) and the resolvers' guards.
use super::proof::Proof;
use super::world::Fixture;
use serde_json::{Value, json};

/// Who sends the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// No `Authorization` header.
    Anonymous,
    /// An activated client of practice A, signed in with `clientSignIn`.
    Client,
    /// A provider of practice B; every fixture belongs to practice A.
    OtherProvider,
    /// A provider of practice A.
    SameProvider,
    /// Signed-out sessions: a provider's and a client's of practice A, both checked.
    Revoked,
    /// Sessions past their lifetime (the app clock moved on): a provider's and a client's.
    Expired,
}

/// The columns, in the order of [`Row::expect`].
pub const VIEWERS: [Viewer; 6] = [
    Viewer::Anonymous,
    Viewer::Client,
    Viewer::OtherProvider,
    Viewer::SameProvider,
    Viewer::Revoked,
    Viewer::Expired,
];

/// What one cell must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No error; the field holds a value (and the row's proof holds).
    Ok,
    /// No error; the field is null (a nullable field's "nothing here for you").
    Null,
    /// An error with this `extensions.code`, and no data for the field.
    Code(&'static str),
}

use Expect::{Code, Null, Ok};
const UNAUTH: Expect = Code("UNAUTHENTICATED");
const FORBID: Expect = Code("FORBIDDEN");
const MISSING: Expect = Code("NOT_FOUND");

/// Anyone may call it; a stale token presented with it changes nothing.
const PUBLIC: [Expect; 6] = [Ok; 6];
/// A provider's action on practice A's client: the other practice finds nothing.
const PROVIDER_ON_TARGET: [Expect; 6] = [UNAUTH, FORBID, MISSING, Ok, UNAUTH, UNAUTH];
/// A provider's operation scoped to the caller's own practice.
const PROVIDER_OWN_PRACTICE: [Expect; 6] = [UNAUTH, FORBID, Ok, Ok, UNAUTH, UNAUTH];
/// Only a signed-in client.
const CLIENT_ONLY: [Expect; 6] = [UNAUTH, Ok, FORBID, FORBID, UNAUTH, UNAUTH];

/// What a cell needs built before it runs (fresh for each cell).
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// An invite link token of a new practice-A client (waits for the email).
    pub link: bool,
    /// A form assigned to the signed-in client fixture.
    pub own_assignment: bool,
    /// A form assigned to the target client.
    pub target_assignment: bool,
    /// A session of its own for the viewer: the cell ends or changes it.
    pub fresh_session: bool,
}

const BASIC: Needs = Needs {
    link: false,
    own_assignment: false,
    target_assignment: false,
    fresh_session: false,
};

/// One row: an operation (`op` is the root field), its document and variables, the
/// expected answer per viewer (in [`VIEWERS`] order) and the proof of `Ok` cells.
pub struct Row {
    pub op: &'static str,
    pub case: &'static str,
    pub document: &'static str,
    pub vars: fn(&Fixture) -> Value,
    pub needs: Needs,
    pub expect: [Expect; 6],
    pub proof: Proof,
}

fn no_vars(_: &Fixture) -> Value {
    json!({})
}

fn target(f: &Fixture) -> Value {
    json!({ "id": f.target_id })
}

/// Every row. A new root field without a row fails `every_operation_has_a_row`.
pub static ROWS: &[Row] = &[
    Row {
        op: "me",
        case: "who am I",
        document: "{ me { __typename ... on Provider { email } ... on ClientAccount { id } } }",
        vars: no_vars,
        needs: BASIC,
        expect: [Null, Ok, Ok, Ok, Null, Null],
        proof: Proof::MeIsCaller,
    },
    Row {
        op: "client",
        case: "practice A's client by id",
        document: "query($id: ID!) { client(id: $id) { id email } }",
        vars: target,
        needs: BASIC,
        expect: [UNAUTH, FORBID, Null, Ok, UNAUTH, UNAUTH],
        proof: Proof::IsTarget,
    },
    Row {
        op: "clients",
        case: "search for practice A's client",
        document: "query($s: String) { clients(first: 100, search: $s) { totalCount nodes { id } } }",
        vars: |f| json!({ "s": f.target_last }),
        needs: BASIC,
        expect: PROVIDER_OWN_PRACTICE,
        proof: Proof::ListsTargetToOwnPracticeOnly,
    },
    Row {
        op: "accountLink",
        case: "read a live invite link",
        document: "query($t: String!) { accountLink(token: $t) { state firstName } }",
        vars: |f| json!({ "t": f.link_token() }),
        needs: Needs {
            link: true,
            ..BASIC
        },
        expect: PUBLIC,
        proof: Proof::LinkStillValid,
    },
    Row {
        op: "auditEvents",
        case: "practice A's client's trail",
        document: "query($id: ID) { auditEvents(clientId: $id, first: 200) { nodes { clientId action } } }",
        vars: target,
        needs: BASIC,
        expect: PROVIDER_OWN_PRACTICE,
        proof: Proof::TargetEventsToOwnPracticeOnly,
    },
    Row {
        op: "auditEvents",
        case: "the whole practice's trail",
        document: "{ auditEvents(first: 200) { nodes { clientId action } } }",
        vars: no_vars,
        needs: BASIC,
        expect: PROVIDER_OWN_PRACTICE,
        proof: Proof::PracticeTrailKeepsTarget,
    },
    Row {
        op: "intakeForms",
        case: "the practice's forms",
        document: "{ intakeForms { id title } }",
        vars: no_vars,
        needs: BASIC,
        expect: PROVIDER_OWN_PRACTICE,
        proof: Proof::OwnFormsOnly,
    },
    Row {
        op: "signIn",
        case: "practice A's provider, right password",
        document: "mutation($i: SignInInput!) { signIn(input: $i) { token provider { email } } }",
        vars: |f| json!({ "i": { "email": f.provider_email, "password": portal_tests::PASSWORD } }),
        needs: BASIC,
        expect: PUBLIC,
        proof: Proof::SignedInAsProvider,
    },
    Row {
        op: "signOut",
        case: "end the caller's session",
        document: "mutation { signOut }",
        vars: no_vars,
        needs: Needs {
            fresh_session: true,
            ..BASIC
        },
        expect: [UNAUTH, Ok, Ok, Ok, UNAUTH, UNAUTH],
        proof: Proof::SessionEnded,
    },
    Row {
        op: "createClient",
        case: "a client without invite",
        document: "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }",
        vars: |f| json!({ "i": { "firstName": "New", "lastName": f.target_last, "email": format!("new.{}", f.target_email), "sendInvite": false } }),
        needs: BASIC,
        expect: PROVIDER_OWN_PRACTICE,
        proof: Proof::CreatedInCallersPractice,
    },
    Row {
        op: "resendWelcomeEmail",
        case: "practice A's client",
        document: "mutation($id: ID!) { resendWelcomeEmail(clientId: $id) { client { id } } }",
        vars: target,
        needs: BASIC,
        expect: PROVIDER_ON_TARGET,
        proof: Proof::None,
    },
    Row {
        op: "updateClientEmail",
        case: "practice A's client",
        document: "mutation($i: UpdateClientEmailInput!) { updateClientEmail(input: $i) { client { id email } } }",
        vars: |f| json!({ "i": { "clientId": f.target_id, "email": format!("moved.{}", f.target_email) } }),
        needs: BASIC,
        expect: PROVIDER_ON_TARGET,
        proof: Proof::None,
    },
    Row {
        op: "setClientPassword",
        case: "practice A's client",
        document: "mutation($i: SetClientPasswordInput!) { setClientPassword(input: $i) { client { id } } }",
        vars: |f| json!({ "i": { "clientId": f.target_id, "password": "quartz meadow falcon tide 77" } }),
        needs: BASIC,
        expect: PROVIDER_ON_TARGET,
        proof: Proof::None,
    },
    Row {
        op: "completeAccountLink",
        case: "a live invite link, strong password",
        document: "mutation($i: CompleteAccountLinkInput!) { completeAccountLink(input: $i) { token client { id } } }",
        vars: |f| json!({ "i": { "token": f.link_token(), "password": portal_tests::mail::CLIENT_PASSWORD } }),
        needs: Needs {
            link: true,
            ..BASIC
        },
        expect: PUBLIC,
        proof: Proof::SignedInAsLinkClient,
    },
    Row {
        op: "requestPasswordReset",
        case: "practice A's client's address",
        document: "mutation($e: String!) { requestPasswordReset(email: $e) }",
        vars: |f| json!({ "e": f.target_email }),
        needs: BASIC,
        expect: PUBLIC,
        proof: Proof::None,
    },
    Row {
        op: "clientSignIn",
        case: "the client fixture, right password",
        document: "mutation($i: SignInInput!) { clientSignIn(input: $i) { token client { id } } }",
        vars: |f| json!({ "i": { "email": f.client_email, "password": portal_tests::mail::CLIENT_PASSWORD } }),
        needs: BASIC,
        expect: PUBLIC,
        proof: Proof::SignedInAsClient,
    },
    Row {
        op: "changePassword",
        case: "the caller's own password",
        document: "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { client { id } } }",
        vars: |_| json!({ "i": { "currentPassword": portal_tests::mail::CLIENT_PASSWORD, "newPassword": "harbor pencil glacier moth 19" } }),
        needs: Needs {
            fresh_session: true,
            ..BASIC
        },
        expect: CLIENT_ONLY,
        proof: Proof::None,
    },
    Row {
        op: "createIntakeForm",
        case: "a form for the caller's practice",
        document: "mutation($i: CreateIntakeFormInput!) { createIntakeForm(input: $i) { form { id } } }",
        vars: |f| json!({ "i": { "title": format!("Form {}", f.target_last) } }),
        needs: BASIC,
        expect: PROVIDER_OWN_PRACTICE,
        proof: Proof::None,
    },
    Row {
        op: "assignIntakeForm",
        case: "practice A's form to practice A's client",
        document: "mutation($i: AssignIntakeFormInput!) { assignIntakeForm(input: $i) { assignment { id } } }",
        vars: |f| json!({ "i": { "clientId": f.target_id, "formId": f.form_a } }),
        needs: BASIC,
        expect: PROVIDER_ON_TARGET,
        proof: Proof::None,
    },
    Row {
        op: "assignIntakeForm",
        case: "practice B's form to practice A's client",
        document: "mutation($i: AssignIntakeFormInput!) { assignIntakeForm(input: $i) { assignment { id } } }",
        vars: |f| json!({ "i": { "clientId": f.target_id, "formId": f.form_b } }),
        needs: BASIC,
        expect: [UNAUTH, FORBID, MISSING, MISSING, UNAUTH, UNAUTH],
        proof: Proof::None,
    },
    Row {
        op: "completeIntakeForm",
        case: "the client's own form",
        document: "mutation($i: CompleteIntakeFormInput!) { completeIntakeForm(input: $i) { assignment { id completedAt } } }",
        vars: |f| json!({ "i": { "assignmentId": f.own_assignment, "answers": { "q1": "yes" } } }),
        needs: Needs {
            own_assignment: true,
            ..BASIC
        },
        expect: CLIENT_ONLY,
        proof: Proof::None,
    },
    Row {
        op: "completeIntakeForm",
        case: "another client's form",
        document: "mutation($i: CompleteIntakeFormInput!) { completeIntakeForm(input: $i) { assignment { id completedAt } } }",
        vars: |f| json!({ "i": { "assignmentId": f.target_assignment, "answers": { "q1": "yes" } } }),
        needs: Needs {
            target_assignment: true,
            ..BASIC
        },
        expect: [UNAUTH, MISSING, FORBID, FORBID, UNAUTH, UNAUTH],
        proof: Proof::None,
    },
    Row {
        op: "sendMessage",
        case: "to practice A's client",
        document: "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }",
        vars: |f| json!({ "i": { "clientId": f.target_id, "body": "Your results are in." } }),
        needs: BASIC,
        expect: PROVIDER_ON_TARGET,
        proof: Proof::None,
    },
];
