//! Documents already parsed and checked, by their text. A frontend sends the same
//! few operations over and over with different variables; parsing one again (pest)
//! and walking it for the document limits was ~7% of the API's CPU under resends.
//!
//! Only documents that parsed and passed every limit are kept, so a hit skips
//! nothing that could refuse it; the checks that read variables (`nul`) or record
//! the operation's name (`operation`) run on every request as before. The cache is
//! bounded by the bytes of text it holds, so unique documents sent to fill it cost
//! at most that much memory, and a flood of them only evicts.
use async_graphql::parser::types::ExecutableDocument;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use std::sync::Arc;

/// Bytes of query text kept in all: a parsed document is some ten times its text,
/// so this bounds the cache to a few MiB however it is filled.
const CAPACITY_BYTES: u64 = 256 * 1024;

/// Longer documents are parsed every time: they are not what frontends repeat.
const MAX_CACHED_LEN: usize = 8 * 1024;

/// Documents a cache this size holds when each is ~1 KiB.
const ESTIMATED_ENTRIES: usize = 256;

#[derive(Clone)]
struct ByTextLength;

impl Weighter<String, ExecutableDocument> for ByTextLength {
    fn weight(&self, text: &String, _: &ExecutableDocument) -> u64 {
        text.len() as u64
    }
}

/// Shared by every request of one schema.
#[derive(Clone)]
pub(super) struct ParsedDocuments(Arc<Cache<String, ExecutableDocument, ByTextLength>>);

impl ParsedDocuments {
    pub(super) fn new() -> Self {
        Self(Arc::new(Cache::with_weighter(
            ESTIMATED_ENTRIES,
            CAPACITY_BYTES,
            ByTextLength,
        )))
    }

    /// A copy of the document parsed from exactly `text`, if it is kept.
    pub(super) fn get(&self, text: &str) -> Option<ExecutableDocument> {
        if text.len() > MAX_CACHED_LEN {
            return None;
        }
        self.0.get(text)
    }

    /// Keeps `doc`, which parsed from `text` and passed every limit.
    pub(super) fn keep(&self, text: &str, doc: ExecutableDocument) {
        if text.len() <= MAX_CACHED_LEN {
            self.0.insert(text.to_owned(), doc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(text).expect("valid")
    }

    #[test]
    fn a_kept_document_comes_back_for_the_same_text_only() {
        let cache = ParsedDocuments::new();
        let text = "query Me { me { id } }";
        assert!(cache.get(text).is_none());
        cache.keep(text, parse(text));
        let hit = cache.get(text).expect("kept");
        assert!(hit.operations.iter().next().is_some());
        assert!(cache.get("query Me { me { id email } }").is_none());
        assert!(cache.get("query Me { me { id } } ").is_none());
    }

    #[test]
    fn long_documents_are_not_kept() {
        let cache = ParsedDocuments::new();
        let text = format!("query {{ me {{ id }} }}{}", " ".repeat(MAX_CACHED_LEN));
        cache.keep(&text, parse(&text));
        assert!(cache.get(&text).is_none());
    }

    #[test]
    fn a_flood_of_unique_documents_stays_within_the_byte_bound() {
        let cache = ParsedDocuments::new();
        let padding = " ".repeat(200);
        for i in 0..5_000 {
            let text = format!("query Q{i} {{ me {{ id }} }}{padding}");
            cache.keep(&text, parse(&text));
        }
        assert!(cache.0.weight() <= CAPACITY_BYTES);
        assert!(cache.0.len() < 5_000);
    }
}
