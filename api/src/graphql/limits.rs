//! Refuses documents with too many aliases or too many fields once fragments are
//! expanded, before anything else looks at them. Aliases are the cheap way to ask
//! for one expensive field many times; fragments that spread each other several times
//! over (a "fragment bomb": 8 levels of 10 spreads is 10^8 fields in 500 bytes) would
//! otherwise keep async-graphql's own depth and complexity checks busy for minutes,
//! since they walk every expanded spread.
use super::depth;
use super::parsed::ParsedDocuments;
use crate::configuration::GraphqlLimits;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Request, ServerError, ServerResult};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Extension factory holding the limits, and the documents that passed them.
#[derive(Clone)]
pub struct DocumentLimits {
    max_aliases: usize,
    max_fields: usize,
    max_depth: usize,
    introspection: bool,
    passed: ParsedDocuments,
}

impl DocumentLimits {
    /// `max_fields` bounds the fields selected after expanding every fragment spread;
    /// `max_depth` the nesting of fields outside introspection (see `depth`).
    pub fn new(limits: &GraphqlLimits, introspection: bool) -> Self {
        Self {
            max_aliases: limits.max_aliases,
            max_fields: limits.max_complexity,
            max_depth: limits.max_depth,
            introspection,
            passed: ParsedDocuments::new(),
        }
    }
}

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimitsExtension(self.clone()))
    }
}

struct DocumentLimitsExtension(DocumentLimits);

impl DocumentLimitsExtension {
    fn check(&self, doc: &ExecutableDocument) -> ServerResult<()> {
        let refuse = |message: String| Err(ServerError::new(message, None));
        let limits = &self.0;
        let aliases = count_aliases(doc);
        if aliases > limits.max_aliases {
            let max = limits.max_aliases;
            return refuse(format!(
                "The query uses {aliases} aliases; at most {max} are allowed."
            ));
        }
        match Expansion::new(doc, limits.max_fields).count() {
            Err(why) => return refuse(why),
            Ok(n) if n > limits.max_fields => {
                return refuse(format!(
                    "The query is too complex: more than {} fields once fragments are expanded.",
                    limits.max_fields
                ));
            }
            Ok(_) => {}
        }
        let depths =
            depth::measure(doc, limits.introspection).map_err(|why| ServerError::new(why, None))?;
        if depths.ordinary > limits.max_depth {
            return refuse("Query is nested too deep.".to_owned());
        }
        if depths.introspection > depth::INTROSPECTION_MAX_DEPTH {
            return refuse(format!(
                "Introspection is nested too deep: at most {} levels.",
                depth::INTROSPECTION_MAX_DEPTH
            ));
        }
        Ok(())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentLimitsExtension {
    /// Runs before async-graphql parses the query: it parses here, once (the request
    /// keeps the document), and checks before async-graphql's own depth and directive
    /// walks, which a fragment bomb would keep busy. A syntax error answers one line.
    /// A document that passed before is taken as parsed and checked then.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Some(doc) = self.0.passed.get(&request.query) {
            request.set_parsed_query(doc);
        } else {
            let passed = match request.parsed_query() {
                Ok(doc) => self.check(doc).map(|()| doc.clone())?,
                Err(_) => return Err(super::syntax::error(&request.query)),
            };
            self.0.passed.keep(&request.query, passed);
        }
        next.run(ctx, request).await
    }
}

/// Nesting of fields and spreads past which counting stops; far beyond the depth
/// limits, so those answer first, but it keeps this walk's own stack small.
const MAX_NESTING: usize = 128;

/// Counts fields with every fragment expanded, each fragment counted once (memoised),
/// so the work is linear in the document however often fragments spread each other.
struct Expansion<'a> {
    doc: &'a ExecutableDocument,
    cap: usize,
    nesting: usize,
    done: HashMap<&'a str, usize>,
    open: HashSet<&'a str>,
}

impl<'a> Expansion<'a> {
    fn new(doc: &'a ExecutableDocument, max: usize) -> Self {
        Self {
            doc,
            cap: max.saturating_add(1),
            nesting: 0,
            done: HashMap::new(),
            open: HashSet::new(),
        }
    }

    /// Fields selected by all operations, capped just past the limit; `Err` says why
    /// the document cannot be counted (a fragment that spreads itself, deep nesting).
    fn count(mut self) -> Result<usize, String> {
        let mut total = 0usize;
        for (_, op) in self.doc.operations.iter() {
            total = total.saturating_add(self.set(&op.node.selection_set.node)?);
        }
        Ok(total.min(self.cap))
    }

    fn set(&mut self, set: &'a SelectionSet) -> Result<usize, String> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(format!("The query nests more than {MAX_NESTING} levels."));
        }
        let mut total = 0usize;
        for item in &set.items {
            let n = match &item.node {
                Selection::Field(f) => 1 + self.set(&f.node.selection_set.node)?,
                Selection::InlineFragment(i) => self.set(&i.node.selection_set.node)?,
                Selection::FragmentSpread(s) => self.fragment(&s.node.fragment_name.node)?,
            };
            total = total.saturating_add(n).min(self.cap);
        }
        self.nesting -= 1;
        Ok(total)
    }

    fn fragment(&mut self, name: &'a str) -> Result<usize, String> {
        if let Some(n) = self.done.get(name) {
            return Ok(*n);
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Ok(0); // validation reports the unknown fragment
        };
        if !self.open.insert(name) {
            return Err(format!("Fragment \"{name}\" spreads itself."));
        }
        let n = self.set(&fragment.node.selection_set.node)?;
        self.open.remove(name);
        self.done.insert(name, n);
        Ok(n)
    }
}

fn count_aliases(doc: &ExecutableDocument) -> usize {
    let in_operations: usize = doc
        .operations
        .iter()
        .map(|(_, op)| count_in(&op.node.selection_set.node))
        .sum();
    let in_fragments: usize = doc
        .fragments
        .values()
        .map(|f| count_in(&f.node.selection_set.node))
        .sum();
    in_operations + in_fragments
}

fn count_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count_in(&f.node.selection_set.node)
            }
            Selection::InlineFragment(i) => count_in(&i.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::Expansion;
    use async_graphql::parser::parse_query;

    fn count(query: &str, max: usize) -> Result<usize, String> {
        Expansion::new(&parse_query(query).unwrap(), max).count()
    }

    fn bomb(levels: usize, fan: usize) -> String {
        let mut q = format!("{{ ...F{} }} fragment F0 on Q {{ a }}", levels - 1);
        for i in 1..levels {
            let spreads = format!("...F{} ", i - 1).repeat(fan);
            q.push_str(&format!(" fragment F{i} on Q {{ {spreads}}}"));
        }
        q
    }

    #[test]
    fn fragments_count_once_per_spread() {
        let q = "{ x { ...A ...A } ...A } fragment A on Q { a b c { d } }";
        assert_eq!(count(q, 100), Ok(1 + 3 * 4));
        assert_eq!(count(&bomb(4, 2), 100), Ok(8));
    }

    #[test]
    fn a_fragment_bomb_is_counted_past_the_limit_at_once() {
        // 10^40 fields if expanded; the count stops just past the limit.
        assert_eq!(count(&bomb(41, 10), 5000), Ok(5001));
    }

    #[test]
    fn cycles_and_deep_chains_are_refused() {
        let cycle = "{ ...A } fragment A on Q { ...B } fragment B on Q { a ...A }";
        assert!(count(cycle, 100).unwrap_err().contains("spreads itself"));
        assert!(count(&bomb(500, 1), 5000).unwrap_err().contains("nests"));
    }
}
