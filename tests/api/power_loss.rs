//! Power loss, not just `kill -9`: the data dir sits on an ext4 file system on
//! a loop device, and the "power cut" is ext4's shutdown ioctl without a log
//! flush (`EXT4_IOC_SHUTDOWN`, `NOLOGFLUSH`, as xfstests' `godown`): every
//! write not yet fsynced is lost, as in a power failure. Under sync durability
//! no acknowledged reservation may be lost; under relaxed durability the same
//! test must see losses, which shows that it would catch a missing fsync.
//!
//! Needs root and a free loop device; without them the tests say so and
//! pass, unless `MERCATO_REQUIRE_POWER_LOSS` is set (CI sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::durability::{check_levels, lost, reservations_until};
use crate::helpers::ServerProcess;

/// `_IOR('X', 125, __u32)`.
const EXT4_IOC_SHUTDOWN: libc::c_ulong = 0x8004_587D;
/// Shut down without flushing the journal.
const EXT4_GOING_FLAGS_NOLOGFLUSH: u32 = 0x2;

/// An ext4 file system in an image file, mounted through a loop device.
struct Disk {
    device: String,
    mount: PathBuf,
    _dir: tempfile::TempDir,
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|err| format!("{program}: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

impl Disk {
    /// A fresh 256 MiB file system, or why there cannot be one here.
    fn new() -> Result<Disk, String> {
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root".into());
        }
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let image = dir.path().join("disk.img");
        std::fs::File::create(&image)
            .and_then(|file| file.set_len(256 << 20))
            .map_err(|err| err.to_string())?;
        let image = image.to_str().unwrap();
        run("mkfs.ext4", &["-q", "-F", image])?;
        let device = run("losetup", &["--find", "--show", image])?;
        let mount = dir.path().join("mnt");
        std::fs::create_dir(&mount).map_err(|err| err.to_string())?;
        let disk = Disk {
            device,
            mount,
            _dir: dir,
        };
        disk.mount()?;
        Ok(disk)
    }

    fn mount(&self) -> Result<String, String> {
        run("mount", &[&self.device, self.mount.to_str().unwrap()])
    }

    /// The data dir on it.
    fn data_dir(&self) -> PathBuf {
        self.mount.join("data")
    }

    /// Power off: what was not fsynced is gone, and the file system refuses
    /// all further I/O until it is mounted again.
    fn cut_power(&self) {
        let root = std::fs::File::open(&self.mount).unwrap();
        let flags = EXT4_GOING_FLAGS_NOLOGFLUSH;
        let done = unsafe { libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(&root), EXT4_IOC_SHUTDOWN, &flags) };
        assert_eq!(done, 0, "EXT4_IOC_SHUTDOWN: {}", std::io::Error::last_os_error());
    }

    /// Power on: unmount and mount again (the journal is replayed).
    fn power_on(&self) {
        run("umount", &[self.mount.to_str().unwrap()]).unwrap();
        self.mount().unwrap();
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        let _ = run("umount", &["-l", self.mount.to_str().unwrap()]);
        let _ = run("losetup", &["-d", &self.device]);
    }
}

/// A disk, or `None` (and why) where this machine cannot make one.
fn disk() -> Option<Disk> {
    match Disk::new() {
        Ok(disk) => Some(disk),
        Err(why) if std::env::var_os("MERCATO_REQUIRE_POWER_LOSS").is_none() => {
            eprintln!("power-loss test not run: {why}");
            None
        }
        Err(why) => panic!("power-loss test required but cannot run: {why}"),
    }
}

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
    let Some(disk) = disk() else { return };
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
    let Some(disk) = disk() else { return };
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
