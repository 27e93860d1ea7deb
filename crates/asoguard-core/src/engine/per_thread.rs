//! Memory a pool thread reuses from one file to the next: one read buffer ([`super::load`]
//! reads every file into it, and copies out only a text that is checked) and one tree arena
//! (the first pass parses every file into it, reset for each: the trees' memory is reused
//! rather than allocated and freed, file after file).
//!
//! Invariant: between two files a thread keeps at most [`BUFFER_KEPT`] bytes in each; one that
//! grew past that for a large file is let go after use. Nothing borrowed from them outlives
//! the call that lends them (the closures' results cannot borrow them): what is kept is copied
//! out.

use std::cell::RefCell;

use crate::yaml;

/// The largest read buffer, or tree arena, a thread keeps between files (bigger ones are let go
/// after use).
const BUFFER_KEPT: usize = 1 << 20;

/// Run `f` with this thread's read buffer (as `f` left it after the previous file).
pub(super) fn with_read_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    thread_local! {
        static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|buffer| {
        let result = f(buffer);
        // A large file's buffer is not kept for the rest of the run.
        if buffer.capacity() > BUFFER_KEPT {
            *buffer = Vec::new();
        }
        result
    })
}

/// Run `f` with this thread's tree arena, reset.
pub(super) fn with_arena<R>(f: impl FnOnce(&yaml::Arena) -> R) -> R {
    thread_local! {
        static ARENA: RefCell<yaml::Arena> = RefCell::new(yaml::Arena::new());
    }
    ARENA.with(|cell| match cell.try_borrow_mut() {
        Ok(mut arena) => {
            arena.reset();
            let result = f(&arena);
            // A large file's trees are not kept for the rest of the run.
            if arena.allocated_bytes() > BUFFER_KEPT {
                *arena = yaml::Arena::new();
            }
            result
        }
        // Never taken (a parse does not start another on its thread); a fresh arena is
        // always right.
        Err(_) => f(&yaml::Arena::new()),
    })
}
