//! Fuzz target: arbitrary bytes through load, parse, check and fix (see docs/reliability.md).
#![no_main]

#[path = "../../crates/asoguard-core/tests/support/fuzz_body.rs"]
mod fuzz_body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_body::check_bytes(data);
});
