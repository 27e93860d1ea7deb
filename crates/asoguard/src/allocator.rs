//! The process's allocator: mimalloc, set to hand freed memory back to the system at once.
//!
//! Parsing makes and frees millions of small tree nodes on every thread, which glibc's malloc
//! served at about a fifth of a run's time (see docs/performance.md). mimalloc's defaults keep
//! freed pages for 10 ms and commit its arena eagerly, so the pages a file's trees used stay
//! resident after they are freed: on a 100,000-document tree that was 15 to 25 MB of peak RSS
//! more than the heap ever held at once. Purging at once and committing on demand brings the
//! peak RSS under the heap plus a few MB, at no measurable CPU cost (the heap a run holds is
//! small; the churn is in pages reused at once). Either setting can still be overridden with
//! mimalloc's own environment variables.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The numbers of the two options in `mi_option_e` (`mimalloc.h`) of the mimalloc v2 sources
/// that `libmimalloc-sys` builds; `libmimalloc-sys` names only a few options. The test below
/// checks them against their documented defaults.
#[cfg(feature = "mimalloc")]
mod option {
    use libmimalloc_sys::mi_option_t;

    /// `mi_option_arena_eager_commit` (default 2: eager where the OS overcommits).
    pub const ARENA_EAGER_COMMIT: mi_option_t = 4;
    /// `mi_option_purge_delay`, in milliseconds (default 10).
    pub const PURGE_DELAY: mi_option_t = 15;
}

/// Set mimalloc's options for this process, unless the user set them in the environment. Call
/// first thing in `main`, before any other thread exists (mimalloc's option setters are not
/// thread-safe).
pub fn configure() {
    #[cfg(feature = "mimalloc")]
    for (option, variable) in [
        (option::PURGE_DELAY, "MIMALLOC_PURGE_DELAY"),
        (option::ARENA_EAGER_COMMIT, "MIMALLOC_ARENA_EAGER_COMMIT"),
    ] {
        if std::env::var_os(variable).is_none() {
            // SAFETY: called from `main` before any thread is spawned; the option number is
            // one of mimalloc's (checked by the test below), and 0 is valid for both.
            unsafe { libmimalloc_sys::mi_option_set(option, 0) };
        }
    }
}

#[cfg(all(test, feature = "mimalloc"))]
mod tests {
    use super::option;

    /// The option numbers still mean what they meant when chosen: in a process that has not
    /// set them, each reads its documented default (mimalloc's defaults differ, so a shifted
    /// enum would read another option's value).
    #[test]
    fn option_numbers_match_mimalloc() {
        for (name, number, default) in [
            ("MIMALLOC_PURGE_DELAY", option::PURGE_DELAY, 10),
            ("MIMALLOC_ARENA_EAGER_COMMIT", option::ARENA_EAGER_COMMIT, 2),
        ] {
            if std::env::var_os(name).is_some() {
                continue;
            }
            // SAFETY: reading an option is safe at any time.
            let value = unsafe { libmimalloc_sys::mi_option_get(number) };
            assert_eq!(value, default, "{name} is no longer option {number}");
        }
    }
}
