//! What makes a flushed write survive a power cut. sled 0.34's `flush` writes
//! its log with `sync_file_range`, which neither makes a grown file's new size
//! and blocks durable nor flushes the device's cache, and it writes blob files
//! (nodes over a quarter segment) and its `conf` without any fsync. After a
//! power cut the log could be empty, with every acknowledged write gone (the
//! power-loss test saw exactly that). So: at open, the files and directories
//! sled made are fsynced; after every flush, new blob files, their directory
//! and the log are (`fdatasync`).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::{is_full, StorageError};

/// The log file and blob directory of one sled database, for one thread.
pub struct DiskSync {
    log: File,
    blobs: PathBuf,
    /// Blob files already fsynced, with the length they had then (one still
    /// being written is synced again once it has grown).
    synced_blobs: HashMap<OsString, u64>,
}

fn failed(path: &Path) -> impl FnOnce(io::Error) -> StorageError {
    let path = path.display().to_string();
    move |err| match is_full(&err) {
        true => StorageError::Full(format!("cannot fsync {path}: {err}")),
        false => StorageError::Sled(format!("cannot fsync {path}: {err}")),
    }
}

fn fsync(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

impl DiskSync {
    /// Makes what sled created in `data_dir` durable (its `conf`, its log, the
    /// directory entries) and opens the log for later syncs.
    pub fn open(data_dir: &Path) -> Result<DiskSync, StorageError> {
        let blobs = data_dir.join("blobs");
        for path in [
            data_dir.join("conf"),
            data_dir.join("db"),
            blobs.clone(),
            data_dir.to_path_buf(),
        ] {
            fsync(&path).map_err(failed(&path))?;
        }
        // The data dir's own entry, when sled made it; a parent we may not open is left.
        if let Some(parent) = data_dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            let _ = fsync(parent);
        }
        let log = data_dir.join("db");
        Ok(DiskSync {
            log: File::open(&log).map_err(failed(&log))?,
            blobs,
            synced_blobs: HashMap::new(),
        })
    }

    /// After a sled flush: new (or grown) blob files and their directory, then
    /// the log.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        let mut present = HashMap::with_capacity(self.synced_blobs.len());
        let mut new_blobs = false;
        for entry in std::fs::read_dir(&self.blobs).map_err(failed(&self.blobs))? {
            let entry = entry.map_err(failed(&self.blobs))?;
            let path = entry.path();
            let synced = match File::open(&path) {
                Ok(blob) => {
                    let len = blob.metadata().map_err(failed(&path))?.len();
                    if self.synced_blobs.get(&entry.file_name()) != Some(&len) {
                        blob.sync_data().map_err(failed(&path))?;
                        new_blobs = true;
                    }
                    len
                }
                // Replaced and removed by sled meanwhile: nothing to keep.
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(err) => return Err(failed(&path)(err)),
            };
            present.insert(entry.file_name(), synced);
        }
        self.synced_blobs = present;
        if new_blobs {
            fsync(&self.blobs).map_err(failed(&self.blobs))?;
        }
        self.log.sync_data().map_err(failed(Path::new("the sled log")))
    }
}
