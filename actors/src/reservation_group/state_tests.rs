use super::*;

fn lines() -> Vec<GroupLine> {
    vec![
        GroupLine {
            sku: "A".into(),
            qty: 2,
        },
        GroupLine {
            sku: "B".into(),
            qty: 1,
        },
    ]
}

fn run(
    group: &mut ReservationGroup,
    command: GroupCommand,
    now: UnixMillis,
) -> (Result<Step, GroupError>, Vec<GroupEvent>) {
    let mut events = Vec::new();
    group.settle(now, &mut events);
    let step = group.decide(command, now, &mut events);
    (step, events)
}

fn reserve() -> GroupCommand {
    GroupCommand::Reserve {
        lines: lines(),
        ttl_ms: 1_000,
        driver: 1,
    }
}

fn commit(driver: Driver) -> GroupCommand {
    GroupCommand::Commit { driver }
}

fn release(driver: Driver) -> GroupCommand {
    GroupCommand::Release { driver }
}

fn held(now: UnixMillis) -> ReservationGroup {
    let mut group = ReservationGroup::new("g1");
    assert_eq!(run(&mut group, reserve(), now).0, Ok(Step::Reserve));
    assert_eq!(
        run(
            &mut group,
            GroupCommand::Reserved {
                driver: 1,
                all_held: true
            },
            now
        )
        .0,
        Ok(Step::Answer { created: true })
    );
    group
}

#[test]
fn a_reservation_records_its_intent_before_the_skus_are_asked() {
    let mut group = ReservationGroup::new("g1");
    let (step, events) = run(&mut group, reserve(), 10);
    assert_eq!(step, Ok(Step::Reserve));
    assert_eq!(
        events,
        vec![GroupEvent::ReservingStarted {
            lines: lines(),
            expires_at: 1_010
        }]
    );
    assert_eq!(group.status(), Some(GroupStatus::Reserving));
    assert_eq!(group.sku_reservation_id(), "group:g1");
}

#[test]
fn a_second_request_waits_while_a_step_is_carried_out() {
    let mut group = ReservationGroup::new("g1");
    run(&mut group, reserve(), 0).0.unwrap();
    assert_eq!(
        run(&mut group, reserve(), 1).0,
        Err(GroupError::InProgress("g1".into()))
    );
    assert_eq!(
        run(&mut group, release(2), 1).0,
        Err(GroupError::InProgress("g1".into()))
    );
}

#[test]
fn a_step_cut_short_is_taken_up_by_the_next_request() {
    let mut group = ReservationGroup::new("g1");
    run(&mut group, reserve(), 0).0.unwrap();
    run(&mut group, GroupCommand::Paused { driver: 1 }, 1).0.unwrap();
    assert_eq!(run(&mut group, reserve(), 2).0, Ok(Step::Reserve), "resumed");
    let restored: ReservationGroup = serde_json::from_str(&serde_json::to_string(&group).unwrap()).unwrap();
    let mut restored = restored;
    assert_eq!(
        run(&mut restored, reserve(), 3).0,
        Ok(Step::Reserve),
        "after a restart nobody drives"
    );
}

#[test]
fn a_held_group_replays_and_refuses_other_lines() {
    let mut group = held(0);
    assert_eq!(run(&mut group, reserve(), 5).0, Ok(Step::Answer { created: false }));
    let other = GroupCommand::Reserve {
        lines: vec![GroupLine {
            sku: "A".into(),
            qty: 3,
        }],
        ttl_ms: 1_000,
        driver: 3,
    };
    assert_eq!(run(&mut group, other, 5).0, Err(GroupError::Conflict("g1".into())));
}

#[test]
fn a_refused_group_holds_nothing_and_can_be_tried_again() {
    let mut group = ReservationGroup::new("g1");
    run(&mut group, reserve(), 0).0.unwrap();
    let (step, events) = run(
        &mut group,
        GroupCommand::Reserved {
            driver: 1,
            all_held: false,
        },
        1,
    );
    assert_eq!(step, Ok(Step::Answer { created: false }));
    assert_eq!(events, vec![GroupEvent::Refused]);
    assert_eq!(run(&mut group, commit(2), 2).0, Err(GroupError::NotFound("g1".into())));
    assert_eq!(run(&mut group, reserve(), 3).0, Ok(Step::Reserve));
}

#[test]
fn commit_is_recorded_before_selling_and_repeats_as_a_replay() {
    let mut group = held(0);
    let (step, events) = run(&mut group, commit(2), 5);
    assert_eq!((step, events), (Ok(Step::Commit), vec![GroupEvent::CommitStarted]));
    run(&mut group, GroupCommand::Sold { driver: 2 }, 6).0.unwrap();
    assert_eq!(group.status(), Some(GroupStatus::Committed));
    assert_eq!(run(&mut group, commit(2), 7).0, Ok(Step::Answer { created: false }));
    assert_eq!(
        run(&mut group, release(2), 7).0,
        Err(GroupError::Committed("g1".into()))
    );
    assert_eq!(run(&mut group, reserve(), 7).0, Err(GroupError::Committed("g1".into())));
}

#[test]
fn a_commit_cut_short_never_expires_and_is_resumed() {
    let mut group = held(0);
    run(&mut group, commit(2), 5).0.unwrap();
    run(&mut group, GroupCommand::Paused { driver: 2 }, 6).0.unwrap();
    let (step, events) = run(&mut group, commit(2), 5_000);
    assert_eq!(step, Ok(Step::Commit));
    assert!(events.is_empty(), "a sale under way does not expire");
}

#[test]
fn a_hold_expires_at_its_deadline_and_is_then_not_found() {
    let mut group = held(0);
    assert_eq!(group.next_deadline(), Some(1_000));
    let (step, events) = run(&mut group, commit(2), 1_000);
    assert_eq!(step, Err(GroupError::NotFound("g1".into())));
    assert_eq!(events, vec![GroupEvent::Expired]);
    assert_eq!(
        run(&mut group, release(2), 1_001).0,
        Ok(Step::Answer { created: false })
    );
}

#[test]
fn release_gives_back_once_and_then_replays() {
    let mut group = held(0);
    assert_eq!(run(&mut group, release(2), 1).0, Ok(Step::Release));
    run(&mut group, GroupCommand::Given { driver: 2 }, 2).0.unwrap();
    assert_eq!(group.status(), Some(GroupStatus::Released));
    assert_eq!(run(&mut group, release(2), 3).0, Ok(Step::Answer { created: false }));
    assert_eq!(run(&mut group, commit(2), 3).0, Err(GroupError::NotFound("g1".into())));
}

#[test]
fn an_unknown_group_is_not_found() {
    let mut group = ReservationGroup::new("g1");
    for command in [GroupCommand::Get, commit(2), release(2)] {
        assert_eq!(run(&mut group, command, 0).0, Err(GroupError::NotFound("g1".into())));
    }
}

#[test]
fn a_stale_request_reporting_after_a_restart_changes_nothing() {
    let mut group = ReservationGroup::new("g1");
    run(&mut group, reserve(), 0).0.unwrap();
    // The actor restarts: the request that began the step (driver 1) runs on.
    let mut group: ReservationGroup = serde_json::from_str(&serde_json::to_string(&group).unwrap()).unwrap();
    assert_eq!(
        run(&mut group, release(5), 1).0,
        Ok(Step::Release),
        "taken up by another request"
    );
    let (step, events) = run(
        &mut group,
        GroupCommand::Reserved {
            driver: 1,
            all_held: true,
        },
        2,
    );
    assert_eq!((step, events), (Ok(Step::Answer { created: false }), vec![]));
    run(&mut group, GroupCommand::Paused { driver: 1 }, 2).0.unwrap();
    assert_eq!(
        run(&mut group, release(6), 3).0,
        Err(GroupError::InProgress("g1".into())),
        "5 still drives"
    );
    run(&mut group, GroupCommand::Given { driver: 5 }, 4).0.unwrap();
    assert_eq!(group.status(), Some(GroupStatus::Released));
}

#[test]
fn a_failed_sale_records_what_it_sold_before_taking_it_back_and_spends_the_id() {
    let mut group = held(0);
    run(&mut group, commit(2), 5).0.unwrap();
    let failed = GroupCommand::SaleFailed {
        driver: 2,
        sold: vec!["A".into()],
    };
    let (step, events) = run(&mut group, failed, 6);
    assert_eq!(step, Ok(Step::Return));
    assert_eq!(events, vec![GroupEvent::ReturnStarted { sold: vec!["A".into()] }]);
    run(&mut group, GroupCommand::Paused { driver: 2 }, 7).0.unwrap();
    assert_eq!(
        run(&mut group, commit(3), 8).0,
        Ok(Step::Return),
        "a repeat finishes the return, never sells"
    );
    assert_eq!(group.returns(), ["A".to_string()]);
    run(&mut group, GroupCommand::Returned { driver: 3 }, 9).0.unwrap();
    assert_eq!(group.status(), Some(GroupStatus::Unsold));
    assert_eq!(run(&mut group, reserve(), 10).0, Err(GroupError::Unsold("g1".into())));
    assert_eq!(run(&mut group, commit(4), 10).0, Err(GroupError::Unsold("g1".into())));
    assert_eq!(run(&mut group, release(4), 10).0, Ok(Step::Answer { created: false }));
}

#[test]
fn a_release_cut_short_is_finished_by_a_release_not_a_reservation() {
    let mut group = held(0);
    run(&mut group, release(2), 1).0.unwrap();
    run(&mut group, GroupCommand::Paused { driver: 2 }, 2).0.unwrap();
    assert_eq!(run(&mut group, reserve(), 3).0, Err(GroupError::Releasing("g1".into())));
    assert_eq!(run(&mut group, release(3), 3).0, Ok(Step::Release));
}
