//! asoguard-core: lints, fixes and transforms GitOps repositories that manage Azure through
//! Azure Service Operator v2 (ASO), deployed by ArgoCD or Flux.
//!
//! The library does all the work and no printing: [`engine::check_paths`] discovers files,
//! checks every object against the [`rules`], applies [`fix`]es to a fixpoint, and returns a
//! [`engine::RunReport`] that the CLI's printers render. [`transform`] plans and applies the
//! bulk edits of `policy set`, `migrate` and `failover`.
//! [`plan::plan`] compares two revisions of a repository and says what the change does in
//! Azure.
#![warn(missing_docs)]

pub mod catalog;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod effective;
pub mod engine;
pub mod files;
pub mod fix;
pub mod index;
pub mod init;
pub mod manifest;
pub mod marker;
pub mod note;
pub mod plan;
pub mod registry;
pub mod relevance;
pub mod rules;
pub mod schema;
pub(crate) mod sops;
pub mod span;
pub mod suggest;
pub mod suppress;
pub mod template;
pub mod transform;
pub mod wording;
pub mod yaml;

#[cfg(test)]
mod layers;

pub use config::Settings;
pub use diagnostic::{Diagnostic, Severity};
pub use engine::{
    FileReport, FixMode, RunOptions, RunReport, check_inputs, check_paths, check_targets,
};
pub use registry::Rule;
pub use span::{LineCol, SourceFile, Span};
