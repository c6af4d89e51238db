//! `GET /account`, the signed-in client's home, and its forms: `POST
//! /account/intake` submits an intake form, `POST /account/password` changes the
//! password. Signed out, each leads to sign-in; while a provider-set password must
//! be changed, only the password form is shown and accepted.
use super::render::{self, FieldErrors};
use super::session::{self, Visitor};
use super::view::{self, Extras};
use super::{csrf, error_page, refused, remote_ip, secure, see_other};
use crate::domain::text::MAX_PASSWORD_BYTES;
use crate::error::AppError;
use crate::service::client_accounts;
use crate::service::intake;
use crate::service::sessions::ClientActor;
use crate::web::WebState;
use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Deserialize)]
pub(super) struct HomeQuery {
    /// What was just done, to confirm it: `form` or `password`.
    #[serde(default)]
    done: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
    #[serde(default)]
    csrf: String,
}

/// The signed-in client, or the response that sends the visitor to sign in.
async fn signed_in(req: &Request, web: &WebState) -> Result<ClientActor, Response> {
    match session::visitor(req, web).await {
        Ok(Visitor::Client(actor)) => Ok(actor),
        Ok(Visitor::Anonymous) => Err(see_other("/account/sign-in")),
        Ok(Visitor::Stale) => Err(see_other("/account/sign-in")
            .with_header("set-cookie", session::clear(web))
            .into_response()),
        Err(e) => Err(error_page(e)),
    }
}

/// Renders the home (or the gate's password page) with a fresh CSRF token.
async fn show(web: &WebState, actor: &ClientActor, status: StatusCode, extras: Extras) -> Response {
    let csrf = csrf::new_token();
    let extras = Extras {
        csrf: csrf.clone(),
        ..extras
    };
    match view::home(web, actor, extras).await {
        Ok((template, ctx)) => render::page(status, template, ctx)
            .with_header("set-cookie", csrf::cookie(&csrf, secure(web)))
            .into_response(),
        Err(e) => error_page(e),
    }
}

#[handler]
pub(super) async fn page(
    req: &Request,
    Query(q): Query<HomeQuery>,
    Data(web): Data<&WebState>,
) -> Response {
    let actor = match signed_in(req, web).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    let notice = match q.done.as_deref() {
        Some("form") => Some("Thank you: your form was sent to the practice."),
        Some("password") => Some("Your password was changed."),
        _ => None,
    };
    let extras = Extras {
        notice,
        ..Extras::default()
    };
    show(web, &actor, StatusCode::OK, extras).await
}

#[handler]
pub(super) async fn submit_form(
    req: &Request,
    Form(mut fields): Form<HashMap<String, String>>,
    Data(web): Data<&WebState>,
) -> Response {
    let submitted = fields.remove("csrf").unwrap_or_default();
    if !csrf::verify(req, &submitted) {
        return refused();
    }
    let actor = match signed_in(req, web).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    if actor.must_change_password {
        return see_other("/account");
    }
    let id = fields.remove("assignment").unwrap_or_default();
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(AppError::NotFound("Intake form"));
    };
    let assigned = match intake::assigned(&web.app.db, actor.client_id, false).await {
        Ok(assigned) => assigned,
        Err(e) => return error_page(e),
    };
    let Some((assignment, form)) = assigned.into_iter().find(|(a, _)| a.id == id) else {
        return error_page(AppError::NotFound("Intake form"));
    };
    if assignment.completed_at.is_some() {
        // Sent twice (a double click, or the back button): the first one stands.
        return see_other("/account?done=form");
    }
    let answers = answers_by_question(id, &form, &fields);
    let ip = remote_ip(req);
    match intake::complete(&web.app, &actor, id, answers, ip).await {
        Ok(_) => see_other("/account?done=form"),
        Err(AppError::InvalidInput(e)) => {
            let extras = Extras {
                errors: FieldErrors::one(view::question_field(id, 0), e.message),
                drafts: fields.into_iter().collect(),
                ..Extras::default()
            };
            show(web, &actor, StatusCode::UNPROCESSABLE_ENTITY, extras).await
        }
        Err(e) => error_page(e),
    }
}

/// The answers keyed by question, as a provider reads them (a repeated question
/// gets its number, so no answer is lost).
fn answers_by_question(
    assignment: Uuid,
    form: &entity::intake_form::Model,
    fields: &HashMap<String, String>,
) -> serde_json::Value {
    let mut answers = serde_json::Map::new();
    for (i, question) in view::questions(form).into_iter().enumerate() {
        let answer = fields
            .get(&view::question_field(assignment, i))
            .map(|a| a.trim().to_owned())
            .unwrap_or_default();
        let mut key = question.clone();
        for n in 2.. {
            if !answers.contains_key(&key) {
                break;
            }
            key = format!("{question} ({n})");
        }
        answers.insert(key, answer.into());
    }
    serde_json::Value::Object(answers)
}

/// What is wrong with the password form before the service is asked.
fn check(form: &PasswordForm) -> Option<FieldErrors> {
    let one = |field, message| Some(FieldErrors::one(field, message));
    if form.current_password.is_empty() || form.current_password.len() > MAX_PASSWORD_BYTES {
        return one("current_password", "Enter your current password.");
    }
    if form.new_password != form.confirm_password {
        return one("confirm_password", "The two new passwords differ.");
    }
    None
}

#[handler]
pub(super) async fn change_password(
    req: &Request,
    Form(form): Form<PasswordForm>,
    Data(web): Data<&WebState>,
) -> Response {
    if !csrf::verify(req, &form.csrf) {
        return refused();
    }
    let actor = match signed_in(req, web).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    let refuse = async |errors| {
        let extras = Extras {
            errors,
            ..Extras::default()
        };
        show(web, &actor, StatusCode::UNPROCESSABLE_ENTITY, extras).await
    };
    if let Some(errors) = check(&form) {
        return refuse(errors).await;
    }
    let (current, new) = (form.current_password.into(), form.new_password.into());
    let ip = remote_ip(req);
    match client_accounts::change_password(&web.app, &actor, current, new, ip).await {
        Ok(_) => see_other("/account?done=password"),
        Err(AppError::InvalidCredentials) => {
            let message = "That is not your current password.";
            refuse(FieldErrors::one("current_password", message)).await
        }
        Err(AppError::WeakPassword(w)) => {
            let mut message = w.message;
            for tip in w.suggestions {
                message = format!("{message} {tip}");
            }
            refuse(FieldErrors::one("new_password", message)).await
        }
        Err(e) => error_page(e),
    }
}
