//! Refuses text containing U+0000 anywhere in a request's variables or literals.
//! PostgreSQL cannot store it in `text` or `jsonb`, so such a value would otherwise
//! reach the database and fail there as an internal error (found by the hostile-input
//! test: a NUL in a sign-in email, a message body or intake answers).
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Value, Variables};
use std::sync::Arc;

/// Extension factory for the check.
pub struct NoNulText;

impl ExtensionFactory for NoNulText {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NoNulText)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for NoNulText {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if variables
            .iter()
            .any(|(k, v)| k.contains('\0') || const_has_nul(v))
            || document_has_nul(&doc)
        {
            return Err(ServerError::new(
                "Text may not contain the NUL character (U+0000).",
                None,
            ));
        }
        Ok(doc)
    }
}

fn const_has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::List(items) => items.iter().any(const_has_nul),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains('\0') || const_has_nul(v)),
        _ => false,
    }
}

fn document_has_nul(doc: &ExecutableDocument) -> bool {
    let defaults = doc.operations.iter().any(|(_, op)| {
        op.node.variable_definitions.iter().any(|d| {
            d.node
                .default_value
                .as_ref()
                .is_some_and(|v| const_has_nul(&v.node))
        })
    });
    defaults
        || doc
            .operations
            .iter()
            .any(|(_, op)| set_has_nul(&op.node.selection_set.node))
        || doc
            .fragments
            .values()
            .any(|f| set_has_nul(&f.node.selection_set.node))
}

/// Field arguments, nested selections and inline fragments; spreads are checked
/// through the fragment definitions.
fn set_has_nul(set: &SelectionSet) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(f) => {
            f.node.arguments.iter().any(|(_, v)| {
                // Variables in a literal are checked with the variables.
                let literal = v.node.clone().into_const_with(|_| Ok::<_, ()>(Value::Null));
                literal.is_ok_and(|v| const_has_nul(&v))
            }) || set_has_nul(&f.node.selection_set.node)
        }
        Selection::InlineFragment(i) => set_has_nul(&i.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}
