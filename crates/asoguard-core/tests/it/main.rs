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
