//! The library's integration tests: one test binary, so CI links them once rather than once per
//! file. Each module is one area; `../support/fuzz_body.rs` is shared with the fuzz target.
//!
//! Run one area with a filter on its module name, e.g.
//! `cargo test -p asoguard-core --test it fixtures::`.

mod fix_green;
mod fixtures;
mod kustomize_diff;
mod properties;
mod schema;

/// Cases per property of `fix_green` and `properties`: `PROPTEST_CASES`, or 64.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}
