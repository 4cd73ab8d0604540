use super::*;

fn line(sku: &str, qty: u32, price: u64) -> Line {
    Line {
        sku: sku.into(),
        name: format!("product {sku}"),
        qty,
        unit_price: price,
        currency: "EUR".into(),
        category_path: vec![1],
    }
}

fn cart(owner: Option<&str>) -> CartState {
    let mut cart = CartState::default();
    cart.apply(&cart.create(owner.map(str::to_string)).unwrap().unwrap());
    cart
}

fn run(cart: &mut CartState, decide: impl FnOnce(&CartState) -> Result<CartEvent, CartError>) {
    let event = decide(cart).expect("accepted");
    cart.apply(&event);
}

#[test]
fn adding_sums_quantities_and_every_change_bumps_the_version() {
    let mut cart = cart(None);
    assert_eq!(cart.version(), 1);
    run(&mut cart, |c| c.add(line("A", 2, 500)));
    run(&mut cart, |c| c.add(line("A", 3, 500)));
    run(&mut cart, |c| c.add(line("B", 1, 100)));
    assert_eq!(
        cart.lines().iter().map(|l| (l.sku.as_str(), l.qty)).collect::<Vec<_>>(),
        [("A", 5), ("B", 1)]
    );
    run(&mut cart, |c| c.set_qty("A", 1));
    run(&mut cart, |c| c.remove("B"));
    assert_eq!(cart.version(), 6);
    assert_eq!(cart.lines().len(), 1);
}

#[test]
fn limits_are_enforced() {
    let mut cart = cart(None);
    assert_eq!(cart.add(line("A", 0, 1)), Err(CartError::QtyOutOfRange));
    assert_eq!(cart.add(line("A", MAX_QTY + 1, 1)), Err(CartError::QtyOutOfRange));
    run(&mut cart, |c| c.add(line("A", MAX_QTY, 1)));
    assert_eq!(
        cart.add(line("A", 1, 1)),
        Err(CartError::LineFull { in_cart: MAX_QTY }),
        "the sum is capped too, and says so"
    );
    assert_eq!(cart.set_qty("A", 0), Err(CartError::QtyOutOfRange));
    assert_eq!(cart.set_qty("Z", 1), Err(CartError::LineNotFound("Z".into())));
    let mut dollars = line("USD", 1, 1);
    dollars.currency = "USD".into();
    assert!(matches!(cart.add(dollars), Err(CartError::CurrencyMismatch { .. })));
    for n in 1..MAX_LINES {
        run(&mut cart, |c| c.add(line(&format!("S{n}"), 1, 1)));
    }
    assert_eq!(cart.add(line("ONE-MORE", 1, 1)), Err(CartError::TooManyLines));
}

#[test]
fn owners_versions_and_closed_carts_are_checked() {
    let mut mine = cart(Some("u1"));
    assert_eq!(mine.check_reader(Some("u1")), Ok(()));
    assert_eq!(mine.check_reader(None), Err(CartError::Forbidden));
    assert_eq!(mine.check_reader(Some("u2")), Err(CartError::Forbidden));
    assert_eq!(mine.check_writer(Some("u1"), Some(1)), Ok(()));
    assert_eq!(
        mine.check_writer(Some("u1"), Some(0)),
        Err(CartError::VersionMismatch { current: 1 })
    );
    assert_eq!(
        mine.create(Some("u1".into())),
        Ok(None),
        "creation is idempotent for its owner"
    );
    assert_eq!(mine.create(Some("u2".into())), Err(CartError::Forbidden));
    mine.apply(&CartEvent::Closed { into: "x".into() });
    assert_eq!(mine.check_writer(Some("u1"), None), Err(CartError::Closed));
    assert_eq!(CartState::default().check_reader(None), Err(CartError::NotFound));
}

#[test]
fn merging_adds_capped_quantities_once() {
    let mut user = cart(Some("u1"));
    run(&mut user, |c| c.add(line("A", 998, 100)));
    let guest = [line("A", 5, 100), line("B", 2, 300)];
    let event = user.merge("g1", &guest).expect("first merge");
    user.apply(&event);
    assert_eq!(
        user.lines().iter().map(|l| (l.sku.as_str(), l.qty)).collect::<Vec<_>>(),
        [("A", MAX_QTY), ("B", 2)]
    );
    assert_eq!(user.merge("g1", &guest), None, "a retried merge changes nothing");
}

#[test]
fn repricing_changes_only_what_differs() {
    let mut cart = cart(None);
    run(&mut cart, |c| c.add(line("A", 2, 500)));
    assert_eq!(cart.reprice("A", "product A", 500, "EUR"), None);
    let event = cart.reprice("A", "product A", 450, "EUR").expect("price changed");
    cart.apply(&event);
    assert_eq!(cart.lines()[0].unit_price, 450);
    assert_eq!(cart.lines()[0].qty, 2);
    assert_eq!(cart.reprice("Z", "z", 1, "EUR"), None);
}
