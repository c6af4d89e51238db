//! GraphQL steps of the email and link stories, as a provider's frontend and a
//! client's browser would send them.
use crate::TestApp;
use serde_json::{Value, json};

/// A password strong enough for zxcvbn, for clients.
pub const CLIENT_PASSWORD: &str = "lantern orbit violet canyon 42";

impl TestApp {
    /// Creates a client with `email` (invite on) and returns its id.
    pub async fn invite_client(&self, token: &str, first: &str, email: &str) -> String {
        let body = self.create_client(token, first, "Doe", Some(email)).await;
        body["data"]["createClient"]["client"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("client created: {body}"))
            .to_owned()
    }

    /// Invites a client and waits for the welcome email: (client id, link token).
    pub async fn invited(&self, token: &str, first: &str, email: &str) -> (String, String) {
        let id = self.invite_client(token, first, email).await;
        let mail = self.smtp().wait_for(email, 1).await;
        (
            id,
            mail[0].token().expect("the welcome email carries a link"),
        )
    }

    /// Invites a client, who activates from the email with [`CLIENT_PASSWORD`]:
    /// returns the client's id and their session token.
    pub async fn signed_in_client(
        &self,
        token: &str,
        first: &str,
        email: &str,
    ) -> (String, String) {
        let (id, invite) = self.invited(token, first, email).await;
        let done = self.complete_link(&invite, CLIENT_PASSWORD).await;
        let session = done["data"]["completeAccountLink"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("the link completes: {done}"))
            .to_owned();
        (id, session)
    }

    /// Runs an operation that must succeed; returns its `data`.
    pub async fn graphql_ok(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let body = self.graphql(query, variables, token).await;
        assert!(body["errors"].is_null(), "{body}");
        body["data"].clone()
    }

    /// Creates an intake form from `input` (`CreateIntakeFormInput`) and assigns it
    /// to the client; returns the form's id.
    pub async fn assign_new_form(&self, token: &str, client_id: &str, input: Value) -> String {
        let created = self
            .graphql_ok(
                "mutation($i: CreateIntakeFormInput!) { createIntakeForm(input: $i) { form { id } } }",
                json!({ "i": input }),
                Some(token),
            )
            .await;
        let form_id = created["createIntakeForm"]["form"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("form created: {created}"))
            .to_owned();
        self.graphql_ok(
            "mutation($i: AssignIntakeFormInput!) { assignIntakeForm(input: $i) { assignment { id } } }",
            json!({ "i": { "clientId": client_id, "formId": form_id } }),
            Some(token),
        )
        .await;
        form_id
    }

    /// `resendWelcomeEmail`, whole response.
    pub async fn resend(&self, token: &str, client_id: &str) -> Value {
        self.graphql(
            "mutation($id: ID!) { resendWelcomeEmail(clientId: $id) { resendsRemaining nextResendAvailableAt delivery { id kind status toAddress } client { id } } }",
            json!({ "id": client_id }),
            Some(token),
        )
        .await
    }

    /// Invites a client and resends their welcome email `times` times, each one
    /// accepted; the client's id.
    pub async fn client_after_resends(
        &self,
        token: &str,
        first_name: &str,
        email: &str,
        times: usize,
    ) -> String {
        let client_id = self.invite_client(token, first_name, email).await;
        for _ in 0..times {
            let body = self.resend(token, &client_id).await;
            assert!(body["errors"].is_null(), "{body}");
        }
        client_id
    }

    /// `accountLink(token)`, the status object.
    pub async fn link_status(&self, link_token: &str) -> Value {
        let body = self
            .graphql(
                "query($t: String!) { accountLink(token: $t) { state kind firstName practiceName expiresAt } }",
                json!({ "t": link_token }),
                None,
            )
            .await;
        body["data"]["accountLink"].clone()
    }

    /// `completeAccountLink`, whole response.
    pub async fn complete_link(&self, link_token: &str, password: &str) -> Value {
        self.graphql(
            "mutation($i: CompleteAccountLinkInput!) { completeAccountLink(input: $i) { token expiresAt client { id firstName email mustChangePassword practiceName } } }",
            json!({ "i": { "token": link_token, "password": password } }),
            None,
        )
        .await
    }

    /// `clientSignIn`, whole response.
    pub async fn client_sign_in(&self, email: &str, password: &str) -> Value {
        self.graphql(
            "mutation($e: String!, $p: String!) { clientSignIn(input: {email: $e, password: $p}) { token mustChangePassword client { id email } } }",
            json!({ "e": email, "p": password }),
            None,
        )
        .await
    }

    /// The client as a provider sees it, with deliveries, quota and active link.
    pub async fn client_view(&self, token: &str, client_id: &str) -> Value {
        let body = self
            .graphql(
                "query($id: ID!) { client(id: $id) { id email status mustChangePassword resendQuota { limit remaining windowSeconds nextAvailableAt } activeLink { kind createdAt expiresAt } emailDeliveries { kind toAddress status attempts lastError createdAt sentAt } } }",
                json!({ "id": client_id }),
                Some(token),
            )
            .await;
        body["data"]["client"].clone()
    }

    /// Waits until every email of the client has left `QUEUED`/`SENDING`; fails the
    /// test if that takes more than 20 s.
    pub async fn wait_deliveries_settled(&self, token: &str, client_id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let view = self.client_view(token, client_id).await;
            let pending = view["emailDeliveries"]
                .as_array()
                .map(|ds| {
                    ds.iter()
                        .any(|d| d["status"] == "QUEUED" || d["status"] == "SENDING")
                })
                .unwrap_or(true);
            if !pending {
                return view;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the emails of client {client_id} were still queued or sending after 20 s: {view}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl TestApp {
    /// The audit actions recorded for a client, oldest first (read from the database).
    pub async fn audit_actions(&self, client_id: &str) -> Vec<String> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let id = uuid::Uuid::parse_str(client_id).expect("client id");
        entity::audit_event::Entity::find()
            .filter(entity::audit_event::Column::ClientId.eq(id))
            .order_by_asc(entity::audit_event::Column::CreatedAt)
            .all(&self.state.db)
            .await
            .expect("audit events")
            .into_iter()
            .map(|e| e.action.as_str().to_owned())
            .collect()
    }
}
