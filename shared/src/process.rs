//! Process-wide settings for a process that runs polars, set once at start-up by each binary.

use tokio::runtime::Runtime;

/// Tunes glibc's malloc for batch work, before any other thread starts:
/// - two arenas at most: glibc gives threads their own arenas and keeps freed memory in each, and
///   polars allocates from every thread of its pool: a third less peak memory at the same speed
///   (bench/ingest.sh).
/// - batches' buffers (megabytes each, allocated and freed per batch) stay in the heap instead of
///   being mapped, unmapped, and faulted in again each time, which spent much of a drift check in
///   the kernel (bench/drift.sh).
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; it is called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// A command-line process whose output is piped to a reader that stops early (`| head`) ends
/// there, as Unix tools do. Rust ignores SIGPIPE, so the next write would fail and `println!`
/// panic instead.
pub fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restores the default action of one signal, before any other thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The async runtime every binary runs on, started after the allocator is set up.
pub fn start_runtime() -> std::io::Result<Runtime> {
    tune_malloc();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// A single-threaded runtime for a process that serves one request at a time (the predict
/// function): no worker threads to start or hold memory.
pub fn start_light_runtime() -> std::io::Result<Runtime> {
    tune_malloc();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
