//! The catalog's search index: a read model of the active products in tantivy.
//!
//! - [`schema`]: the fields;
//! - [`query`]: request → query → one page and the facet counts;
//! - [`facets`]: the collector counting categories, attributes and price buckets;
//! - [`cache`]: answers of recent searches, per reader generation.
//!
//! Writes go to an indexer thread that owns the `IndexWriter`: it keeps the newest
//! view of each product (by catalog version, so a late, older update never wins),
//! commits at most every [`COMMIT_INTERVAL`], and reloads the reader, so a change
//! is searchable well within a second. Each commit records the catalog version it
//! includes; at start the index is rebuilt when it is missing, unreadable or behind
//! the catalog.

pub mod cache;
pub mod facets;
pub mod query;
pub mod schema;

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tantivy::directory::MmapDirectory;
use tantivy::query::QueryParser;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use tokio::sync::oneshot;

use self::query::{SearchRequest, SearchResult};
use self::schema::{attr_term, Fields};
use crate::catalog::{IndexedProduct, ProductStatus};

/// Longest time a change waits before it is committed and searchable.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(200);
/// Memory the index writer may use before it flushes a segment.
const WRITER_MEMORY_BYTES: usize = 64 * 1024 * 1024;
/// Tries at merging the segments after a bulk load, and the pause between two
/// (a background merge of some of them must end first).
const COMPACT_ATTEMPTS: u32 = 50;
const COMPACT_RETRY: Duration = Duration::from_millis(100);
/// Boost of a match in the name over the match every result has in the text.
const NAME_BOOST: f32 = 3.0;

/// Why the search index failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("search index: {0}")]
pub struct SearchError(String);

impl From<tantivy::TantivyError> for SearchError {
    fn from(err: tantivy::TantivyError) -> Self {
        SearchError(err.to_string())
    }
}

enum IndexOp {
    /// Index (or remove, when archived) the newest view of a product.
    Upsert(Box<IndexedProduct>),
    /// Replace everything with `products` at catalog `version`, then commit.
    Rebuild {
        products: Vec<IndexedProduct>,
        version: u64,
        done: oneshot::Sender<Result<(), SearchError>>,
    },
    /// Commit now.
    Commit(oneshot::Sender<Result<(), SearchError>>),
}

/// Handle to the index; cheap to clone.
#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

struct Inner {
    reader: IndexReader,
    fields: Fields,
    /// Parse `q`: what must match, and what ranks.
    parsers: query::Parsers,
    /// Queue of the indexer thread.
    ops: Sender<IndexOp>,
    /// Catalog version of the last commit found when the index was opened.
    opened_at_version: Option<u64>,
    /// Recent answers of the current reader generation.
    answers: cache::ResultCache,
}

fn open_index(dir: &Path) -> Result<Index, SearchError> {
    let (schema, _) = schema::build();
    std::fs::create_dir_all(dir).map_err(|err| SearchError(format!("cannot create {}: {err}", dir.display())))?;
    let directory = MmapDirectory::open(dir).map_err(|err| SearchError(err.to_string()))?;
    match Index::open_or_create(directory, schema.clone()) {
        Ok(index) => Ok(index),
        Err(err) => {
            tracing::warn!(error = %err, dir = %dir.display(), "search index unreadable or of another schema; recreating it");
            std::fs::remove_dir_all(dir).map_err(|err| SearchError(err.to_string()))?;
            std::fs::create_dir_all(dir).map_err(|err| SearchError(err.to_string()))?;
            let directory = MmapDirectory::open(dir).map_err(|err| SearchError(err.to_string()))?;
            Ok(Index::create(directory, schema, Default::default())?)
        }
    }
}

impl SearchIndex {
    /// Opens (or creates) the index in `dir` and starts the indexer thread.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        let index = open_index(dir)?;
        let (_, fields) = schema::build();
        let opened_at_version = index.load_metas()?.payload.and_then(|payload| payload.parse().ok());
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let mut matcher = QueryParser::for_index(&index, vec![fields.text]);
        matcher.set_conjunction_by_default();
        let mut ranker = QueryParser::for_index(&index, vec![fields.name]);
        ranker.set_field_boost(fields.name, NAME_BOOST);
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        let (ops, jobs) = std::sync::mpsc::channel();
        let indexer = Indexer {
            writer,
            reader: Clone::clone(&reader),
            fields,
            indexed: HashMap::new(),
            version: opened_at_version.unwrap_or(0),
        };
        std::thread::Builder::new()
            .name("mercato-indexer".into())
            .spawn(move || indexer.run(jobs))
            .map_err(|err| SearchError(format!("cannot start the indexer: {err}")))?;
        Ok(SearchIndex {
            inner: Arc::new(Inner {
                reader,
                fields,
                parsers: query::Parsers { matcher, ranker },
                ops,
                opened_at_version,
                answers: cache::ResultCache::default(),
            }),
        })
    }

    /// The catalog version the index held when it was opened (`None`: empty or new).
    pub fn opened_at_version(&self) -> Option<u64> {
        self.inner.opened_at_version
    }

    /// Indexes the newest view of a product (removes it once archived).
    pub fn upsert(&self, product: IndexedProduct) {
        let _ = self.inner.ops.send(IndexOp::Upsert(Box::new(product)));
    }

    /// Replaces the whole index with `products` at catalog `version`.
    pub async fn rebuild(&self, products: Vec<IndexedProduct>, version: u64) -> Result<(), SearchError> {
        let (done, finished) = oneshot::channel();
        self.send_and_wait(
            IndexOp::Rebuild {
                products,
                version,
                done,
            },
            finished,
        )
        .await
    }

    /// Commits what is pending now rather than within [`COMMIT_INTERVAL`].
    pub async fn commit(&self) -> Result<(), SearchError> {
        let (done, finished) = oneshot::channel();
        self.send_and_wait(IndexOp::Commit(done), finished).await
    }

    async fn send_and_wait(
        &self,
        op: IndexOp,
        finished: oneshot::Receiver<Result<(), SearchError>>,
    ) -> Result<(), SearchError> {
        self.inner
            .ops
            .send(op)
            .map_err(|_| SearchError("the indexer stopped".into()))?;
        finished
            .await
            .unwrap_or_else(|_| Err(SearchError("the indexer stopped".into())))
    }

    /// One page of product ids and the facet counts over the whole result.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResult, SearchError> {
        let searcher = self.inner.reader.searcher();
        let generation = searcher.generation().generation_id();
        self.inner.answers.get_or_run(generation, request, || {
            let query = query::build_query(&self.inner.fields, &self.inner.parsers, request);
            Ok(query::run(&searcher, query.as_ref(), request)?)
        })
    }
}

/// The indexer thread's state.
struct Indexer {
    writer: IndexWriter,
    reader: IndexReader,
    fields: Fields,
    /// Catalog version of the view indexed per product.
    indexed: HashMap<u64, u64>,
    /// Highest catalog version indexed.
    version: u64,
}

impl Indexer {
    fn run(mut self, jobs: Receiver<IndexOp>) {
        let mut dirty_since: Option<Instant> = None;
        loop {
            let wait = dirty_since.map_or(Duration::from_secs(3600), |since| {
                COMMIT_INTERVAL.saturating_sub(since.elapsed())
            });
            match jobs.recv_timeout(wait) {
                Ok(IndexOp::Upsert(product)) => {
                    if let Err(err) = self.upsert(&product) {
                        tracing::error!(error = %err, product_id = product.product.id, "indexing failed");
                    }
                    dirty_since.get_or_insert_with(Instant::now);
                }
                Ok(IndexOp::Rebuild {
                    products,
                    version,
                    done,
                }) => {
                    let _ = done.send(self.rebuild(products, version));
                    dirty_since = None;
                }
                Ok(IndexOp::Commit(done)) => {
                    let _ = done.send(self.commit().map(|()| self.compact()));
                    dirty_since = None;
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(err) = self.commit() {
                        tracing::error!(error = %err, "search commit failed");
                    }
                    dirty_since = None;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn upsert(&mut self, view: &IndexedProduct) -> Result<(), SearchError> {
        let product = &view.product;
        if self.indexed.get(&product.id).is_some_and(|seen| *seen > view.version) {
            return Ok(());
        }
        self.indexed.insert(product.id, view.version);
        self.version = self.version.max(view.version);
        self.writer
            .delete_term(Term::from_field_u64(self.fields.id, product.id));
        if product.fields.status == ProductStatus::Archived {
            return Ok(());
        }
        let fields = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_u64(fields.id, product.id);
        doc.add_text(fields.name, &product.fields.name);
        doc.add_text(fields.text, &product.fields.name);
        doc.add_text(fields.text, &product.fields.description);
        for (key, value) in &product.fields.attributes {
            doc.add_text(fields.text, value);
            doc.add_text(fields.attr, attr_term(key, value));
        }
        for category in &view.category_path {
            doc.add_u64(fields.category, *category);
        }
        doc.add_u64(fields.price, product.fields.price);
        doc.add_u64(fields.created_at, product.created_at);
        self.writer.add_document(doc)?;
        Ok(())
    }

    fn rebuild(&mut self, products: Vec<IndexedProduct>, version: u64) -> Result<(), SearchError> {
        let started = Instant::now();
        self.writer.delete_all_documents()?;
        self.indexed.clear();
        self.version = version;
        for product in &products {
            self.upsert(product)?;
        }
        self.commit()?;
        self.compact();
        tracing::info!(products = products.len(), version, elapsed = ?started.elapsed(), "search index rebuilt");
        Ok(())
    }

    /// Merges every segment into one and waits, after a bulk load (a rebuild, a
    /// seed): a search looks each word up and builds its scorers once per
    /// segment, and a bulk load leaves several (8 for 100,000 products). Later
    /// updates add small segments that
    /// tantivy's merge policy folds in. A failed merge leaves the segments as
    /// they were: searches stay correct, only slower.
    fn compact(&mut self) {
        for attempt in 1..=COMPACT_ATTEMPTS {
            let segments = match self.writer.index().searchable_segment_ids() {
                Ok(segments) => segments,
                Err(err) => return tracing::warn!(error = %err, "cannot list the search segments"),
            };
            if segments.len() < 2 {
                return;
            }
            match self.writer.merge(&segments).wait().and_then(|_| self.reader.reload()) {
                Ok(()) => return tracing::info!(segments = segments.len(), "search segments merged into one"),
                // Refused (before any work) while tantivy's own merge of some of
                // them runs: wait for it. Any other failure is not retried.
                Err(tantivy::TantivyError::InvalidArgument(_)) if attempt < COMPACT_ATTEMPTS => {
                    std::thread::sleep(COMPACT_RETRY)
                }
                Err(err) => {
                    return tracing::warn!(error = %err, segments = segments.len(), "search segments not merged")
                }
            }
        }
    }

    fn commit(&mut self) -> Result<(), SearchError> {
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&self.version.to_string());
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }
}
