//! What one claimed email says: its content for its kind, rendered.
use super::Deliverer;
use super::claim::Addressee;
use crate::templates::{self, EmailContent, Recipient, Rendered};
use access::token::LinkToken;
use entity::email_delivery::{self, EmailKind};
use sea_orm::DbErr;

/// What composing an email came to.
pub(super) enum Composed {
    Message(Rendered),
    /// Nothing to say any more (an intake reminder whose forms are all done).
    Stale,
    /// It cannot be sent as it stands; the reason is recorded.
    Unsendable(String),
}

impl Deliverer {
    /// Renders `delivery` for `client`, with its link when it has one.
    pub(super) async fn compose(
        &self,
        delivery: &email_delivery::Model,
        client: &Addressee,
        token: Option<&LinkToken>,
    ) -> Result<Composed, DbErr> {
        let link = token.map(|t| self.link_url(t));
        let portal = self.config.portal_url.as_str();
        let forms = match delivery.kind {
            EmailKind::IntakeReminder => access::intake_forms::assigned(&self.db, client.id, true)
                .await?
                .into_iter()
                .map(|(_, form)| form.title)
                .collect(),
            _ => Vec::new(),
        };
        if delivery.kind == EmailKind::IntakeReminder && forms.is_empty() {
            // Completed since the reminder was queued: nothing to remind of.
            return Ok(Composed::Stale);
        }
        let content = match (delivery.kind, link.as_deref()) {
            (EmailKind::Welcome, Some(link)) => EmailContent::Welcome { link },
            (EmailKind::PasswordReset, Some(link)) => EmailContent::PasswordReset {
                link,
                expires_in: templates::human_duration(self.config.reset_link_ttl),
            },
            (EmailKind::EmailChangedNotice, None) => EmailContent::EmailChangedNotice,
            (EmailKind::MessageNotification, None) => EmailContent::MessageNotification { portal },
            (EmailKind::IntakeReminder, None) => EmailContent::IntakeReminder { portal, forms },
            (kind, link) => {
                return Ok(Composed::Unsendable(format!(
                    "a {kind} email {} a link",
                    if link.is_some() { "with" } else { "without" }
                )));
            }
        };
        let to = Recipient {
            practice: client.practice.as_deref().unwrap_or_default(),
            first_name: &client.first_name,
        };
        Ok(match templates::render(to, &content) {
            Ok(rendered) => Composed::Message(rendered),
            Err(e) => Composed::Unsendable(format!("template: {e}")),
        })
    }
}
