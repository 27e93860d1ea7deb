//! ASO101 `invalid-suppression`: a suppression that names a rule asoguard does not have.
//! Reported by `suppress::apply`.

use super::Checks;

pub(super) const SUMMARY: &str = "A suppression names a rule that does not exist";

pub(super) const DOC: &str = r#"## What it does
Finds suppression comments and `asoguard.io/ignore` annotations that name an unknown rule
code or name, and suggests the closest real one.

## Why is this bad
A misspelt suppression (`ASO01`, `skip-in-activ`) suppresses nothing, so the finding it was
meant to silence still fails the build, or, worse, the author believes a decision is recorded
when it is not.

## Example
```yaml
# asoguard: ignore[skip-in-activ] -- DR copy, restored by the runbook
```

Use instead:
```yaml
# asoguard: ignore[skip-in-active] -- DR copy, restored by the runbook
```

## Fix
None: asoguard cannot know which rule was meant. The message suggests the closest one.

## Source
asoguard's suppression syntax (README, "Suppressions").
"#;

/// InvalidSuppression's checks, for the rule registry.
pub(super) struct InvalidSuppression;

impl Checks for InvalidSuppression {}
