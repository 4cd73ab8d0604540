use proptest::prelude::*;

use super::*;

fn fields(sku: &str, category_id: CategoryId) -> ProductFields {
    ProductFields {
        sku: sku.into(),
        name: format!("Product {sku}"),
        description: String::new(),
        category_id,
        price: 1_000,
        currency: "EUR".into(),
        attributes: BTreeMap::new(),
        seller_id: None,
        images: Vec::new(),
        status: ProductStatus::Active,
    }
}

fn with_categories(names: &[(&str, Option<CategoryId>)]) -> CatalogState {
    let mut state = CatalogState::default();
    for (name, parent) in names {
        let event = state
            .create_category(name.to_string(), name.to_lowercase(), *parent)
            .unwrap();
        state.apply(&event);
    }
    state
}

#[test]
fn moving_a_category_under_its_descendant_is_refused() {
    // 1 Clothing > 2 Shirts > 3 Polo
    let state = with_categories(&[("Clothing", None), ("Shirts", Some(1)), ("Polo", Some(2))]);
    let to_grandchild = CategoryPatch {
        parent_id: Some(Some(3)),
        ..CategoryPatch::default()
    };
    assert_eq!(
        state.update_category(1, to_grandchild),
        Err(CatalogError::Cycle { id: 1, parent_id: 3 })
    );
    let to_itself = CategoryPatch {
        parent_id: Some(Some(2)),
        ..CategoryPatch::default()
    };
    assert_eq!(
        state.update_category(2, to_itself),
        Err(CatalogError::Cycle { id: 2, parent_id: 2 })
    );
    let to_root = CategoryPatch {
        parent_id: Some(None),
        ..CategoryPatch::default()
    };
    assert!(state.update_category(3, to_root).is_ok());
}

#[test]
fn names_are_unique_ignoring_case_and_slugs_exactly() {
    let state = with_categories(&[("Shoes", None)]);
    assert_eq!(
        state.create_category("SHOES".into(), "other".into(), None),
        Err(CatalogError::DuplicateName("SHOES".into()))
    );
    assert_eq!(
        state.create_category("Boots".into(), "shoes".into(), None),
        Err(CatalogError::DuplicateSlug("shoes".into()))
    );
    let rename_to_itself = CategoryPatch {
        name: Some("Shoes".into()),
        ..CategoryPatch::default()
    };
    assert!(state.update_category(1, rename_to_itself).is_ok());
}

#[test]
fn a_category_with_children_or_products_cannot_be_deleted() {
    let mut state = with_categories(&[("Home", None), ("Kitchen", Some(1))]);
    assert_eq!(
        state.delete_category(1),
        Err(CatalogError::NotEmpty {
            id: 1,
            children: 1,
            products: 0
        })
    );
    state.apply(&state.create_product(fields("PAN-1", 2), 5).unwrap());
    assert_eq!(
        state.delete_category(2),
        Err(CatalogError::NotEmpty {
            id: 2,
            children: 0,
            products: 1
        })
    );
}

#[test]
fn a_sku_belongs_to_one_product() {
    let mut state = with_categories(&[("Home", None)]);
    state.apply(&state.create_product(fields("PAN-1", 1), 5).unwrap());
    assert_eq!(
        state.create_product(fields("PAN-1", 1), 6),
        Err(CatalogError::DuplicateSku {
            sku: "PAN-1".into(),
            product_id: 1
        })
    );
    let rename = ProductPatch {
        name: Some("Pan".into()),
        ..ProductPatch::default()
    };
    let CatalogEvent::ProductUpdated(updated) = state.update_product(1, rename, 9).unwrap() else {
        panic!("expected an update")
    };
    assert_eq!((updated.created_at, updated.updated_at), (5, 9));
    assert_eq!(
        (updated.fields.name.as_str(), updated.fields.sku.as_str()),
        ("Pan", "PAN-1")
    );
    assert_eq!(
        state.create_product(fields("PAN-2", 99), 6),
        Err(CatalogError::CategoryNotFound("99".into()))
    );
}

proptest! {
    #[test]
    fn random_creates_and_moves_never_make_a_cycle(
        ops in proptest::collection::vec((0u64..12, proptest::option::of(0u64..12)), 1..60)
    ) {
        let mut state = CatalogState::default();
        for (n, (target, parent)) in ops.iter().enumerate() {
            let event = if *target == 0 || state.category(*target).is_none() {
                state.create_category(format!("c{n}"), format!("c{n}"), *parent)
            } else {
                state.update_category(*target, CategoryPatch { parent_id: Some(*parent), ..CategoryPatch::default() })
            };
            if let Ok(event) = event {
                state.apply(&event);
            }
            for category in state.categories() {
                let path = state.path(category.id);
                prop_assert!(path.len() <= state.categories().count(), "a path never loops");
                prop_assert_eq!(path.first().map(|c| c.parent_id), Some(None), "every path starts at a root");
            }
        }
        let mut bytes = Vec::new();
        crate::storage::codec::encode_into(&state, &mut bytes).unwrap();
        let (mut restored, _) = crate::storage::codec::decode_one::<CatalogState>(&bytes).unwrap();
        restored.rebuild_indexes();
        prop_assert_eq!(restored.index.slugs, state.index.slugs);
        prop_assert_eq!(restored.index.names, state.index.names);
    }
}

#[test]
fn an_update_records_a_moved_price_and_an_archiving_as_facts() {
    let mut state = with_categories(&[("Home", None)]);
    state.apply(&state.create_product(fields("PAN-1", 1), 5).unwrap());
    let facts_of = |state: &CatalogState, patch: ProductPatch| {
        let CatalogEvent::ProductUpdated(updated) = state.update_product(1, patch, 9).unwrap() else {
            panic!("expected an update")
        };
        state.facts_of_update(&updated)
    };
    let rename = ProductPatch {
        name: Some("Pan".into()),
        ..ProductPatch::default()
    };
    assert_eq!(facts_of(&state, rename), []);
    let cheaper_and_archived = ProductPatch {
        price: Some(800),
        status: Some(ProductStatus::Archived),
        ..ProductPatch::default()
    };
    let facts = facts_of(&state, cheaper_and_archived.clone());
    assert_eq!(
        facts,
        [
            CatalogEvent::PriceChanged {
                id: 1,
                from: 1_000,
                to: 800,
                currency: "EUR".into()
            },
            CatalogEvent::ProductArchived { id: 1 }
        ]
    );
    // Once archived at that price, the same patch is no news.
    let CatalogEvent::ProductUpdated(updated) = state.update_product(1, cheaper_and_archived.clone(), 9).unwrap()
    else {
        panic!("expected an update")
    };
    let version = state.version();
    state.apply(&CatalogEvent::ProductUpdated(updated));
    for fact in &facts {
        state.apply(fact);
    }
    assert_eq!(state.version(), version + 3);
    assert_eq!(state.product(1).unwrap().fields.price, 800);
    assert_eq!(facts_of(&state, cheaper_and_archived), []);
}
