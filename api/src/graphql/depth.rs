//! Depth limits that tell introspection from ordinary operations.
//!
//! graphql-js's `getIntrospectionQuery()` (sent by GraphiQL, graphql-codegen and
//! most tools) nests `ofType` nine levels deep to unwrap types like `[[Int!]!]!`,
//! which makes it 15 fields deep: more than ordinary operations may nest. So the
//! fields under `__schema` and `__type` have a limit of their own, exactly what that
//! query needs, and everything else keeps `GRAPHQL_MAX_DEPTH`. async-graphql has a
//! single depth limit for both (7.2), so the schema's own limit is set to the larger
//! one and this walk applies each where it belongs.
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use std::collections::HashMap;

/// The depth of graphql-js 16's full introspection query:
/// `__schema types fields args type` and nine `ofType`, then `kind`.
pub const INTROSPECTION_MAX_DEPTH: usize = 15;

/// Past this many nested selection sets the walk stops (the recursive-depth limit
/// answers first; this only bounds the walk's own stack).
const MAX_NESTING: usize = 128;

/// The deepest field path, apart for introspection and the rest.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Depths {
    pub ordinary: usize,
    pub introspection: usize,
}

impl Depths {
    fn max(self, other: Depths) -> Depths {
        Depths {
            ordinary: self.ordinary.max(other.ordinary),
            introspection: self.introspection.max(other.introspection),
        }
    }
}

/// Measures every operation with fragments expanded (each fragment measured once).
/// With introspection off, `__schema` counts like any other field.
pub fn measure(doc: &ExecutableDocument, introspection_on: bool) -> Result<Depths, String> {
    let mut walk = Walk {
        doc,
        introspection_on,
        nesting: 0,
        done: HashMap::new(),
    };
    let mut depths = Depths::default();
    for (_, op) in doc.operations.iter() {
        depths = depths.max(walk.set(&op.node.selection_set.node, false)?);
    }
    Ok(depths)
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    introspection_on: bool,
    nesting: usize,
    done: HashMap<(&'a str, bool), Depths>,
}

impl<'a> Walk<'a> {
    fn set(&mut self, set: &'a SelectionSet, inside: bool) -> Result<Depths, String> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(format!("The query nests more than {MAX_NESTING} levels."));
        }
        let mut depths = Depths::default();
        for item in &set.items {
            let d = match &item.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    let starts = self.introspection_on && matches!(name, "__schema" | "__type");
                    let inside = inside || starts;
                    let below = self.set(&f.node.selection_set.node, inside)?;
                    if inside {
                        Depths {
                            ordinary: 0,
                            introspection: 1 + below.introspection,
                        }
                    } else {
                        Depths {
                            ordinary: 1 + below.ordinary,
                            introspection: below.introspection,
                        }
                    }
                }
                Selection::InlineFragment(i) => self.set(&i.node.selection_set.node, inside)?,
                Selection::FragmentSpread(s) => {
                    self.fragment(&s.node.fragment_name.node, inside)?
                }
            };
            depths = depths.max(d);
        }
        self.nesting -= 1;
        Ok(depths)
    }

    fn fragment(&mut self, name: &'a str, inside: bool) -> Result<Depths, String> {
        if let Some(d) = self.done.get(&(name, inside)) {
            return Ok(*d);
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Ok(Depths::default()); // validation reports the unknown fragment
        };
        let d = self.set(&fragment.node.selection_set.node, inside)?;
        self.done.insert((name, inside), d);
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn depths(query: &str, introspection_on: bool) -> Depths {
        measure(&parse_query(query).unwrap(), introspection_on).unwrap()
    }

    #[test]
    fn introspection_is_measured_apart_from_ordinary_fields() {
        let q = "{ me { __typename } __schema { types { fields { type { ...R } } } } } \
                 fragment R on __Type { ofType { ofType { name } } }";
        assert_eq!(
            depths(q, true),
            Depths {
                ordinary: 2,
                introspection: 7
            }
        );
        assert_eq!(depths(q, false).ordinary, 7);
    }

    #[test]
    fn fragments_are_measured_with_the_path_that_spreads_them() {
        let q = "{ a { ...F } ...F } fragment F on T { b { c } }";
        assert_eq!(depths(q, true).ordinary, 3);
    }
}
