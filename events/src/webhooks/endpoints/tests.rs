use super::*;

fn endpoint(id: &str) -> Endpoint {
    Endpoint {
        id: id.into(),
        url: "https://erp.example/hooks".into(),
        event_types: vec!["order.placed".into()],
        description: String::new(),
        status: Status::Enabled,
        secrets: vec![Secret {
            key: "whsec_one".into(),
            until: None,
        }],
        created_at: 1,
        updated_at: 1,
    }
}

fn with(ids: &[&str]) -> Endpoints {
    let mut endpoints = Endpoints::default();
    for id in ids {
        let event = endpoints.create(endpoint(id)).unwrap();
        endpoints.apply(&event);
    }
    endpoints
}

#[test]
fn a_rotation_keeps_the_old_secret_signing_until_the_overlap_ends() {
    let mut endpoints = with(&["wh_1"]);
    let event = endpoints.rotate("wh_1", "whsec_two".into(), 100, 10).unwrap();
    endpoints.apply(&event);
    let rotated = &endpoints.by_id["wh_1"];
    assert_eq!(
        rotated.signing_secrets(50).collect::<Vec<_>>(),
        ["whsec_two", "whsec_one"]
    );
    assert_eq!(rotated.signing_secrets(100).collect::<Vec<_>>(), ["whsec_two"]);
    // A second rotation cuts every older overlap short and forgets what expired.
    let event = endpoints.rotate("wh_1", "whsec_three".into(), 60, 200).unwrap();
    endpoints.apply(&event);
    let keys: Vec<_> = endpoints.by_id["wh_1"].secrets.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["whsec_three"], "whsec_two's overlap ended at 60 < now");
}

#[test]
fn disabling_records_why_and_a_change_to_nothing_is_no_event() {
    let mut endpoints = with(&["wh_1"]);
    let off = EndpointPatch {
        enabled: Some(false),
        ..EndpointPatch::default()
    };
    let event = endpoints.change("wh_1", off.clone(), "410 Gone", 7).unwrap().unwrap();
    endpoints.apply(&event);
    assert_eq!(
        endpoints.by_id["wh_1"].status,
        Status::Disabled {
            reason: "410 Gone".into(),
            at: 7
        }
    );
    assert_eq!(endpoints.change("wh_1", off, "again", 8).unwrap(), None);
    assert_eq!(
        endpoints.change("wh_9", EndpointPatch::default(), "", 8),
        Err(EndpointError::NotFound("wh_9".into()))
    );
}

#[test]
fn types_filter_deliveries_and_the_count_is_capped() {
    let mut one = endpoint("wh_1");
    assert!(one.wants("order.placed") && !one.wants("order.shipped"));
    one.event_types = vec![ALL_TYPES.into()];
    assert!(one.wants("order.shipped"));
    let ids: Vec<String> = (0..MAX_ENDPOINTS).map(|n| format!("wh_{n}")).collect();
    let full = with(&ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(full.create(endpoint("wh_x")), Err(EndpointError::TooMany));
    assert_eq!(full.create(endpoint("wh_1")), Err(EndpointError::Exists("wh_1".into())));
}
