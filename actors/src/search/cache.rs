//! Answers of recent searches, kept while the index they were read from is
//! the one readers see. A category page or a popular query is counted once per
//! commit instead of once per request (facet counts over a broad result are
//! the costly part of a search). Keyed by the whole request and the reader's
//! generation, so an answer never outlives the commit it came from.

use std::collections::HashMap;

use parking_lot::Mutex;

use super::query::{SearchRequest, SearchResult};

/// Answers kept at most; past it the cache starts over (a bounded, simple rule:
/// the queries that matter come back at once).
pub const CAPACITY: usize = 1024;

/// The answers of one reader generation.
#[derive(Default)]
struct Entries {
    generation: u64,
    answers: HashMap<String, SearchResult>,
}

/// Recent answers, see the module doc.
#[derive(Default)]
pub struct ResultCache {
    entries: Mutex<Entries>,
}

impl ResultCache {
    /// The answer to `request` read at `generation`: kept, or made by `run`
    /// (outside the lock) and kept.
    pub fn get_or_run<E>(
        &self,
        generation: u64,
        request: &SearchRequest,
        run: impl FnOnce() -> Result<SearchResult, E>,
    ) -> Result<SearchResult, E> {
        let key = format!("{request:?}");
        {
            let entries = self.entries.lock();
            if entries.generation == generation {
                if let Some(answer) = entries.answers.get(&key) {
                    return Ok(answer.clone());
                }
            }
        }
        let answer = run()?;
        let mut entries = self.entries.lock();
        if entries.generation != generation {
            // Only a newer generation replaces the entries: a slow search of
            // an older one must not throw away the current answers.
            if generation < entries.generation {
                return Ok(answer);
            }
            entries.generation = generation;
            entries.answers.clear();
        }
        if entries.answers.len() >= CAPACITY {
            entries.answers.clear();
        }
        entries.answers.insert(key, answer.clone());
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{ResultCache, CAPACITY};
    use crate::search::facets::FacetCounts;
    use crate::search::query::{SearchRequest, SearchResult, SortOrder};

    fn request(offset: usize) -> SearchRequest {
        SearchRequest {
            q: Some("jacket".into()),
            category: None,
            min_price: None,
            max_price: None,
            attributes: BTreeMap::new(),
            sort: SortOrder::Relevance,
            offset,
            limit: 20,
            facets: true,
        }
    }

    fn answer(id: u64) -> Result<SearchResult, ()> {
        Ok(SearchResult {
            ids: vec![id],
            facets: FacetCounts::default(),
        })
    }

    #[test]
    fn an_answer_is_kept_for_its_generation_only() {
        let cache = ResultCache::default();
        assert_eq!(cache.get_or_run(1, &request(0), || answer(1)).unwrap().ids, [1]);
        let kept = cache.get_or_run(1, &request(0), || answer(2)).unwrap();
        assert_eq!(kept.ids, [1], "same request, same generation: kept");
        let other = cache.get_or_run(1, &request(20), || answer(3)).unwrap();
        assert_eq!(other.ids, [3], "another request is searched");
        let newer = cache.get_or_run(2, &request(0), || answer(4)).unwrap();
        assert_eq!(newer.ids, [4], "a new generation searches again");
        let late = cache.get_or_run(1, &request(0), || answer(5)).unwrap();
        assert_eq!(late.ids, [5], "an older generation is answered but not kept");
        assert_eq!(cache.get_or_run(2, &request(0), || answer(6)).unwrap().ids, [4]);
    }

    #[test]
    fn the_cache_holds_at_most_its_capacity() {
        let cache = ResultCache::default();
        for offset in 0..=CAPACITY {
            cache.get_or_run(1, &request(offset), || answer(offset as u64)).unwrap();
        }
        assert!(cache.entries.lock().answers.len() <= CAPACITY);
    }
}
