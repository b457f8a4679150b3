//! Process-wide settings for a process that runs polars, set once at start-up by each binary.

use tokio::runtime::Runtime;

/// Caps glibc's malloc arenas at two. glibc gives threads their own arenas and keeps freed memory in
/// each; polars allocates from every thread of its pool, so peak memory grows with the thread count.
/// Measured with bench/ingest.sh (12 months, one file at a time): peak RSS 90 MB with the default,
/// 62 MB with two arenas, at the same speed.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; it is called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// The async runtime every binary runs on, started after the allocator is set up.
pub fn start_runtime() -> std::io::Result<Runtime> {
    limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// A single-threaded runtime for a process that serves one request at a time (the predict
/// function): no worker threads to start or hold memory.
pub fn start_light_runtime() -> std::io::Result<Runtime> {
    limit_malloc_arenas();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
