//! What the signed-in client's pages show, read for one render.
use super::render::FieldErrors;
use crate::error::AppError;
use crate::service::sessions::ClientActor;
use crate::service::{clients, intake, messages, providers};
use crate::web::WebState;
use chrono::{DateTime, Utc};
use minijinja::{Value, context};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Messages shown on the home page, newest first.
const MESSAGES_SHOWN: u64 = 50;

/// The field id (and name) of question `index` of an assignment's form.
pub(super) fn question_field(assignment: Uuid, index: usize) -> String {
    format!("q{index}-{assignment}")
}

/// A form's questions, as stored (a JSON list of strings).
pub(super) fn questions(form: &entity::intake_form::Model) -> Vec<String> {
    serde_json::from_str(&form.questions).unwrap_or_default()
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%-d %B %Y").to_string()
}

/// What a render adds to the page beyond the client's data.
#[derive(Default)]
pub(super) struct Extras {
    pub csrf: String,
    pub notice: Option<&'static str>,
    pub errors: FieldErrors,
    /// Answers typed into a form that was refused, by field.
    pub drafts: BTreeMap<String, String>,
}

/// The template and context for the client's home, or the change-password page
/// while a provider-set password must be changed.
pub(super) async fn home(
    web: &WebState,
    actor: &ClientActor,
    extras: Extras,
) -> Result<(&'static str, Value), AppError> {
    let db = &web.app.db;
    let client = clients::reload(db, actor.client_id).await?;
    let practice = providers::organization(db, client.organization_id)
        .await?
        .name;
    let first_name = client.first_name;
    let Extras {
        csrf,
        notice,
        errors,
        drafts,
    } = extras;
    let base = context! {
        practice, first_name, csrf, notice, drafts, signed_in => true, ..errors.context()
    };
    if client.must_change_password {
        // The gate: nothing but the password form until it is changed.
        return Ok(("password_required.html", base));
    }
    let assigned = intake::assigned(db, actor.client_id, false).await?;
    let (done, open): (Vec<_>, Vec<_>) = assigned
        .into_iter()
        .partition(|(a, _)| a.completed_at.is_some());
    let pending: Vec<Value> = open
        .iter()
        .map(|(a, f)| {
            let questions: Vec<Value> = questions(f)
                .into_iter()
                .enumerate()
                .map(|(i, text)| context! { field => question_field(a.id, i), text })
                .collect();
            let description = f.description.clone();
            context! { id => a.id.to_string(), title => f.title.clone(), description, questions }
        })
        .collect();
    let completed: Vec<Value> = done
        .iter()
        .map(|(a, f)| context! { title => f.title.clone(), at => a.completed_at.map(day) })
        .collect();
    let messages: Vec<Value> = messages::for_client(db, actor.client_id, MESSAGES_SHOWN)
        .await?
        .into_iter()
        .map(|m| context! { body => m.body, at => day(m.created_at) })
        .collect();
    Ok((
        "home.html",
        context! { pending, completed, messages, ..base },
    ))
}
