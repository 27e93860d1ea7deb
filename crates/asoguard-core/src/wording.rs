//! Counts in messages that agree with their nouns and verbs: `1 file`, `2 files`, `1 fix`,
//! `2 fixes`, `1 change takes`, `2 changes take`. Every message that states a number uses
//! these, so none reads `1 resource(s)`.

/// `n` and `noun` in agreement: `1 file`, `0 files`, `2 fixes`, `3 ASO resources`.
pub fn plural(n: usize, noun: &str) -> String {
    format!("{n} {}", noun_for(n, noun))
}

/// `noun` alone, singular when `n` is 1, else plural: the last word of a phrase takes the
/// ending (`ASO resource` → `ASO resources`); words ending in a sibilant take `es` (`fixes`),
/// a consonant and `y` take `ies` (`policies`); an upper-case acronym takes `s` (`CRDs`).
pub fn noun_for(n: usize, noun: &str) -> String {
    if n == 1 {
        return noun.to_string();
    }
    let lower = noun.to_ascii_lowercase();
    let acronym = noun
        .rsplit(' ')
        .next()
        .is_some_and(|word| word.len() > 1 && word.chars().all(|c| c.is_ascii_uppercase()));
    if acronym {
        format!("{noun}s")
    } else if ["s", "x", "z", "sh", "ch"]
        .iter()
        .any(|end| lower.ends_with(end))
    {
        format!("{noun}es")
    } else if let Some(stem) = noun
        .strip_suffix('y')
        .filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{noun}s")
    }
}

/// `one` when `n` is 1, else `many`: verbs and pronouns that agree with a count
/// (`agree(n, "takes", "take")`, `agree(n, "it", "them")`).
pub fn agree<'w>(n: usize, one: &'w str, many: &'w str) -> &'w str {
    if n == 1 { one } else { many }
}

/// Items in backticks, comma-separated: `` `a`, `b`, `c` ``.
pub fn code_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nouns_agree_with_their_count() {
        for (n, noun, expected) in [
            (0, "file", "0 files"),
            (1, "file", "1 file"),
            (2, "file", "2 files"),
            (1, "fix", "1 fix"),
            (2, "fix", "2 fixes"),
            (1, "ASO resource", "1 ASO resource"),
            (3, "ASO resource", "3 ASO resources"),
            (2, "CRD", "2 CRDs"),
            (2, "policy", "2 policies"),
            (2, "day", "2 days"),
            (2, "match", "2 matches"),
            (2, "conflict", "2 conflicts"),
        ] {
            assert_eq!(plural(n, noun), expected);
        }
        assert_eq!(agree(1, "takes", "take"), "takes");
        assert_eq!(agree(2, "takes", "take"), "take");
        assert_eq!(agree(0, "it", "them"), "them");
    }
}
