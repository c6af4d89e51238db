//! Intake forms and messages: providers define, assign and write; clients complete.
use super::emails::own_client;
use crate::domain::InvalidInput;
use crate::domain::text::{MAX_DESCRIPTION_CHARS, MAX_QUESTION_CHARS, bounded};
use crate::error::AppError;
use crate::graphql::context::{client, ip, provider, state};
use crate::graphql::error::IntoGraphql;
use crate::graphql::query::parse_id;
use crate::graphql::types::{
    AssignIntakeFormInput, AssignIntakeFormPayload, CompleteIntakeFormInput,
    CompleteIntakeFormPayload, CreateIntakeFormInput, CreateIntakeFormPayload, EmailDelivery,
    IntakeAssignment, IntakeForm, Message, SendMessageInput, SendMessagePayload,
};
use crate::service::intake::{self, NewForm};
use crate::service::messages;
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct IntakeMutation;

/// Bounds the form's free text the service does not bound itself (it checks the
/// title and the number of questions).
fn check_form_text(input: &CreateIntakeFormInput) -> Result<(), InvalidInput> {
    if let Some(description) = &input.description {
        bounded(description.trim(), "description", MAX_DESCRIPTION_CHARS)?;
    }
    for question in &input.questions {
        bounded(question.trim(), "questions", MAX_QUESTION_CHARS)?;
    }
    Ok(())
}

#[Object]
impl IntakeMutation {
    /// Defines an intake form for the practice.
    async fn create_intake_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's title, description and questions.")]
        input: CreateIntakeFormInput,
    ) -> async_graphql::Result<CreateIntakeFormPayload> {
        let actor = provider(ctx).await?;
        check_form_text(&input).map_err(AppError::from).gql()?;
        let new = NewForm {
            title: input.title,
            description: input.description,
            questions: input.questions,
        };
        let form = intake::create_form(state(ctx)?, &actor, new).await.gql()?;
        Ok(CreateIntakeFormPayload {
            form: IntakeForm(form),
        })
    }

    /// Asks a client to fill in a form (assigning it again changes nothing).
    async fn assign_intake_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client and the form.")] input: AssignIntakeFormInput,
    ) -> async_graphql::Result<AssignIntakeFormPayload> {
        let actor = provider(ctx).await?;
        let client = own_client(ctx, &actor, &input.client_id, "clientId").await?;
        let form_id = parse_id(&input.form_id, "formId").gql()?;
        let assigned = intake::assign(state(ctx)?, &actor, &client, form_id, ip(ctx))
            .await
            .gql()?;
        Ok(AssignIntakeFormPayload {
            assignment: assigned.into(),
        })
    }

    /// The signed-in client submits answers to one of their forms.
    async fn complete_intake_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assignment and the answers.")] input: CompleteIntakeFormInput,
    ) -> async_graphql::Result<CompleteIntakeFormPayload> {
        let actor = client(ctx, false).await?;
        let id = parse_id(&input.assignment_id, "assignmentId").gql()?;
        let done = intake::complete(state(ctx)?, &actor, id, input.answers.0, ip(ctx))
            .await
            .gql()?;
        Ok(CompleteIntakeFormPayload {
            assignment: IntakeAssignment::from(done),
        })
    }

    /// Sends a message to a client; the email says only that a message waits (R9).
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client and the message text.")] input: SendMessageInput,
    ) -> async_graphql::Result<SendMessagePayload> {
        let actor = provider(ctx).await?;
        let client = own_client(ctx, &actor, &input.client_id, "clientId").await?;
        let sent = messages::send(state(ctx)?, &actor, &client, &input.body, ip(ctx))
            .await
            .gql()?;
        Ok(SendMessagePayload {
            message: Message(sent.message),
            notification: sent.notification.map(EmailDelivery),
        })
    }
}
