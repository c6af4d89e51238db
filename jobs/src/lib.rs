//! Background work of portal-access. It depends on `entity` only, never on `api`.

pub mod maintenance;
