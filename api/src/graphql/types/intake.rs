//! Intake forms, their assignments, and messages.
use super::datetime::DateTime;
use async_graphql::{ID, InputObject, Json, Object, SimpleObject};
use entity::{intake_assignment, intake_form, message};

/// A form the practice asks clients to fill in.
pub struct IntakeForm(pub intake_form::Model);

/// A form the practice asks clients to fill in.
#[Object]
impl IntakeForm {
    /// The form's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The form's title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What the form is about, if given.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The questions, in order.
    async fn questions(&self) -> Vec<String> {
        serde_json::from_str(&self.0.questions).unwrap_or_default()
    }
    /// When the form was defined.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// A form assigned to a client.
pub struct IntakeAssignment(pub intake_assignment::Model, pub intake_form::Model);

impl From<(intake_assignment::Model, intake_form::Model)> for IntakeAssignment {
    fn from((a, f): (intake_assignment::Model, intake_form::Model)) -> Self {
        Self(a, f)
    }
}

/// A form assigned to a client, pending or completed.
#[Object]
impl IntakeAssignment {
    /// The assignment's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The form to fill in.
    async fn form(&self) -> IntakeForm {
        IntakeForm(self.1.clone())
    }
    /// When the form was assigned.
    async fn assigned_at(&self) -> DateTime {
        self.0.assigned_at.into()
    }
    /// When the client completed it; null while pending.
    async fn completed_at(&self) -> Option<DateTime> {
        self.0.completed_at.map(DateTime)
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
    /// The form's title (at most 200 characters).
    pub title: String,
    /// What the form is about (at most 2000 characters).
    pub description: Option<String>,
    /// The questions, in order (each at most 500 characters).
    #[graphql(default)]
    pub questions: Vec<String>,
}

/// The defined form.
#[derive(SimpleObject)]
pub struct CreateIntakeFormPayload {
    /// The new form.
    pub form: IntakeForm,
}

/// Ask a client to fill in a form.
#[derive(InputObject)]
pub struct AssignIntakeFormInput {
    /// The client to ask.
    pub client_id: ID,
    /// The form to fill in.
    pub form_id: ID,
}

/// The form assigned.
#[derive(SimpleObject)]
pub struct AssignIntakeFormPayload {
    /// The assignment (the existing one if the form was already assigned).
    pub assignment: IntakeAssignment,
}

/// The signed-in client's answers to one of their forms.
#[derive(InputObject)]
pub struct CompleteIntakeFormInput {
    /// The assignment being completed.
    pub assignment_id: ID,
    /// The answers, as a JSON object.
    pub answers: Json<serde_json::Value>,
}

/// The form completed.
#[derive(SimpleObject)]
pub struct CompleteIntakeFormPayload {
    /// The assignment, now completed.
    pub assignment: IntakeAssignment,
}

/// A message from the practice to a client.
pub struct Message(pub message::Model);

/// A message from the practice to a client.
#[Object]
impl Message {
    /// The message's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The message text (shown only in the portal, never emailed).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When the message was sent.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// Send a message; the client is emailed only that a message waits.
#[derive(InputObject)]
pub struct SendMessageInput {
    /// The client to write to.
    pub client_id: ID,
    /// The message text (at most 10,000 characters).
    pub body: String,
}

/// The sent message.
#[derive(SimpleObject)]
pub struct SendMessagePayload {
    /// The message as stored.
    pub message: Message,
    /// The notification email; null when the client has no email address.
    pub notification: Option<super::EmailDelivery>,
}
