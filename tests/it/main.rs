//! The CLI's end-to-end tests: one test binary, so CI links the tests once rather than once per
//! file. Each module is one area; `support` holds what several of them share.
//!
//! Run one area with a filter on its module path, e.g. `cargo test --test it repos::` (the
//! `::` keeps out tests of other modules whose names hold the word).

mod cli;
mod corpus;
mod crds;
mod hostile;
mod inventory;
mod notes;
mod output;
mod plan;
mod precommit;
mod readme;
mod repos;
mod sarif;
mod support;
mod transform;
mod usability;
mod workflow;
