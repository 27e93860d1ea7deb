//! The body of the fuzz target, shared with a bounded stable-Rust run in the property tests:
//! arbitrary bytes through load, parse, check and fix, asserting what must hold for any input.

use asoguard_core::discover::{Target, text_from_bytes};
use asoguard_core::engine::{FixMode, Input, RunOptions, check_inputs};
use asoguard_core::{Settings, yaml};

/// Check (and fix, unsafe fixes included) `data` as one file, with the prefilter on and off.
/// Panics only when an invariant breaks: the two runs disagree, a fix leaves text that does
/// not parse, or fixing the fixed text changes it again.
pub fn check_bytes(data: &[u8]) {
    let settings = Settings::default();
    let input = |text: Result<String, _>| Input {
        target: Target::new("fuzz.yaml", "/fuzz/fuzz.yaml"),
        text,
    };
    let run = |text: Result<String, _>, prefilter: bool| {
        let options = RunOptions {
            fix: FixMode::Preview,
            unsafe_fixes: true,
            prefilter,
            ..RunOptions::default()
        };
        check_inputs(vec![input(text)], &settings, options)
    };
    let text = text_from_bytes(data.to_vec());
    let on = run(text.clone(), true);
    let off = run(text.clone(), false);
    let view = |r: &asoguard_core::RunReport| {
        r.files
            .iter()
            .map(|f| {
                let findings: Vec<_> = f
                    .diagnostics
                    .iter()
                    .map(|d| (d.rule, d.span, d.message.clone()))
                    .collect();
                (findings, f.source.text.clone(), f.notes.clone())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(view(&on), view(&off), "the prefilter changed the result");
    let Ok(original) = text else {
        return;
    };
    for file in on.files.iter().filter(|f| f.original.is_some()) {
        let fixed = &file.source.text;
        assert!(
            yaml::parse(&yaml::Arena::new(), fixed).error.is_none()
                || yaml::parse(&yaml::Arena::new(), &original).error.is_some(),
            "a fix produced text that does not parse"
        );
        let again = run(Ok(fixed.clone()), true);
        assert!(
            again.files.iter().all(|f| f.fixed == 0),
            "fixing the fixed text changed it again"
        );
    }
}
