//! Demo data: a realistic catalog (a category tree, brands, colours, sizes,
//! prices, descriptions) and stock for every product, so that a new data dir is
//! a working shop at once.
//!
//! Generation is deterministic for a given `seed`, and seeding again skips what
//! exists, so `mercato seed` can be rerun safely.

use std::collections::BTreeMap;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use mercato_actors::catalog::{Catalog, CatalogCallError, CatalogError, ProductFields, ProductStatus};
use mercato_actors::sku::Inventory;

/// Requests in flight at once: enough for group commit to batch them.
const IN_FLIGHT: usize = 256;

/// A leaf category: name, slug, what its products are called, and what they
/// can be made of (a rain jacket is never ceramic).
type Leaf = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// The category tree: roots (name, slug, whether sizes apply) and their leaves.
const TREE: &[(&str, &str, bool, &[Leaf])] = &[
    (
        "Clothing",
        "clothing",
        true,
        &[
            (
                "Shirts",
                "shirts",
                &["shirt", "polo", "oxford shirt"],
                &["cotton", "linen", "organic cotton"],
            ),
            (
                "Trousers",
                "trousers",
                &["chinos", "jeans", "cargo trousers"],
                &["cotton", "denim", "cotton twill"],
            ),
            (
                "Jackets",
                "jackets",
                &["rain jacket", "bomber jacket", "parka"],
                &["recycled polyester", "nylon", "waxed cotton"],
            ),
            (
                "Knitwear",
                "knitwear",
                &["sweater", "cardigan", "hoodie"],
                &["wool", "merino wool", "cotton"],
            ),
        ],
    ),
    (
        "Shoes",
        "shoes",
        true,
        &[
            (
                "Sneakers",
                "sneakers",
                &["sneaker", "trainer"],
                &["leather", "canvas", "recycled polyester"],
            ),
            (
                "Boots",
                "boots",
                &["hiking boot", "chelsea boot"],
                &["leather", "suede"],
            ),
            (
                "Sandals",
                "sandals",
                &["sandal", "slide"],
                &["leather", "rubber", "cork"],
            ),
        ],
    ),
    (
        "Home",
        "home",
        false,
        &[
            (
                "Kitchen",
                "kitchen",
                &["kettle", "mug", "chef knife", "frying pan"],
                &["stainless steel", "ceramic", "cast iron"],
            ),
            (
                "Lighting",
                "lighting",
                &["desk lamp", "pendant light", "lantern"],
                &["brass", "oak", "aluminium"],
            ),
            (
                "Textiles",
                "textiles",
                &["blanket", "cushion", "towel"],
                &["wool", "linen", "cotton"],
            ),
        ],
    ),
    (
        "Outdoor",
        "outdoor",
        false,
        &[
            (
                "Camping",
                "camping",
                &["tent", "sleeping bag", "camping stove"],
                &["ripstop nylon", "recycled polyester", "aluminium"],
            ),
            (
                "Cycling",
                "cycling",
                &["bike light", "helmet", "saddle bag"],
                &["aluminium", "recycled plastic", "nylon"],
            ),
            (
                "Running",
                "running",
                &["running vest", "water bottle", "armband"],
                &["recycled polyester", "nylon", "silicone"],
            ),
        ],
    ),
    (
        "Electronics",
        "electronics",
        false,
        &[
            (
                "Audio",
                "audio",
                &["headphones", "speaker", "earbuds"],
                &["aluminium", "recycled plastic"],
            ),
            (
                "Cameras",
                "cameras",
                &["action camera", "instant camera"],
                &["aluminium", "polycarbonate"],
            ),
            (
                "Accessories",
                "electronics-accessories",
                &["charger", "cable", "power bank"],
                &["recycled plastic", "braided nylon", "aluminium"],
            ),
        ],
    ),
];
const BRANDS: &[&str] = &[
    "Acme",
    "Northwind",
    "Fjord",
    "Solstice",
    "Kestrel",
    "Marlow",
    "Tandem",
    "Orbit",
];
const COLOURS: &[&str] = &["black", "white", "navy", "red", "green", "grey", "sand", "olive"];
const SIZES: &[&str] = &["xs", "s", "m", "l", "xl"];
const ADJECTIVES: &[&str] = &[
    "classic", "light", "rugged", "soft", "compact", "everyday", "premium", "vintage", "slim", "warm",
];

/// Lowest seeded price and the step between seeded prices, in minor units.
const PRICE_FLOOR: u64 = 500;
const PRICE_STEP: u64 = 250;
/// Seeded prices are `PRICE_FLOOR + k * PRICE_STEP`, `k < PRICE_STEPS`.
const PRICE_STEPS: u64 = 400;

/// A search a shopper of the demo catalog might make, for the benchmarks: an
/// adjective and a product word of one root category, and two of three filters
/// (that root category, a colour, a price window of about a quarter of the
/// range). Drawn from the whole vocabulary: some 400 word pairs, 8 colours and
/// 400 price windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSearch {
    /// Two words.
    pub words: String,
    /// Root category slug, if filtered by it.
    pub category: Option<&'static str>,
    /// Colour, if filtered by it.
    pub colour: Option<&'static str>,
    /// Price window (minor units), if filtered by it.
    pub price: Option<(u64, u64)>,
}

/// The next [`SampleSearch`] from `random` (any generator: give it a bound,
/// get a number below it).
pub fn sample_search(random: &mut impl FnMut(u64) -> u64) -> SampleSearch {
    let mut index = |len: usize| random(len as u64) as usize;
    let (_, root, _, leaves) = TREE[index(TREE.len())];
    let (_, _, nouns, _) = leaves[index(leaves.len())];
    let adjective = ADJECTIVES[index(ADJECTIVES.len())];
    let noun = nouns[index(nouns.len())].rsplit(' ').next().unwrap_or_default();
    let colour = COLOURS[index(COLOURS.len())];
    let min = PRICE_FLOOR + random(PRICE_STEPS) * PRICE_STEP;
    let price = (min, min + PRICE_STEPS * PRICE_STEP / 4);
    let (category, colour, price) = match random(3) {
        0 => (Some(root), Some(colour), None),
        1 => (Some(root), None, Some(price)),
        _ => (None, Some(colour), Some(price)),
    };
    SampleSearch {
        words: format!("{adjective} {noun}"),
        category,
        colour,
        price,
    }
}

/// What a seeding run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// Categories created.
    pub categories: usize,
    /// Products created.
    pub products: usize,
    /// Products that existed already (same SKU).
    pub skipped: usize,
}

/// A small deterministic generator (xorshift), enough for demo data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

async fn category_id(
    catalog: &Catalog,
    name: &str,
    slug: &str,
    parent: Option<u64>,
) -> Result<(u64, bool), CatalogCallError> {
    match catalog
        .create_category(name.to_string(), slug.to_string(), parent)
        .await
    {
        Ok((category, _)) => Ok((category.id, true)),
        Err(CatalogCallError::Catalog(CatalogError::DuplicateSlug(_) | CatalogError::DuplicateName(_))) => {
            Ok((catalog.category_by_slug(slug.to_string()).await?.0.id, false))
        }
        Err(err) => Err(err),
    }
}

fn product_fields(n: usize, category_id: u64, sized: bool, leaf: Leaf, rng: &mut Rng) -> (ProductFields, u64) {
    let (_, _, nouns, materials) = leaf;
    let (brand, adjective, noun, colour) = (
        rng.pick(BRANDS),
        rng.pick(ADJECTIVES),
        rng.pick(nouns),
        rng.pick(COLOURS),
    );
    let material = rng.pick(materials);
    let mut attributes = BTreeMap::from([
        ("brand".to_string(), brand.to_string()),
        ("colour".to_string(), colour.to_string()),
        ("material".to_string(), material.to_string()),
    ]);
    if sized {
        attributes.insert("size".to_string(), rng.pick(SIZES).to_string());
    }
    let fields =
        ProductFields {
            sku: format!("DEMO-{n:07}"),
            name: format!("{brand} {adjective} {noun}"),
            description: format!(
            "{} {adjective} {colour} {noun} by {brand}, made of {material}. Built for daily use and easy to care for.",
            if adjective.starts_with(['a', 'e', 'i', 'o', 'u']) { "An" } else { "A" }
        ),
            category_id,
            price: PRICE_FLOOR + (rng.next() % PRICE_STEPS) * PRICE_STEP,
            currency: "EUR".to_string(),
            attributes,
            seller_id: None,
            // No pictures: the storefront draws a tile, and never links another host.
            images: Vec::new(),
            status: ProductStatus::Active,
        };
    (fields, rng.next() % 200)
}

/// Creates the category tree and `products` products with stock, `IN_FLIGHT` at a time.
pub async fn seed(catalog: &Catalog, inventory: &Inventory, products: usize, seed: u64) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    let mut leaves = Vec::new();
    for (name, slug, sized, children) in TREE {
        let (root, created) = category_id(catalog, name, slug, None).await?;
        report.categories += usize::from(created);
        for leaf in *children {
            let (child, child_slug, _, _) = *leaf;
            let (id, created) = category_id(catalog, child, child_slug, Some(root)).await?;
            report.categories += usize::from(created);
            leaves.push((id, *sized, *leaf));
        }
    }
    let mut rng = Rng(seed.max(1));
    let planned: Vec<(ProductFields, u64)> = (0..products)
        .map(|n| {
            let (category, sized, leaf) = leaves[(rng.next() % leaves.len() as u64) as usize];
            product_fields(n, category, sized, leaf, &mut rng)
        })
        .collect();
    let outcomes: Vec<bool> = stream::iter(planned)
        .map(|(fields, stock)| async move {
            let sku = fields.sku.clone();
            let created = match catalog.create_product(fields).await {
                Ok(_) => true,
                Err(CatalogCallError::Catalog(CatalogError::DuplicateSku { .. })) => false,
                Err(err) => return Err(anyhow::Error::from(err)),
            };
            if created {
                inventory.set_on_hand(&sku, stock).await?;
            }
            Ok(created)
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect()
        .await?;
    report.products = outcomes.iter().filter(|created| **created).count();
    report.skipped = outcomes.len() - report.products;
    catalog.search().commit().await?;
    Ok(report)
}
