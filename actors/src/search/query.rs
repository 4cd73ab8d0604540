//! Turning a search request into a tantivy query and running it with the facet
//! collector.

use std::collections::BTreeMap;
use std::ops::Bound;

use tantivy::collector::{Collector, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Order, Searcher, Term};

use super::facets::{FacetCollector, FacetCounts};
use super::schema::{attr_term, Fields};

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// BM25 relevance to `q` (newest first when there is no `q`).
    Relevance,
    /// Cheapest first.
    PriceAsc,
    /// Most expensive first.
    PriceDesc,
    /// Most recently created first.
    Newest,
}

/// What to search for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// Free text over name (boosted), description and attribute values.
    pub q: Option<String>,
    /// Only this category and its descendants.
    pub category: Option<u64>,
    /// Lowest price, inclusive.
    pub min_price: Option<u64>,
    /// Highest price, inclusive.
    pub max_price: Option<u64>,
    /// Attribute filters: each key must match one of its values.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Order of the results.
    pub sort: SortOrder,
    /// Results skipped.
    pub offset: usize,
    /// Results returned.
    pub limit: usize,
    /// Whether to count facets over the whole result (the costly part of a
    /// broad search; a front page of newest products needs none).
    pub facets: bool,
}

/// One page of results and the counts over all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResult {
    /// Product ids of the page, in order.
    pub ids: Vec<u64>,
    /// Counts over the whole filtered result (`total` among them).
    pub facets: FacetCounts,
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// How `q` is read.
pub struct Parsers {
    /// Every word must match the `text` field (name, description, attributes).
    pub matcher: QueryParser,
    /// Any word matching the name adds to the score (boosted); matches nothing alone.
    pub ranker: QueryParser,
}

/// Builds the query for `request`.
pub fn build_query(fields: &Fields, parsers: &Parsers, request: &SearchRequest) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    match request.q.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => {
            clauses.push((Occur::Must, parsers.matcher.parse_query_lenient(text).0));
            if request.sort == SortOrder::Relevance {
                clauses.push((Occur::Should, parsers.ranker.parse_query_lenient(text).0));
            }
        }
        _ => clauses.push((Occur::Must, Box::new(AllQuery))),
    }
    if let Some(category) = request.category {
        clauses.push((Occur::Must, term_query(Term::from_field_u64(fields.category, category))));
    }
    if request.min_price.is_some() || request.max_price.is_some() {
        let bound = |price: Option<u64>| {
            price.map_or(Bound::Unbounded, |p| {
                Bound::Included(Term::from_field_u64(fields.price, p))
            })
        };
        clauses.push((
            Occur::Must,
            Box::new(RangeQuery::new(bound(request.min_price), bound(request.max_price))),
        ));
    }
    for (key, values) in &request.attributes {
        let any_value: Vec<(Occur, Box<dyn Query>)> = values
            .iter()
            .map(|value| {
                (
                    Occur::Should,
                    term_query(Term::from_field_text(fields.attr, &attr_term(key, value))),
                )
            })
            .collect();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(any_value))));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// The page `top` collects, and the facet counts when `facets` is set (empty
/// counts otherwise).
fn collect<C: Collector>(
    searcher: &Searcher,
    query: &dyn Query,
    top: C,
    facets: bool,
) -> tantivy::Result<(C::Fruit, FacetCounts)> {
    match facets {
        true => searcher.search(query, &(top, FacetCollector)),
        false => Ok((searcher.search(query, &top)?, FacetCounts::default())),
    }
}

/// The product ids of `addresses`, in order. A segment's id column is opened
/// once for all its hits: opening one decodes its block headers, and doing it
/// per hit took 12 % of a search server's CPU.
fn product_ids(searcher: &Searcher, addresses: Vec<DocAddress>) -> tantivy::Result<Vec<u64>> {
    let mut ids = Vec::with_capacity(addresses.len());
    let mut columns: Vec<Option<Column<u64>>> = vec![None; searcher.segment_readers().len()];
    for address in addresses {
        let column = match &mut columns[address.segment_ord as usize] {
            Some(column) => column,
            empty => empty.insert(searcher.segment_reader(address.segment_ord).fast_fields().u64("id")?),
        };
        ids.extend(column.first(address.doc_id));
    }
    Ok(ids)
}

/// Runs `query`: one page in `request`'s order, and the facet counts if asked.
pub fn run(searcher: &Searcher, query: &dyn Query, request: &SearchRequest) -> tantivy::Result<SearchResult> {
    let page = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
    let has_text = request.q.as_deref().is_some_and(|q| !q.trim().is_empty());
    let facets = request.facets;
    let (addresses, facets): (Vec<DocAddress>, FacetCounts) = match (request.sort, has_text) {
        (SortOrder::Relevance, true) => {
            let (hits, facets) = collect(searcher, query, page.order_by_score(), facets)?;
            (hits.into_iter().map(|(_, address)| address).collect(), facets)
        }
        (SortOrder::PriceAsc | SortOrder::PriceDesc, _) => {
            let order = if request.sort == SortOrder::PriceAsc {
                Order::Asc
            } else {
                Order::Desc
            };
            let by_price = page.order_by_fast_field::<u64>("price", order);
            let (hits, facets) = collect(searcher, query, by_price, facets)?;
            (hits.into_iter().map(|(_, address)| address).collect(), facets)
        }
        (SortOrder::Newest | SortOrder::Relevance, _) => {
            let by_age = page.order_by_fast_field::<u64>("created_at", Order::Desc);
            let (hits, facets) = collect(searcher, query, by_age, facets)?;
            (hits.into_iter().map(|(_, address)| address).collect(), facets)
        }
    };
    Ok(SearchResult {
        ids: product_ids(searcher, addresses)?,
        facets,
    })
}
