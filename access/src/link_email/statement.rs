//! The text of [`super::in_one_statement`] and [`super::for_provider_session`]: one
//! template, with or without the session look-up as a `WITH` clause of its own.
use entity::account_link::RevokedReason;
use entity::email_delivery::DeliveryStatus;
use entity::{client, email_delivery};
use sea_orm::{ActiveEnum, IdenStatic, Iterable};
use std::sync::LazyLock;

/// Column prefixes of the answer.
pub(super) const CLIENT: &str = "c_";
pub(super) const DELIVERY: &str = "d_";

/// `j***@example.com` as [`crate::outbox::masked`] writes it, in SQL (a test holds them equal).
pub(super) const MASKED_EMAIL: &str = "CASE WHEN strpos(c.email, '@') = 0 THEN '***' \
     ELSE left(split_part(c.email, '@', 1), 1) || '***@' || substr(c.email, strpos(c.email, '@') + 1) END";

/// Who the statement acts for.
enum Who {
    /// The practice `$2`, the actor `$16`.
    Known,
    /// The provider whose live session's token hash is `$2`: a `WITH` clause of its
    /// own, which the client's `UPDATE` and the audit entry read.
    Session,
}

pub(super) static KNOWN: LazyLock<String> = LazyLock::new(|| statement(Who::Known));
pub(super) static FOR_SESSION: LazyLock<String> = LazyLock::new(|| statement(Who::Session));

/// The statement; the constants in its text are the entities' own stored values.
/// `status = 'queued'` is a constant so that the partial index on queued link
/// emails applies (see [`DeliveryStatus::in_sql`]). Live links end in a function of
/// their own (migration 18), joined into the answer so that it runs: its query takes
/// its snapshot once the client's row is held, so it also ends a link the worker
/// committed while the statement waited for that row, which a `WITH` clause (seeing
/// only what was committed when the statement began) left live.
fn statement(who: Who) -> String {
    let queued = DeliveryStatus::Queued.to_value();
    let superseded = DeliveryStatus::Superseded.to_value();
    let revoked = RevokedReason::Superseded.to_value();
    let columns = |table: &str, prefix: &str, names: Vec<&'static str>| {
        names
            .into_iter()
            .map(|n| format!("{table}.\"{n}\" AS \"{prefix}{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let answer = [
        columns(
            "c",
            CLIENT,
            client::Column::iter().map(|c| c.as_str()).collect(),
        ),
        columns(
            "d",
            DELIVERY,
            email_delivery::Column::iter().map(|c| c.as_str()).collect(),
        ),
    ]
    .join(", ");
    let (session, organization, actor, answer) = match who {
        Who::Known => (
            String::new(),
            "$2",
            "$16",
            format!("{answer} FROM c CROSS JOIN d CROSS JOIN links"),
        ),
        Who::Session => (
            "who AS (\
                SELECT \"session\".id AS session_id, provider.id AS provider_id, \
                    provider.organization_id FROM \"session\" \
                JOIN provider ON provider.id = \"session\".provider_id \
                WHERE \"session\".token_hash = $2 AND \"session\".revoked_at IS NULL \
                    AND \"session\".expires_at > $3), "
                .to_owned(),
            "(SELECT organization_id FROM who)",
            "(SELECT provider_id FROM who)",
            format!(
                "{answer}, who.session_id AS w_session_id, who.provider_id AS w_provider_id \
                 FROM c CROSS JOIN d CROSS JOIN links CROSS JOIN who"
            ),
        ),
    };
    format!(
        "WITH {session}c AS (\
            UPDATE client SET link_generation = link_generation + 1, updated_at = $3 \
            WHERE id = $1 AND organization_id = {organization} AND email IS NOT NULL \
            RETURNING *), \
         links AS (\
            SELECT portal_end_live_links((SELECT id FROM c), $3, '{revoked}') AS ended), \
         queued AS (\
            UPDATE email_delivery SET status = '{superseded}', updated_at = $3 \
            WHERE client_id = (SELECT id FROM c) AND link_kind IS NOT NULL AND status = '{queued}'), \
         d AS (\
            INSERT INTO email_delivery (id, client_id, kind, to_address, link_kind, \
                link_generation, status, attempts, next_attempt_at, created_at, updated_at, \
                counted_in) \
            SELECT $4, c.id, CASE WHEN c.password_hash IS NULL THEN $5 ELSE $6 END, c.email, \
                CASE WHEN c.password_hash IS NULL THEN $7 ELSE $8 END, c.link_generation, \
                '{queued}', 0, $3, $3, $3, $9 FROM c RETURNING *), \
         audit AS (\
            INSERT INTO audit_event (id, organization_id, actor_kind, actor_id, action, \
                client_id, detail, ip, created_at) \
            SELECT $10, c.organization_id, $11, {actor}, \
                CASE WHEN c.password_hash IS NULL THEN $13 ELSE $14 END, c.id, \
                'to ' || {MASKED_EMAIL}, $15, $12 FROM c) \
         SELECT {answer}"
    )
}
