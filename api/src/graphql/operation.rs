//! Which operation a request ran, for the access log and the latency metric: the
//! `operationName` the caller sent, else the name of the document's only operation.
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use async_graphql::{ServerResult, Variables};
use std::sync::{Arc, Mutex};

/// Per-request slot the HTTP layer reads after execution.
#[derive(Debug, Clone, Default)]
pub struct OperationName(Arc<Mutex<Option<String>>>);

impl OperationName {
    /// A slot holding the `operationName` the caller sent, if any.
    pub fn new(given: Option<String>) -> Self {
        Self(Arc::new(Mutex::new(given)))
    }

    /// The name, once known; `None` for an anonymous or unparsable operation.
    pub fn get(&self) -> Option<String> {
        self.0.lock().map(|n| n.clone()).unwrap_or_default()
    }

    fn fill(&self, name: &str) {
        if let Ok(mut slot) = self.0.lock()
            && slot.is_none()
        {
            *slot = Some(name.to_owned());
        }
    }
}

/// Extension factory filling [`OperationName`] from the parsed document.
pub struct RecordOperationName;

impl ExtensionFactory for RecordOperationName {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RecordOperationName)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RecordOperationName {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if let (Some(slot), DocumentOperations::Multiple(named)) =
            (ctx.data_opt::<OperationName>(), &doc.operations)
            && named.len() == 1
            && let Some(name) = named.keys().next()
        {
            slot.fill(name.as_str());
        }
        Ok(doc)
    }
}
