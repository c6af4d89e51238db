//! Which limits apply to which operation.
use std::time::Duration;

/// The operations with abuse limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignIn,
    ClientSignIn,
    AccountLink,
    CompleteAccountLink,
    PasswordReset,
}

/// At most `limit` in each fixed `window`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rule {
    pub(super) limit: u32,
    pub(super) window: Duration,
}

const fn minutes(limit: u32, m: u64) -> Rule {
    Rule {
        limit,
        window: Duration::from_secs(m * 60),
    }
}

/// What the account rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Counts {
    Attempts,
    Failures,
}

/// One action's rules: attempts per IP, the account rule, failures per account+IP.
pub(super) struct Rules {
    pub(super) per_ip: Rule,
    pub(super) per_account: (Rule, Counts),
    pub(super) per_pair_failures: Option<Rule>,
}

impl Action {
    pub(super) fn name(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::ClientSignIn => "client_sign_in",
            Action::AccountLink => "account_link",
            Action::CompleteAccountLink => "complete_link",
            Action::PasswordReset => "password_reset",
        }
    }

    /// The limits, documented in the README's "Abuse limits" table.
    pub(super) fn rules(self) -> Rules {
        let sign_in = Rules {
            per_ip: minutes(60, 5),
            per_account: (minutes(20, 15), Counts::Failures),
            per_pair_failures: Some(minutes(5, 5)),
        };
        match self {
            Action::SignIn | Action::ClientSignIn => sign_in,
            Action::AccountLink => Rules {
                per_ip: minutes(120, 5),
                per_account: (minutes(30, 5), Counts::Attempts),
                per_pair_failures: None,
            },
            Action::CompleteAccountLink => Rules {
                per_ip: minutes(30, 5),
                per_account: (minutes(10, 5), Counts::Failures),
                per_pair_failures: None,
            },
            Action::PasswordReset => Rules {
                per_ip: minutes(10, 15),
                per_account: (minutes(5, 15), Counts::Attempts),
                per_pair_failures: None,
            },
        }
    }
}
