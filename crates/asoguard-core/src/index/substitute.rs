//! Flux `spec.postBuild` variable substitution: `${var}` and `${var:=default}` in what a Flux
//! Kustomization applies, replaced per Kustomization, so one base rendered by `dev` and `prod`
//! gives different names. A variable whose value is unknown stays written as it is: a name that
//! still holds `${` is an unknown identity, never equal to another.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

/// The variables one Flux Kustomization substitutes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Substitution {
    /// Known values: `substitute`, over the `substituteFrom` sources found in the repository.
    vars: FxHashMap<String, String>,
    /// Every source of values is known (no `substituteFrom` outside the repository): a variable
    /// not among `vars` is then undefined, and its default applies.
    complete: bool,
}

impl Substitution {
    /// Variables with known values; `complete` when no source of values is unknown.
    pub fn new(vars: FxHashMap<String, String>, complete: bool) -> Self {
        Substitution { vars, complete }
    }

    /// `text` with every `${...}` whose value is known replaced. A variable without a known
    /// value (its source is outside the repository, or it is undefined and has no default) is
    /// left as written: Flux would substitute an empty string for an undefined one (unless
    /// strict substitution is on), but its value most likely comes from somewhere asoguard
    /// cannot see, so the result stays unknown.
    pub fn apply<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if !text.contains("${") {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Cow::Owned(out);
            };
            let expression = &after[..end];
            match self.value(expression) {
                Some(value) => out.push_str(value),
                None => out.push_str(&rest[start..start + 2 + end + 1]),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Cow::Owned(out)
    }

    /// The value of one `${...}` expression (without the braces), when it is known: `var`,
    /// `var:=default`, `var:-default`, `var=default`, `var-default`. Other operators are not
    /// evaluated.
    fn value<'s>(&'s self, expression: &'s str) -> Option<&'s str> {
        let name_end = expression
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(expression.len());
        let (name, operator) = expression.split_at(name_end);
        if name.is_empty() {
            return None;
        }
        let default = match operator {
            "" => None,
            _ => Some(
                operator
                    .strip_prefix(":=")
                    .or_else(|| operator.strip_prefix(":-"))
                    .or_else(|| operator.strip_prefix('='))
                    .or_else(|| operator.strip_prefix('-'))?,
            ),
        };
        match (self.vars.get(name), default) {
            (Some(value), _) => Some(value),
            (None, Some(default)) if self.complete => Some(default),
            _ => None,
        }
    }
}

/// Whether a name still holds a `${...}` placeholder: its identity is unknown, and it is never
/// the same Azure resource as another.
pub fn is_unresolved(name: &str) -> bool {
    name.contains("${")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)], complete: bool) -> Substitution {
        Substitution::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            complete,
        )
    }

    #[test]
    fn substitutes_known_variables_and_defaults() {
        let s = vars(&[("cluster_name", "prod"), ("region", "westeurope")], true);
        assert_eq!(s.apply("${cluster_name}-rg"), "prod-rg");
        assert_eq!(
            s.apply("rg-${cluster_name}-${region}"),
            "rg-prod-westeurope"
        );
        assert_eq!(s.apply("${env:=dev}-db"), "dev-db");
        assert_eq!(s.apply("${env:-dev}-db"), "dev-db");
        assert_eq!(s.apply("${cluster_name:=dev}-db"), "prod-db");
        assert_eq!(s.apply("plain"), "plain");
        assert!(matches!(s.apply("plain"), Cow::Borrowed(_)));
        // `$var` without braces is not Flux's syntax: left alone.
        assert_eq!(s.apply("$cluster_name-rg"), "$cluster_name-rg");
    }

    #[test]
    fn unknown_values_stay_written() {
        // A source outside the repository: defaults cannot be trusted, undefined stays.
        let s = vars(&[("cluster_name", "prod")], false);
        assert_eq!(s.apply("${env:=dev}-${cluster_name}"), "${env:=dev}-prod");
        assert!(is_unresolved(&s.apply("${env}-db")));
        // Every source known, but undefined without a default: still unknown.
        let s = vars(&[], true);
        assert_eq!(s.apply("${env}-db"), "${env}-db");
        assert_eq!(s.apply("${env^^}"), "${env^^}");
        assert_eq!(s.apply("broken ${env"), "broken ${env");
    }
}
