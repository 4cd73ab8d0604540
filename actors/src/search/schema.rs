//! The search index's fields.
//!
//! Text fields use tantivy's English stemming tokenizer; everything used to
//! filter, sort or count is a fast field. Nothing but the product id is read back:
//! results are loaded from the catalog.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STRING,
};

/// Separates an attribute's key from its value in the `attr` field.
pub const ATTR_SEPARATOR: char = '\u{1f}';

/// Handles of every field.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Product id: deletes and results.
    pub id: Field,
    /// Product name: ranks name matches higher.
    pub name: Field,
    /// Name, description and attribute values in one field: what a query's
    /// words must all match. One field keeps a word one posting list, where
    /// a word over three fields was a union that every seek of the
    /// intersection had to refill.
    pub text: Field,
    /// The product's category and its ancestors (multi-valued).
    pub category: Field,
    /// Price in minor units.
    pub price: Field,
    /// Creation time, for `newest`.
    pub created_at: Field,
    /// `key␟value` per attribute (multi-valued), for filters and facet counts.
    pub attr: Field,
}

fn stemmed_text() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("en_stem")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

/// Builds the schema.
pub fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let filterable = || NumericOptions::default() | INDEXED | FAST;
    let fields = Fields {
        id: builder.add_u64_field("id", filterable()),
        name: builder.add_text_field("name", stemmed_text()),
        text: builder.add_text_field("text", stemmed_text()),
        category: builder.add_u64_field("category", filterable()),
        price: builder.add_u64_field("price", filterable()),
        created_at: builder.add_u64_field("created_at", NumericOptions::default() | FAST),
        attr: builder.add_text_field("attr", STRING | FAST),
    };
    (builder.build(), fields)
}

/// The `attr` term of one attribute.
pub fn attr_term(key: &str, value: &str) -> String {
    format!("{key}{ATTR_SEPARATOR}{value}")
}
