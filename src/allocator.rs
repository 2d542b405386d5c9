//! When the shipped (musl) binary's allocator, mimalloc, hands freed pages back to the system.
//! Elsewhere (the glibc build, tests) these do nothing.
//!
//! A page handed back and then needed again is a fresh page: a fault and a zeroed page, and on
//! a virtual machine that reports free pages to its host (as the benchmark machine does) the
//! host's own fault too, about 3 µs a page. Handing pages back at once keeps a huge run within
//! its memory bound; once its memory has peaked, keeping them is faster.

/// Option numbers from mimalloc v3's `mi_option_e` (libmimalloc-sys 0.1.49 names neither).
#[cfg(target_env = "musl")]
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
#[cfg(target_env = "musl")]
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc keeps freed pages for a while and commits its arenas eagerly; a 2,000,000-test
/// report then peaked at 146 MB, over the 128 MB bound (bench/junit-2m.sh). Returning pages at
/// once and committing arenas on demand brings it to 105 MB at the same speed. Called first
/// thing in `main`, before any allocation creates an arena.
pub fn bound_memory() {
    // SAFETY: `mi_option_set` stores an option value; called before any other thread exists.
    #[cfg(target_env = "musl")]
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
    }
}

/// Result files up to this size in all keep freed pages from the start (see
/// [`before_results`]).
const SMALL_RESULTS: u64 = 64 << 20;

/// Called before the test results are read, with their size: when they are small, freed
/// pages are kept from now on, not only once the results are counted (git's output and the
/// coverage reports are read meanwhile). Measured on the shipped binary against handing pages
/// back until then: a 33 MB, 200,000-test JUnit report takes 1,300 fewer page faults and about
/// 1 % less time (its peak 19 → 23 MB); the LCOV patch run 1,900 fewer faults and 8 % less
/// time (its peak 50 → 42 MB). Larger results (the 2,000,000-test run, a 300 MB
/// `<system-out>`) still hand pages back while they are read, for their bounds.
pub fn before_results(bytes: u64) {
    if bytes <= SMALL_RESULTS {
        reuse_freed_pages();
    }
}

/// From now on freed pages stay with the process, to be reused: for after the test results
/// are counted, where a huge run's memory peaks (its tests' keys and their last merges). The
/// coverage reports, the analysis and the rendering then reuse what they free: the LCOV and
/// Cobertura bench runs use 4-5 % less CPU (LCOV 3 % faster), and no bench run's peak grows
/// (the 2,000,000-test run stays at 106 MB). Kept from the start instead, that run peaked at
/// 148 MB (the test results' own frees were then kept beside what came next).
pub fn reuse_freed_pages() {
    // SAFETY: `mi_option_set` stores an option value, an aligned word that mimalloc reads
    // each time it decides whether to purge (another thread, git's, may be allocating: it sees
    // the old value or the new one). A negative delay is "never purge".
    #[cfg(target_env = "musl")]
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
    }
}
