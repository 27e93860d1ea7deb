//! Whether a file is SOPS-encrypted: the one predicate that `check` and the transforms share.
//!
//! An encrypted file's values cannot be read, and any edit would break its MAC: `check` skips
//! it with a note of kind [`crate::note::NoteKind::Sops`], and the transforms never edit it.

use crate::yaml::Stream;

/// Whether a file is SOPS-encrypted (a top-level `sops` mapping with a `mac`).
pub(crate) fn is_encrypted(stream: &Stream) -> bool {
    stream.documents.iter().any(|d| {
        d.root
            .as_ref()
            .and_then(|r| r.get("sops"))
            .is_some_and(|s| s.get("mac").is_some())
    })
}
