use proptest::prelude::*;

use super::*;

#[test]
fn emails_are_trimmed_case_folded_and_checked() {
    assert_eq!(
        normalize_email("  Ada.Lovelace@Example.COM "),
        Ok("ada.lovelace@example.com".to_string())
    );
    for bad in [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "a da@example.com",
        "ada@-x.com",
        "ada@x..com",
        // What the mailer cannot send to (issue 12): lists, angle brackets,
        // comments, address literals, bidi controls.
        "a,b@example.com",
        "a<b@example.com",
        "a;b@example.com",
        "(c)a@example.com",
        "a@[127.0.0.1]",
        "ada\u{202E}moc.elpmaxe@example.com",
        "ada@exam\u{2066}ple.com",
        "\"ada\"@example.com x",
    ] {
        assert!(normalize_email(bad).is_err(), "{bad:?}");
    }
    assert!(
        normalize_email(&format!("{}@example.com", "a".repeat(65))).is_err(),
        "local part over 64"
    );
    for good in ["ada+shop@example.com", "o'brien@example.co.uk", "jürgen@müller.de"] {
        assert!(normalize_email(good).is_ok(), "{good:?}");
    }
}

#[test]
fn passwords_follow_the_policy() {
    assert_eq!(check_password("correct horse"), Ok(()));
    assert_eq!(check_password("short"), Err(AccountError::WeakPassword));
    assert_eq!(
        check_password("          "),
        Err(AccountError::WeakPassword),
        "all whitespace"
    );
    assert_eq!(check_password(&"x".repeat(129)), Err(AccountError::WeakPassword));
    assert_eq!(
        check_password(&"\0".repeat(10)),
        Err(AccountError::WeakPassword),
        "NULs"
    );
    assert_eq!(
        check_password("correct\nhorse"),
        Err(AccountError::WeakPassword),
        "a newline"
    );
    assert_eq!(
        check_password(&"é".repeat(10)),
        Ok(()),
        "counted in characters, not bytes"
    );
}

#[test]
fn roles_are_ordered() {
    assert!(Role::Admin.allows(Role::Operator));
    assert!(Role::Operator.allows(Role::Customer));
    assert!(!Role::Customer.allows(Role::Operator));
    assert!(!Role::Operator.allows(Role::Admin));
    for role in [Role::Customer, Role::Operator, Role::Admin] {
        assert_eq!(Role::from_name(role.name()), Some(role));
    }
    assert_eq!(Role::from_name("Admin"), None);
}

fn digest(n: u8) -> TokenDigest {
    [n; 32]
}

fn started() -> RefreshFamily {
    let mut family = RefreshFamily::default();
    family.apply(&FamilyEvent::Started {
        user: "u1".to_string(),
        current: digest(1),
        expires_at: 1_000,
    });
    family
}

#[test]
fn a_token_rotates_once_and_its_reuse_revokes_the_family() {
    let mut family = started();
    let (event, result) = family.rotate(&digest(1), digest(2), 10, 2_000);
    assert_eq!(result, Ok(()));
    family.apply(&event.unwrap());

    // The thief (or a replay) presents the old token: the whole family goes.
    let (event, result) = family.rotate(&digest(1), digest(3), 20, 3_000);
    assert_eq!(result, Err(RefreshError::Reused));
    family.apply(&event.unwrap());
    assert_eq!(family.revoked(), Some(RevokeReason::Reuse));
    // The legitimate holder's current token no longer works either.
    assert_eq!(
        family.rotate(&digest(2), digest(4), 30, 4_000).1,
        Err(RefreshError::Reused)
    );
}

#[test]
fn expired_unknown_and_logged_out_tokens_are_invalid() {
    let family = started();
    assert_eq!(
        family.rotate(&digest(9), digest(2), 10, 2_000),
        (None, Err(RefreshError::Invalid))
    );
    assert_eq!(
        family.rotate(&digest(1), digest(2), 1_000, 2_000),
        (None, Err(RefreshError::Invalid)),
        "expired"
    );
    let mut family = started();
    family.apply(&family.logout().unwrap());
    assert_eq!(family.logout(), None, "logout is idempotent");
    assert_eq!(family.revoked(), Some(RevokeReason::Logout));
    assert!(family.rotate(&digest(1), digest(2), 10, 2_000).1.is_err());
}

proptest! {
    /// Whatever sequence of refreshes and replays happens, at most one token of a
    /// family is usable at any time, and once a replay was seen none is.
    #[test]
    fn at_most_one_token_is_usable_and_a_replay_ends_the_family(
        presented in proptest::collection::vec(0u8..8, 1..40)
    ) {
        let mut family = started();
        let mut next = 100u8;
        let mut replay_seen = false;
        for (step, token) in presented.iter().enumerate() {
            let candidate = if *token == 0 { digest(next.wrapping_sub(1)) } else { digest(*token) };
            let now = step as u64;
            let (event, result) = family.rotate(&candidate, digest(next), now, 10_000);
            if result == Err(RefreshError::Reused) {
                replay_seen = true;
            }
            if let Some(event) = event {
                family.apply(&event);
            }
            if result.is_ok() {
                prop_assert!(!replay_seen, "no refresh succeeds after a replay");
                next = next.wrapping_add(1);
            }
            let usable = (0..=255u8).filter(|d| family.rotate(&digest(*d), digest(0), now, 10_000).1.is_ok()).count();
            prop_assert!(usable <= 1);
            if replay_seen {
                prop_assert_eq!(usable, 0);
            }
        }
    }
}

#[test]
fn an_email_is_claimed_by_one_user_unless_the_holder_is_stale() {
    let mut claim = EmailClaim::default();
    let event = claim.claim("u1", None).expect("free").expect("a change");
    claim.apply(&event);
    assert_eq!(claim.claim("u1", None), Ok(None), "claiming again is a no-op");
    assert_eq!(claim.claim("u2", None), Err(ClaimTaken { owner: "u1".into() }));
    assert_eq!(
        claim.claim("u2", Some("u3")).map(|_| ()),
        Err(ClaimTaken { owner: "u1".into() })
    );
    claim.apply(&claim.claim("u2", Some("u1")).expect("stale holder").expect("a change"));
    assert_eq!(claim.owner(), Some("u2"));
    assert_eq!(claim.release("u1"), None, "only the holder releases");
    claim.apply(&claim.release("u2").expect("holder"));
    assert_eq!(claim.owner(), None);
}

#[test]
fn a_family_knows_its_user_and_every_token_it_issued() {
    let mut family = started();
    assert_eq!(family.user(), Some("u1"));
    let (event, _) = family.rotate(&digest(1), digest(2), 10, 2_000);
    family.apply(&event.expect("rotated"));
    assert!(family.issued(&digest(1)) && family.issued(&digest(2)));
    assert!(!family.issued(&digest(3)));
}
