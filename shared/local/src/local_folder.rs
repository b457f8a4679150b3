//! The object store on a local folder: the embedded default of the local runner.
//!
//! Writes go to a temporary file first and are then renamed (replace) or hard-linked (create only) into
//! place, so a reader never sees half a file and, of concurrent `put_if_absent` calls, the kernel lets
//! exactly one link succeed.

use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use mlops_shared::names::ObjectKey;
use mlops_shared::ports::{ObjectInfo, ObjectStore, PutOutcome, StoreError, StoredObject};

/// Temporary files live here, inside the root so renames stay on one file system.
const TMP_DIR: &str = ".tmp";

#[derive(Debug, Clone)]
pub struct LocalFolderStore {
    root: PathBuf,
}

impl LocalFolderStore {
    /// The store at `root`. Temporary files that a process no longer running left behind (killed
    /// mid-write) are removed first: they would only fill the disk.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        sweep_orphan_temp_files(&root.join(TMP_DIR));
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &ObjectKey) -> PathBuf {
        self.root.join(key.as_str())
    }
}

/// An entity tag from file metadata, so `head` and `list` never read content. Every write makes a
/// new file (temp + rename or link), so a new inode and mtime mark every change.
fn etag(metadata: &std::fs::Metadata) -> String {
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(metadata);
    #[cfg(not(unix))]
    let inode = 0u64;
    let identity = format!("{}-{modified}-{inode}", metadata.len());
    hex::encode(&Sha256::digest(identity.as_bytes())[..16])
}

fn info(path: &Path, key: &ObjectKey) -> Result<ObjectInfo, StoreError> {
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => StoreError::NotFound(key.clone()),
        _ => unavailable("reading", key, e),
    })?;
    if metadata.is_dir() {
        return Err(StoreError::NotFound(key.clone()));
    }
    Ok(ObjectInfo {
        key: key.clone(),
        size: metadata.len(),
        etag: etag(&metadata),
        version: None,
    })
}

fn unavailable(action: &'static str, key: &impl ToString, err: std::io::Error) -> StoreError {
    StoreError::Unavailable {
        action,
        key: key.to_string(),
        message: err.to_string(),
    }
}

/// Reads an object and its metadata from one open handle, so the two always match.
fn read(path: &Path, key: &ObjectKey) -> Result<StoredObject, StoreError> {
    let missing = |e: std::io::Error| match e.kind() {
        ErrorKind::NotFound | ErrorKind::IsADirectory => StoreError::NotFound(key.clone()),
        _ => unavailable("reading", key, e),
    };
    let mut file = std::fs::File::open(path).map_err(missing)?;
    let metadata = file.metadata().map_err(missing)?;
    if metadata.is_dir() {
        return Err(StoreError::NotFound(key.clone()));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.read_to_end(&mut bytes).map_err(missing)?;
    let info = ObjectInfo {
        key: key.clone(),
        size: bytes.len() as u64,
        etag: etag(&metadata),
        version: None,
    };
    Ok(StoredObject { info, bytes })
}

/// What an object is written from.
enum Content<'a> {
    Bytes(&'a [u8]),
    /// Copied by the kernel (`std::io::copy` between files uses copy_file_range on Linux), for a
    /// fraction of the CPU that writing them from memory takes.
    File(std::fs::File),
}

/// Writes `content` to a fresh temporary file under the root and returns its path. A write that
/// fails (a full disk) removes its part-written file.
fn write_temp(root: &Path, content: Content) -> std::io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = root.join(TMP_DIR);
    std::fs::create_dir_all(&dir)?;
    let name = format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let path = dir.join(name);
    let written = std::fs::File::create(&path).and_then(|mut file| {
        match content {
            Content::Bytes(bytes) => file.write_all(bytes)?,
            Content::File(mut from) => {
                std::io::copy(&mut from, &mut file)?;
            }
        }
        file.sync_all()
    });
    match written {
        Ok(()) => Ok(path),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

/// Removes the temporary files of processes that are gone. A temporary file is named
/// `<pid>-<n>`; a live process's files are left alone, as they may be mid-write.
fn sweep_orphan_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|name| name.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        if pid.is_some_and(|pid| !is_running(pid)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn put_blocking(
    root: &Path,
    target: &Path,
    content: Content,
    only_if_absent: bool,
) -> std::io::Result<PutOutcome> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temp = write_temp(root, content)?;
    let outcome = if only_if_absent {
        match std::fs::hard_link(&temp, target) {
            Ok(()) => Ok(PutOutcome::Created),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(PutOutcome::AlreadyExists),
            Err(e) => Err(e),
        }
    } else {
        std::fs::rename(&temp, target).map(|()| PutOutcome::Created)
    };
    // After a rename the temp path is gone already; after a link it is a second name to drop.
    let _ = std::fs::remove_file(&temp);
    outcome
}

fn list_blocking(root: &Path, prefix: &str) -> std::io::Result<Vec<ObjectInfo>> {
    // Only the directory that holds the prefix needs walking.
    let start = match prefix.rfind('/') {
        Some(at) => root.join(&prefix[..at]),
        None => root.to_path_buf(),
    };
    let mut out = Vec::new();
    let mut stack = vec![start];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let Ok(relative) = path.strip_prefix(root) else {
                continue;
            };
            let Some(relative) = relative.to_str() else {
                continue;
            };
            if relative == TMP_DIR {
                continue;
            }
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else if relative.starts_with(prefix) {
                if let Ok(key) = ObjectKey::parse(relative) {
                    let metadata = entry.metadata()?;
                    out.push(ObjectInfo {
                        key,
                        size: metadata.len(),
                        etag: etag(&metadata),
                        version: None,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
    }
}

#[async_trait]
impl ObjectStore for LocalFolderStore {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectInfo, StoreError> {
        let (path, owned) = (self.path(key), key.clone());
        blocking(move || info(&path, &owned)).await
    }

    async fn get(&self, key: &ObjectKey) -> Result<StoredObject, StoreError> {
        let (path, owned) = (self.path(key), key.clone());
        blocking(move || read(&path, &owned)).await
    }

    async fn get_to_file(&self, key: &ObjectKey, path: &Path) -> Result<(), StoreError> {
        let (source, target, owned) = (self.path(key), path.to_owned(), key.clone());
        blocking(move || {
            if source.is_dir() {
                return Err(StoreError::NotFound(owned));
            }
            match std::fs::copy(&source, &target) {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == ErrorKind::NotFound && !source.exists() => {
                    Err(StoreError::NotFound(owned))
                }
                Err(e) => Err(unavailable("reading", &owned, e)),
            }
        })
        .await
    }

    async fn put(&self, key: &ObjectKey, bytes: Vec<u8>) -> Result<(), StoreError> {
        let (root, path) = (self.root.clone(), self.path(key));
        blocking(move || put_blocking(&root, &path, Content::Bytes(&bytes), false))
            .await
            .map(|_| ())
            .map_err(|e| unavailable("writing", key, e))
    }

    async fn put_file_if_absent(
        &self,
        key: &ObjectKey,
        path: &Path,
    ) -> Result<PutOutcome, StoreError> {
        let (root, target, source, owned) = (
            self.root.clone(),
            self.path(key),
            path.to_owned(),
            key.clone(),
        );
        blocking(move || {
            let file = std::fs::File::open(&source)
                .map_err(|e| StoreError::unreadable_file(&owned, &source, e))?;
            put_blocking(&root, &target, Content::File(file), true)
                .map_err(|e| unavailable("writing", &owned, e))
        })
        .await
    }

    async fn put_if_absent(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
    ) -> Result<PutOutcome, StoreError> {
        let (root, path) = (self.root.clone(), self.path(key));
        blocking(move || put_blocking(&root, &path, Content::Bytes(&bytes), true))
            .await
            .map_err(|e| unavailable("writing", key, e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let (root, owned) = (self.root.clone(), prefix.to_owned());
        blocking(move || list_blocking(&root, &owned))
            .await
            .map_err(|e| unavailable("listing", &prefix, e))
    }

    async fn copy(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), StoreError> {
        // File to file, never through memory: a quarantined upload may be gigabytes.
        let (root, source, target, owned) = (
            self.root.clone(),
            self.path(from),
            self.path(to),
            from.clone(),
        );
        blocking(move || {
            let file = match std::fs::File::open(&source) {
                Ok(file) => file,
                Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::IsADirectory) => {
                    return Err(StoreError::NotFound(owned))
                }
                Err(e) => return Err(unavailable("reading", &owned, e)),
            };
            put_blocking(&root, &target, Content::File(file), false)
                .map(|_| ())
                .map_err(|e| unavailable("writing", &owned, e))
        })
        .await
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        let path = self.path(key);
        match blocking(move || std::fs::remove_file(path)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(unavailable("deleting", key, e)),
        }
    }
}

/// Whether a process with this id is running (it may belong to another user).
fn is_running(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 sends nothing; it only asks whether the process exists.
        let answer = unsafe { libc::kill(pid, 0) };
        answer == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_files(root: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join(TMP_DIR))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn a_write_that_fails_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Reading a folder fails part-way, as a full disk fails a write.
        let unreadable = std::fs::File::open(dir.path()).expect("open the folder");
        let target = dir.path().join("raw/x.csv");
        let failed = put_blocking(dir.path(), &target, Content::File(unreadable), true);
        assert!(failed.is_err());
        assert!(!target.exists());
        assert_eq!(temp_files(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn opening_the_store_removes_temporary_files_of_processes_that_are_gone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let tmp = dir.path().join(TMP_DIR);
        std::fs::create_dir_all(&tmp).expect("temp folder");
        // Above Linux's largest pid (2^22), so no process has it.
        let gone = "4194305-7".to_owned();
        let live = format!("{}-3", std::process::id());
        for name in [&gone, &live] {
            std::fs::write(tmp.join(name), b"part of a write").expect("write");
        }
        LocalFolderStore::new(dir.path());
        assert_eq!(temp_files(dir.path()), [live]);
    }
}
