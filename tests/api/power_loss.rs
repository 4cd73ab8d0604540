//! Power loss, not just `kill -9`: the data dir sits on an ext4 file system on
//! a loop device, and the "power cut" is ext4's shutdown ioctl without a log
//! flush (`EXT4_IOC_SHUTDOWN`, `NOLOGFLUSH`, as xfstests' `godown`): every
//! write not yet fsynced is lost, as in a power failure. Under sync durability
//! no acknowledged reservation may be lost; under relaxed durability the same
//! test must see losses, which shows that it would catch a missing fsync.
//!
//! Needs root and a free loop device; without them the tests say so and
//! pass, unless `MERCATO_REQUIRE_ALL_TESTS` is set (CI sets it).

use std::path::Path;

use crate::disk::{disk, Disk};
use crate::durability::{check_levels, lost, reservations_until};
use crate::helpers::ServerProcess;

/// Reservation load on a server on `disk` with `env`, the power cut mid-load,
/// power back on; answers the acknowledged reservations lost.
async fn lost_at_power_cut(disk: &Disk, env: &[(&str, &str)]) -> (usize, Vec<String>, ServerProcess) {
    let data: &Path = &disk.data_dir();
    let server = ServerProcess::start(data, env);
    let acknowledged = reservations_until(server, |server| {
        disk.cut_power();
        server.kill();
    })
    .await;
    disk.power_on();
    let restarted = ServerProcess::start(data, env);
    let lost = lost(&restarted.api, &acknowledged).await;
    if lost.is_empty() {
        check_levels(&restarted.api, &acknowledged).await;
    }
    (acknowledged.len(), lost, restarted)
}

#[actix_web::test]
async fn no_acknowledged_reservation_is_lost_at_a_power_cut() {
    let Some(disk) = disk(256) else { return };
    let (acknowledged, lost, _server) = lost_at_power_cut(&disk, &[]).await;
    assert!(
        lost.is_empty(),
        "{} of {acknowledged} acknowledged reservations lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
}

#[actix_web::test]
async fn the_power_cut_test_sees_the_losses_of_relaxed_durability() {
    let Some(disk) = disk(256) else { return };
    let env = [
        ("MERCATO__STORAGE__DURABILITY", "relaxed"),
        ("MERCATO__STORAGE__FLUSH_EVERY_MS", "600000"),
    ];
    let (acknowledged, lost, _server) = lost_at_power_cut(&disk, &env).await;
    assert!(
        !lost.is_empty(),
        "relaxed durability lost none of {acknowledged} acknowledged reservations: the cut drops nothing?"
    );
}
