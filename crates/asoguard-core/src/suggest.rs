//! Did you mean: the known word closest to a mistyped one, for hints in messages.

/// The candidate closest to a mistyped `word`: equal but for case, else the most similar by
/// Jaro-Winkler, when it is similar enough to be worth suggesting.
pub fn closest<'c>(
    word: &str,
    candidates: impl Iterator<Item = &'c str> + Clone,
) -> Option<&'c str> {
    if let Some(same) = candidates.clone().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(same);
    }
    candidates
        .map(|c| (c, strsim::jaro_winkler(word, c)))
        .filter(|(_, score)| *score >= 0.85)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_case_and_typos_only() {
        let words = ["role", "paths", "azureName"];
        assert_eq!(closest("rol", words.into_iter()), Some("role"));
        assert_eq!(closest("AzureName", words.into_iter()), Some("azureName"));
        assert_eq!(closest("zzz", words.into_iter()), None);
    }
}
