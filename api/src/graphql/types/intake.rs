//! Intake forms, their assignments, and messages.
use async_graphql::{ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{intake_assignment, intake_form, message};

/// A form the practice asks clients to fill in.
pub struct IntakeForm(pub intake_form::Model);

#[Object]
impl IntakeForm {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn questions(&self) -> Vec<String> {
        serde_json::from_str(&self.0.questions).unwrap_or_default()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A form assigned to a client.
pub struct IntakeAssignment(pub intake_assignment::Model, pub intake_form::Model);

impl From<(intake_assignment::Model, intake_form::Model)> for IntakeAssignment {
    fn from((a, f): (intake_assignment::Model, intake_form::Model)) -> Self {
        Self(a, f)
    }
}

#[Object]
impl IntakeAssignment {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn form(&self) -> IntakeForm {
        IntakeForm(self.1.clone())
    }
    async fn assigned_at(&self) -> DateTime<Utc> {
        self.0.assigned_at
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// The client's answers, once completed.
    async fn answers(&self) -> Option<Json<serde_json::Value>> {
        self.0
            .answers
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .map(Json)
    }
}

/// Define a form.
#[derive(InputObject)]
pub struct CreateIntakeFormInput {
    pub title: String,
    pub description: Option<String>,
    #[graphql(default)]
    pub questions: Vec<String>,
}

#[derive(SimpleObject)]
pub struct CreateIntakeFormPayload {
    pub form: IntakeForm,
}

/// Ask a client to fill in a form.
#[derive(InputObject)]
pub struct AssignIntakeFormInput {
    pub client_id: ID,
    pub form_id: ID,
}

#[derive(SimpleObject)]
pub struct AssignIntakeFormPayload {
    pub assignment: IntakeAssignment,
}

/// The signed-in client's answers to one of their forms.
#[derive(InputObject)]
pub struct CompleteIntakeFormInput {
    pub assignment_id: ID,
    pub answers: Json<serde_json::Value>,
}

#[derive(SimpleObject)]
pub struct CompleteIntakeFormPayload {
    pub assignment: IntakeAssignment,
}

/// A message from the practice to a client.
pub struct Message(pub message::Model);

#[Object]
impl Message {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Send a message; the client is emailed only that a message waits.
#[derive(InputObject)]
pub struct SendMessageInput {
    pub client_id: ID,
    pub body: String,
}

#[derive(SimpleObject)]
pub struct SendMessagePayload {
    pub message: Message,
    /// The notification email; null when the client has no email address.
    pub notification: Option<super::EmailDelivery>,
}
