//! The process's allocator: mimalloc, set to hand freed memory back to the system at once.
//!
//! Parsing makes and frees millions of small tree nodes on every thread, which glibc's malloc
//! served at about a fifth of a run's time (see docs/performance.md). mimalloc's default keeps
//! freed pages for 10 ms before handing them back, so the pages of the trees a run has parsed
//! and freed are still resident when the index is built (the peak): on a 100,000-document tree
//! that was 15 to 20 MB of peak RSS above what the heap ever held at once. Purging at once
//! costs a few per cent of CPU (pages are faulted in again when reused). The setting can still
//! be overridden with mimalloc's own environment variable.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in `mi_option_e` (`mimalloc.h`) of the mimalloc v2 sources that
/// `libmimalloc-sys` builds, which names only a few options; the test below checks the number
/// against the option's documented default (10 ms). Its sibling, `arena_eager_commit`, would
/// matter too, but mimalloc reserves its first arena before `main` runs.
#[cfg(feature = "mimalloc")]
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Set mimalloc to purge freed pages at once, unless `MIMALLOC_PURGE_DELAY` says otherwise.
/// Call first thing in `main`, before any other thread exists (mimalloc's option setters are
/// not thread-safe).
pub fn configure() {
    #[cfg(feature = "mimalloc")]
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called from `main` before any thread is spawned, with the option's number
        // (checked by the test below) and a valid value (0: purge at once).
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    }
}

#[cfg(all(test, feature = "mimalloc"))]
mod tests {
    /// The option number still means what it meant when chosen: in a process that has not set
    /// it, it reads the purge delay's documented default (10 ms; the options around it default
    /// to other values, so a shifted enum would read another option's).
    #[test]
    fn purge_delay_is_option_15() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reading an option is safe at any time.
        let value = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(value, 10, "mimalloc's purge delay is no longer option 15");
    }
}
