//! Which counters apply to which operation, and what counts as a failure.
use crate::error::AppError;
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

/// Whom a counter counts: the caller's IP, the account the request names, or that
/// account from that IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Ip,
    Account,
    Pair,
}

/// What a counter counts: every attempt (refused past the limit) or failed attempts
/// (refused once the limit is reached).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Counts {
    Attempts,
    Failures,
}

/// At most `limit` of `counts` per `scope` in any `window` (sliding).
#[derive(Debug, Clone, Copy)]
pub(super) struct Counter {
    pub(super) scope: Scope,
    pub(super) counts: Counts,
    pub(super) limit: u32,
    pub(super) window: Duration,
}

const fn per(scope: Scope, counts: Counts, limit: u32, minutes: u64) -> Counter {
    Counter {
        scope,
        counts,
        limit,
        window: Duration::from_secs(minutes * 60),
    }
}

use Counts::{Attempts, Failures};
use Scope::{Account, Ip, Pair};

impl Action {
    /// Every action, for metrics registered before the first refusal.
    pub const ALL: [Action; 5] = [
        Action::SignIn,
        Action::ClientSignIn,
        Action::AccountLink,
        Action::CompleteAccountLink,
        Action::PasswordReset,
    ];

    /// The action's name in keys, logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::ClientSignIn => "client_sign_in",
            Action::AccountLink => "account_link",
            Action::CompleteAccountLink => "complete_link",
            Action::PasswordReset => "password_reset",
        }
    }

    /// What a refusal of this action says was limited.
    pub(super) fn limited(self) -> crate::error::Limited {
        use crate::error::Limited;
        match self {
            Action::SignIn | Action::ClientSignIn => Limited::SignIn,
            Action::AccountLink | Action::CompleteAccountLink => Limited::AccountLinks,
            Action::PasswordReset => Limited::PasswordResetRequests,
        }
    }

    /// The limits, documented in the README's "Abuse limits" table.
    pub(super) fn counters(self) -> &'static [Counter] {
        const SIGN_IN: &[Counter] = &[
            per(Ip, Attempts, 60, 5),
            per(Account, Failures, 20, 15),
            per(Pair, Failures, 5, 5),
        ];
        const ACCOUNT_LINK: &[Counter] =
            &[per(Ip, Attempts, 120, 5), per(Account, Attempts, 30, 5)];
        const COMPLETE_LINK: &[Counter] =
            &[per(Ip, Attempts, 30, 5), per(Account, Failures, 10, 5)];
        const PASSWORD_RESET: &[Counter] =
            &[per(Ip, Attempts, 10, 15), per(Account, Attempts, 5, 15)];
        match self {
            Action::SignIn | Action::ClientSignIn => SIGN_IN,
            Action::AccountLink => ACCOUNT_LINK,
            Action::CompleteAccountLink => COMPLETE_LINK,
            Action::PasswordReset => PASSWORD_RESET,
        }
    }

    /// Whether an attempt that ended in `e` counts as a failure: a wrong password, or
    /// a link that cannot be used or a password it refused.
    pub(super) fn is_failure(self, e: &AppError) -> bool {
        match self {
            Action::SignIn | Action::ClientSignIn => matches!(e, AppError::InvalidCredentials),
            Action::CompleteAccountLink => {
                matches!(e, AppError::Link(_) | AppError::WeakPassword(_))
            }
            Action::AccountLink | Action::PasswordReset => false,
        }
    }
}
