//! A real file system for tests that need one: ext4 in an image file, mounted
//! through a loop device (root only), that can be filled up or powered off.
//! Without root or loop devices the tests that use it say so and pass, unless
//! `MERCATO_REQUIRE_ALL_TESTS` is set (CI sets it).

use std::path::PathBuf;
use std::process::Command;

/// `_IOR('X', 125, __u32)`.
const EXT4_IOC_SHUTDOWN: libc::c_ulong = 0x8004_587D;
/// Shut down without flushing the journal.
const EXT4_GOING_FLAGS_NOLOGFLUSH: u32 = 0x2;

/// An ext4 file system in an image file, mounted through a loop device.
pub struct Disk {
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
    /// A fresh file system of `mib` MiB, or why there cannot be one here.
    fn new(mib: u64) -> Result<Disk, String> {
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root".into());
        }
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let image = dir.path().join("disk.img");
        std::fs::File::create(&image)
            .and_then(|file| file.set_len(mib << 20))
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
    pub fn data_dir(&self) -> PathBuf {
        self.mount.join("data")
    }

    /// Fills the file system up (a file of zeros until it is refused); answers
    /// the file, whose removal frees the space.
    pub fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let path = self.mount.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 1 << 20];
        while file.write_all(&chunk).and_then(|()| file.sync_data()).is_ok() {}
        // The last blocks, smaller than a chunk.
        while file.write_all(&chunk[..4096]).and_then(|()| file.sync_data()).is_ok() {}
        path
    }

    /// Power off: what was not fsynced is gone, and the file system refuses
    /// all further I/O until it is mounted again.
    pub fn cut_power(&self) {
        let root = std::fs::File::open(&self.mount).unwrap();
        let flags = EXT4_GOING_FLAGS_NOLOGFLUSH;
        let done = unsafe { libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(&root), EXT4_IOC_SHUTDOWN, &flags) };
        assert_eq!(done, 0, "EXT4_IOC_SHUTDOWN: {}", std::io::Error::last_os_error());
    }

    /// Power on: unmount and mount again (the journal is replayed).
    pub fn power_on(&self) {
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

/// A disk of `mib` MiB, or `None` (and why) where this machine cannot make one.
pub fn disk(mib: u64) -> Option<Disk> {
    match Disk::new(mib) {
        Ok(disk) => Some(disk),
        Err(why) if std::env::var_os("MERCATO_REQUIRE_ALL_TESTS").is_none() => {
            eprintln!("loop-device test not run: {why}");
            None
        }
        Err(why) => panic!("a loop-device test is required here but cannot run: {why}"),
    }
}
