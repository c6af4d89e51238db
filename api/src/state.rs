//! What every request handler shares.
use crate::configuration::Settings;
use crate::service::passwords::Passwords;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Shared, cheaply clonable application state.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// `None` in embedded mode.
    pub redis: Option<redis::Client>,
    pub settings: Arc<Settings>,
    pub passwords: Passwords,
}
