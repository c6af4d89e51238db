//! The people and things the matrix acts on: practice A (provider, client, forms)
//! and practice B (provider, form), plus the fresh objects each cell gets.
use super::table::{Needs, Viewer};
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{PASSWORD, TestApp};
use serde_json::{Value, json};

/// Practice A, practice B and the sessions each viewer uses.
pub struct World {
    pub app: TestApp,
    pub org_a: uuid::Uuid,
    pub org_b: uuid::Uuid,
    pub provider_a_email: String,
    pub provider_b_email: String,
    /// Practice A's session for building fixtures (renewed after the clock jump).
    pub builder: String,
    pub same: String,
    pub other: String,
    pub client: String,
    pub client_id: String,
    pub client_email: String,
    /// Signed-out sessions: practice A's provider's and the client's.
    pub revoked: [String; 2],
    /// Sessions that expire when the clock moves past their lifetime.
    pub expired: [String; 2],
    pub form_a: String,
    pub form_b: String,
    serial: u32,
}

/// What one cell acts on: a fresh client of practice A ("the target") and whatever
/// the row needs besides.
pub struct Fixture {
    pub target_id: String,
    pub target_email: String,
    /// Unique to this cell, so searches and names never collide.
    pub target_last: String,
    pub provider_email: String,
    pub client_id: String,
    pub client_email: String,
    pub form_a: String,
    pub form_b: String,
    /// (client id, token) of a live invite link.
    pub link: Option<(String, String)>,
    pub own_assignment: Option<String>,
    pub target_assignment: Option<String>,
}

impl Fixture {
    /// The link token; rows that use it declare `Needs::link`.
    pub fn link_token(&self) -> &str {
        self.link.as_ref().map(|(_, t)| t.as_str()).unwrap_or("")
    }
}

fn data<'a>(body: &'a Value, path: &[&str]) -> &'a Value {
    let mut at = &body["data"];
    for key in path {
        at = &at[*key];
    }
    assert!(!at.is_null(), "fixture step failed at {path:?}: {body}");
    at
}

fn text(body: &Value, path: &[&str]) -> String {
    data(body, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string: {body}"))
        .to_owned()
}

impl World {
    /// Builds both practices, the activated client and the stale sessions.
    pub async fn build(app: TestApp) -> World {
        let a = app.signed_in_provider("Practice A").await;
        let b = app.signed_in_provider("Practice B").await;
        let mut world = World {
            org_a: a.organization_id,
            org_b: b.organization_id,
            builder: a.token.clone(),
            same: String::new(),
            other: b.token.clone(),
            client: String::new(),
            client_id: String::new(),
            client_email: "casey.client@example.com".to_owned(),
            revoked: Default::default(),
            expired: Default::default(),
            form_a: String::new(),
            form_b: String::new(),
            provider_a_email: a.email,
            provider_b_email: b.email,
            serial: 0,
            app,
        };
        world.same = world
            .provider_session(&world.provider_a_email.clone())
            .await;
        world.form_a = world.form(&world.builder.clone(), "Practice A form").await;
        world.form_b = world.form(&world.other.clone(), "Practice B form").await;
        let email = world.client_email.clone();
        world.client_id = world.activate(&email).await;
        world.client = world.client_session(&email).await;
        let revoked = [
            world
                .provider_session(&world.provider_a_email.clone())
                .await,
            world.client_session(&email).await,
        ];
        for token in &revoked {
            let out = world
                .app
                .graphql("mutation { signOut }", json!({}), Some(token))
                .await;
            assert_eq!(out["data"]["signOut"], true, "{out}");
        }
        world.revoked = revoked;
        world.expired = [
            world
                .provider_session(&world.provider_a_email.clone())
                .await,
            world.client_session(&email).await,
        ];
        for token in &world.expired {
            assert!(world.is_alive(token).await, "works until the clock moves");
        }
        world
    }

    /// Whether `token` still identifies someone.
    pub async fn is_alive(&self, token: &str) -> bool {
        let me = self
            .app
            .graphql("{ me { __typename } }", json!({}), Some(token))
            .await;
        !me["data"]["me"].is_null()
    }

    /// A new session of the provider with `email`.
    pub async fn provider_session(&self, email: &str) -> String {
        text(
            &self.app.sign_in(email, PASSWORD).await,
            &["signIn", "token"],
        )
    }

    /// A new session of the client with `email`, through `clientSignIn`.
    pub async fn client_session(&self, email: &str) -> String {
        let body = self.app.client_sign_in(email, CLIENT_PASSWORD).await;
        text(&body, &["clientSignIn", "token"])
    }

    /// Invites a practice-A client and sets their password through the emailed link.
    async fn activate(&self, email: &str) -> String {
        let (id, link) = self.app.invited(&self.builder, "Casey", email).await;
        let done = self.app.complete_link(&link, CLIENT_PASSWORD).await;
        data(&done, &["completeAccountLink", "token"]);
        id
    }

    async fn form(&self, token: &str, title: &str) -> String {
        let body = self
            .app
            .graphql(
                "mutation($i: CreateIntakeFormInput!) { createIntakeForm(input: $i) { form { id } } }",
                json!({ "i": { "title": title } }),
                Some(token),
            )
            .await;
        text(&body, &["createIntakeForm", "form", "id"])
    }

    async fn assign(&self, client_id: &str) -> String {
        let body = self
            .app
            .graphql(
                "mutation($i: AssignIntakeFormInput!) { assignIntakeForm(input: $i) { assignment { id } } }",
                json!({ "i": { "clientId": client_id, "formId": self.form_a } }),
                Some(&self.builder),
            )
            .await;
        text(&body, &["assignIntakeForm", "assignment", "id"])
    }

    fn next_serial(&mut self) -> u32 {
        self.serial += 1;
        self.serial
    }

    /// Builds what one cell acts on; everything is new except the two practices' forms.
    pub async fn fixture(&mut self, needs: Needs) -> Fixture {
        let n = self.next_serial();
        let last = format!("Target{n:04}x");
        let email = format!("target{n}@example.com");
        let created = self
            .app
            .graphql(
                "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }",
                json!({ "i": { "firstName": "Terry", "lastName": last, "email": email, "sendInvite": false } }),
                Some(&self.builder),
            )
            .await;
        let target_id = text(&created, &["createClient", "client", "id"]);
        let link = if needs.link {
            let email = format!("link{n}@example.com");
            Some(self.app.invited(&self.builder, "Lee", &email).await)
        } else {
            None
        };
        let own_assignment = if needs.own_assignment {
            // A new form each time, so the assignment is new too.
            let form = self.form(&self.builder.clone(), &format!("Own {n}")).await;
            let body = self
                .app
                .graphql(
                    "mutation($i: AssignIntakeFormInput!) { assignIntakeForm(input: $i) { assignment { id } } }",
                    json!({ "i": { "clientId": self.client_id, "formId": form } }),
                    Some(&self.builder),
                )
                .await;
            Some(text(&body, &["assignIntakeForm", "assignment", "id"]))
        } else {
            None
        };
        let target_assignment = if needs.target_assignment {
            Some(self.assign(&target_id).await)
        } else {
            None
        };
        Fixture {
            target_id,
            target_email: email,
            target_last: last,
            provider_email: self.provider_a_email.clone(),
            client_id: self.client_id.clone(),
            client_email: self.client_email.clone(),
            form_a: self.form_a.clone(),
            form_b: self.form_b.clone(),
            link,
            own_assignment,
            target_assignment,
        }
    }

    /// The tokens a viewer sends (none for anonymous; two for stale sessions). With
    /// `fresh`, a session of its own: a new sign-in, or a newly activated client.
    pub async fn tokens(&mut self, viewer: Viewer, fresh: bool) -> Vec<Option<String>> {
        let one = |t: &String| vec![Some(t.clone())];
        match (viewer, fresh) {
            (Viewer::Anonymous, _) => vec![None],
            (Viewer::Revoked, _) => self.revoked.iter().cloned().map(Some).collect(),
            (Viewer::Expired, _) => self.expired.iter().cloned().map(Some).collect(),
            (Viewer::Client, false) => one(&self.client),
            (Viewer::OtherProvider, false) => one(&self.other),
            (Viewer::SameProvider, false) => one(&self.same),
            (Viewer::Client, true) => {
                let email = format!("fresh{}@example.com", self.next_serial());
                self.activate(&email).await;
                vec![Some(self.client_session(&email).await)]
            }
            (Viewer::OtherProvider, true) => {
                vec![Some(self.provider_session(&self.provider_b_email).await)]
            }
            (Viewer::SameProvider, true) => {
                vec![Some(self.provider_session(&self.provider_a_email).await)]
            }
        }
    }

    /// Moves the app clock past every session's lifetime and signs the builder in again.
    pub async fn expire_sessions(&mut self) {
        let ttl = chrono::Duration::from_std(self.app.state.settings.session_ttl)
            .expect("session lifetime fits");
        self.app.clock.advance(ttl + chrono::Duration::minutes(1));
        for token in &self.expired {
            assert!(!self.is_alive(token).await, "expired by the clock");
        }
        self.builder = self.provider_session(&self.provider_a_email.clone()).await;
    }
}
