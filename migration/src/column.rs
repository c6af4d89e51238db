//! Adding one column to an existing table, safe to run again: SQLite has no
//! `ADD COLUMN IF NOT EXISTS`, and a run that added it but was not recorded must
//! still complete.
use sea_orm_migration::prelude::*;

/// Adds `column` to `table` unless it is there already.
pub(crate) async fn add_once(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    mut column: ColumnDef,
) -> Result<(), DbErr> {
    let table = table.into_iden();
    if manager
        .has_column(table.to_string(), column.get_column_name())
        .await?
    {
        return Ok(());
    }
    let alter = Table::alter()
        .table(table)
        .add_column(&mut column)
        .to_owned();
    manager.alter_table(alter).await
}

/// Drops `column` from `table`.
pub(crate) async fn drop(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: impl IntoIden,
) -> Result<(), DbErr> {
    let alter = Table::alter().table(table).drop_column(column).to_owned();
    manager.alter_table(alter).await
}
