//! A collector that counts, over every matching document, the categories
//! (each product counts for its category and all its ancestors), every attribute
//! value, and fixed price buckets.

use std::collections::{BTreeMap, HashMap};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::schema::ATTR_SEPARATOR;

/// Lower bounds of the price buckets, in minor units; the last is open-ended.
pub const PRICE_BUCKETS: [u64; 8] = [0, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000];

/// Counts over a whole result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacetCounts {
    /// Matching documents.
    pub total: u64,
    /// Category id → matching products in it or below it.
    pub categories: HashMap<u64, u64>,
    /// Attribute key → value → matching products.
    pub attributes: BTreeMap<String, BTreeMap<String, u64>>,
    /// Matching products per bucket of [`PRICE_BUCKETS`].
    pub price: [u64; PRICE_BUCKETS.len()],
}

impl FacetCounts {
    fn merge(&mut self, other: FacetCounts) {
        self.total += other.total;
        for (id, count) in other.categories {
            *self.categories.entry(id).or_default() += count;
        }
        for (key, values) in other.attributes {
            let mine = self.attributes.entry(key).or_default();
            for (value, count) in values {
                *mine.entry(value).or_default() += count;
            }
        }
        for (mine, theirs) in self.price.iter_mut().zip(other.price) {
            *mine += theirs;
        }
    }
}

/// The index of the bucket `price` falls in.
pub fn price_bucket(price: u64) -> usize {
    PRICE_BUCKETS.partition_point(|lower| *lower <= price) - 1
}

/// Collects [`FacetCounts`].
pub struct FacetCollector;

/// Per-segment state of [`FacetCollector`].
pub struct SegmentFacets {
    price: Column<u64>,
    category: Column<u64>,
    attr: Option<StrColumn>,
    /// Count per term ordinal of `attr` in this segment.
    attr_counts: Vec<u64>,
    counts: FacetCounts,
}

impl Collector for FacetCollector {
    type Fruit = FacetCounts;
    type Child = SegmentFacets;

    fn for_segment(&self, _: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<SegmentFacets> {
        let fast = segment.fast_fields();
        let attr = fast.str("attr")?;
        let terms = attr.as_ref().map_or(0, |column| column.num_terms());
        Ok(SegmentFacets {
            price: fast.u64("price")?,
            category: fast.u64("category")?,
            attr,
            attr_counts: vec![0; terms],
            counts: FacetCounts::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let mut all = FacetCounts::default();
        for fruit in fruits {
            all.merge(fruit);
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.counts.total += 1;
        if let Some(price) = self.price.first(doc) {
            self.counts.price[price_bucket(price)] += 1;
        }
        for category in self.category.values_for_doc(doc) {
            *self.counts.categories.entry(category).or_default() += 1;
        }
        if let Some(attr) = &self.attr {
            for ord in attr.term_ords(doc) {
                self.attr_counts[ord as usize] += 1;
            }
        }
    }

    fn harvest(mut self) -> FacetCounts {
        if let Some(attr) = &self.attr {
            let mut term = String::new();
            for (ord, count) in self.attr_counts.iter().enumerate().filter(|(_, count)| **count > 0) {
                if !matches!(attr.ord_to_str(ord as u64, &mut term), Ok(true)) {
                    continue;
                }
                if let Some((key, value)) = term.split_once(ATTR_SEPARATOR) {
                    *self
                        .counts
                        .attributes
                        .entry(key.to_string())
                        .or_default()
                        .entry(value.to_string())
                        .or_default() += count;
                }
            }
        }
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_fall_in_the_bucket_whose_lower_bound_they_reach() {
        assert_eq!(price_bucket(0), 0);
        assert_eq!(price_bucket(999), 0);
        assert_eq!(price_bucket(1_000), 1);
        assert_eq!(price_bucket(99_999), 6);
        assert_eq!(price_bucket(u64::MAX), 7);
    }
}
