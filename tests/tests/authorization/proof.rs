//! What makes a cell's pass mean something: the answer's shape, the evidence behind
//! an `Ok`, and, for a refused cell, that nothing about the target was written.
use super::table::{Expect, Viewer};
use super::world::{Fixture, World};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

/// Extra evidence an `Ok`/`Null` cell must show, so a pass proves the boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    None,
    /// `me` is the caller itself.
    MeIsCaller,
    /// `client(id)` returned the target.
    IsTarget,
    /// The search finds the target for its practice and nothing for the other.
    ListsTargetToOwnPracticeOnly,
    /// Events of the target for its practice; none for the other.
    TargetEventsToOwnPracticeOnly,
    /// The other practice's trail holds nothing about the target.
    PracticeTrailKeepsTarget,
    /// Each practice sees its own form and not the other's.
    OwnFormsOnly,
    /// The link still reads VALID (reading never consumes it).
    LinkStillValid,
    /// The created client belongs to the caller's practice.
    CreatedInCallersPractice,
    /// The session token used is dead afterwards.
    SessionEnded,
    /// The payload's `client.id` is the link's client.
    SignedInAsLinkClient,
    /// The payload's `client.id` is the signed-in client fixture.
    SignedInAsClient,
    /// The payload's `provider.email` is practice A's provider.
    SignedInAsProvider,
}

/// One request of a cell, answered.
pub struct Cell<'a> {
    pub world: &'a World,
    pub viewer: Viewer,
    pub token: Option<&'a str>,
    pub fixture: &'a Fixture,
    /// `data.<op>` of the answer.
    pub field: &'a Value,
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 300 {
        format!("{}…", &s[..300])
    } else {
        s
    }
}

/// The label a cell's answer gets in the printed matrix.
pub fn label(body: &Value, op: &str) -> String {
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => code.to_owned(),
        None if body["errors"].is_array() => "ERROR".to_owned(),
        None if body["data"][op].is_null() => "null".to_owned(),
        None => "ok".to_owned(),
    }
}

/// Whether the answer is the expected one; an error must come without the field's data.
pub fn check_answer(expect: Expect, body: &Value, op: &str) -> Result<(), String> {
    let error = body["errors"]
        .as_array()
        .and_then(|errors| errors.first())
        .cloned();
    let field = &body["data"][op];
    match (expect, error) {
        (Expect::Code(code), Some(error)) => {
            let got = error["extensions"]["code"].as_str();
            if got != Some(code) {
                return Err(format!("expected {code}, got {}", short(&error)));
            }
            if !field.is_null() {
                return Err(format!("refused, yet data came along: {}", short(field)));
            }
            Ok(())
        }
        (Expect::Code(code), None) => Err(format!("expected {code}, got {}", short(body))),
        (_, Some(error)) => Err(format!("expected {expect:?}, got {}", short(&error))),
        (Expect::Ok, None) if field.is_null() => {
            Err(format!("expected a value, got {}", short(body)))
        }
        (Expect::Null, None) if !field.is_null() => {
            Err(format!("expected null, got {}", short(field)))
        }
        _ => Ok(()),
    }
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i[key].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the evidence `proof` asks for. Only cells answered without error get here.
pub async fn prove(proof: Proof, cell: &Cell<'_>) -> Result<(), String> {
    let (f, w, field) = (cell.fixture, cell.world, cell.field);
    let same = cell.viewer == Viewer::SameProvider;
    let fail = || {
        format!(
            "{proof:?} does not hold for {:?}: {}",
            cell.viewer,
            short(field)
        )
    };
    match proof {
        Proof::None => Ok(()),
        Proof::MeIsCaller => match cell.viewer {
            Viewer::Client => ensure(field["id"] == w.client_id.as_str(), fail),
            Viewer::SameProvider => ensure(field["email"] == w.provider_a_email.as_str(), fail),
            Viewer::OtherProvider => ensure(field["email"] == w.provider_b_email.as_str(), fail),
            _ => Ok(()),
        },
        Proof::IsTarget => ensure(field.is_null() || field["id"] == f.target_id.as_str(), fail),
        Proof::ListsTargetToOwnPracticeOnly => {
            let found = ids(&field["nodes"], "id");
            let expected = if same {
                vec![f.target_id.clone()]
            } else {
                vec![]
            };
            let count = expected.len();
            ensure(found == expected && field["totalCount"] == count, fail)
        }
        Proof::TargetEventsToOwnPracticeOnly => {
            let about = ids(&field["nodes"], "clientId");
            let all_target = about.iter().all(|id| *id == f.target_id);
            let n = field["nodes"].as_array().map_or(0, Vec::len);
            ensure(all_target && about.len() == n && (n > 0) == same, fail)
        }
        Proof::PracticeTrailKeepsTarget => {
            let mentions = ids(&field["nodes"], "clientId").contains(&f.target_id);
            ensure(mentions == same, fail)
        }
        Proof::OwnFormsOnly => {
            let forms = ids(field, "id");
            let (mine, theirs) = if same {
                (&f.form_a, &f.form_b)
            } else {
                (&f.form_b, &f.form_a)
            };
            ensure(forms.contains(mine) && !forms.contains(theirs), fail)
        }
        Proof::LinkStillValid => {
            let again = w.app.link_status(f.link_token()).await;
            ensure(field["state"] == "VALID" && again["state"] == "VALID", fail)
        }
        Proof::CreatedInCallersPractice => {
            let id = field["client"]["id"].as_str().unwrap_or_default();
            let id = uuid::Uuid::parse_str(id).map_err(|_| fail())?;
            let row = entity::client::Entity::find_by_id(id)
                .one(&w.app.state.db)
                .await
                .map_err(|e| e.to_string())?;
            let org = if same { w.org_a } else { w.org_b };
            ensure(row.is_some_and(|c| c.organization_id == org), fail)
        }
        Proof::SessionEnded => {
            let token = cell.token.unwrap_or_default();
            ensure(!w.is_alive(token).await, || {
                format!("{:?}: the session still works after signOut", cell.viewer)
            })
        }
        Proof::SignedInAsLinkClient => {
            let link_client = f.link.as_ref().map(|(id, _)| id.as_str());
            ensure(field["client"]["id"].as_str() == link_client, fail)
        }
        Proof::SignedInAsClient => ensure(field["client"]["id"] == f.client_id.as_str(), fail),
        Proof::SignedInAsProvider => ensure(
            field["provider"]["email"] == f.provider_email.as_str(),
            fail,
        ),
    }
}

/// Everything stored about the target (and the client's own assignment), to show a
/// refused cell wrote nothing: the client row, its trail, emails, messages, forms.
pub async fn snapshot(world: &World, f: &Fixture) -> String {
    use entity::{audit_event, client, email_delivery, intake_assignment, message};
    let db = &world.app.state.db;
    let id = uuid::Uuid::parse_str(&f.target_id).expect("target id");
    let row = client::Entity::find_by_id(id).one(db).await;
    let trail = audit_event::Entity::find()
        .filter(audit_event::Column::ClientId.eq(id))
        .all(db)
        .await;
    let emails = email_delivery::Entity::find()
        .filter(email_delivery::Column::ClientId.eq(id))
        .all(db)
        .await;
    let messages = message::Entity::find()
        .filter(message::Column::ClientId.eq(id))
        .all(db)
        .await;
    let forms = intake_assignment::Entity::find()
        .filter(intake_assignment::Column::ClientId.eq(id))
        .all(db)
        .await;
    let own = match &f.own_assignment {
        Some(a) => {
            let a = uuid::Uuid::parse_str(a).expect("assignment id");
            Some(intake_assignment::Entity::find_by_id(a).one(db).await)
        }
        None => None,
    };
    format!("{row:?}\n{trail:?}\n{emails:?}\n{messages:?}\n{forms:?}\n{own:?}")
}
