pub mod default;
pub mod override_migration_table_name;
pub mod transaction_test;
pub mod with_self;
