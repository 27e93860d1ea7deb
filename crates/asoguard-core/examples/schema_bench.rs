//! Timings for CRD validation, as recorded in `docs/performance.md`:
//!
//! ```sh
//! cargo run --release -p asoguard-core --example schema_bench -- ../shared
//! ```
//!
//! 1. loading the five CRDs of `shared/crds` (read, split, parse, index);
//! 2. converting and compiling every served version of them (38), from a fresh store;
//! 3. a check run over `shared/corpus/aso-samples` without CRDs, and with CRDs whose schemas
//!    are already compiled (the store is warmed by one run first), so the difference is what
//!    validation itself adds to a run.
//!
//! Each figure is the median of several runs; runs with and without CRDs alternate.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use asoguard_core::config::{Config, Settings};
use asoguard_core::schema::CrdStore;
use asoguard_core::{RunOptions, check_paths};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

/// Medians of `a` and `b`, run alternately so that drift on a busy machine hits both alike.
fn time_pair<T, U>(
    runs: usize,
    mut a: impl FnMut() -> T,
    mut b: impl FnMut() -> U,
) -> (Duration, Duration) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(a());
        ta.push(start.elapsed());
        let start = Instant::now();
        std::hint::black_box(b());
        tb.push(start.elapsed());
    }
    (median(ta), median(tb))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let shared = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("../shared"), PathBuf::from);
    let crds = shared.join("crds");
    let samples = shared.join("corpus/aso-samples");
    if !crds.is_dir() || !samples.is_dir() {
        eprintln!("usage: schema_bench [SHARED_DIR]  (needs crds/ and corpus/aso-samples/)");
        std::process::exit(2);
    }
    let load = |paths: &[PathBuf]| CrdStore::load(paths).expect("the CRDs load");

    let loading = time(5, || load(std::slice::from_ref(&crds)));
    let mut versions = 0;
    let compiling = time(5, || {
        let store = load(std::slice::from_ref(&crds));
        versions = 0;
        for crd in store.crds() {
            for version in crd.served_versions() {
                let compiled = crd.schema(version).expect("served");
                compiled.expect("compiles");
                versions += 1;
            }
        }
    });

    let plain = Settings::resolve(Config::default(), PathBuf::from("/"), None).expect("settings");
    let mut with_crds = plain.clone();
    with_crds.crds = Some(Arc::new(load(std::slice::from_ref(&crds))));
    let run = |settings: &Settings| {
        check_paths(
            std::slice::from_ref(&samples),
            settings,
            RunOptions::default(),
        )
    };
    // Warm up both (the file cache, and the store's compiled schemas).
    let first = run(&with_crds);
    run(&plain);
    let (without, with) = time_pair(41, || run(&plain), || run(&with_crds));
    let coverage = first.schema.expect("CRDs given");

    // The harsher case: only the files that hold a kind with a CRD, so every object validates.
    let store = with_crds.crds.as_deref().expect("CRDs given");
    let mut relevant: Vec<PathBuf> = walkdir::WalkDir::new(&samples)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let arena = asoguard_core::yaml::Arena::new();
            let stream = asoguard_core::yaml::parse(&arena, &text);
            stream.documents.iter().any(|d| {
                d.root
                    .as_ref()
                    .and_then(asoguard_core::manifest::Manifest::from_root)
                    .is_some_and(|m| store.for_manifest(&m).is_some())
            })
        })
        .collect();
    relevant.sort();
    let run_relevant =
        |settings: &Settings| check_paths(&relevant, settings, RunOptions::default());
    run_relevant(&plain);
    let (relevant_without, relevant_with) =
        time_pair(201, || run_relevant(&plain), || run_relevant(&with_crds));

    println!("| step | median |");
    println!("|---|---|");
    println!(
        "| load the 5 CRDs of {} | {} |",
        display(&crds),
        ms(loading)
    );
    println!(
        "| load + convert + compile all {versions} served versions | {} |",
        ms(compiling)
    );
    println!(
        "| check {} files, no CRDs | {} |",
        first.files_checked,
        ms(without)
    );
    println!(
        "| check {} files, CRDs compiled ({} resources validated) | {} |",
        first.files_checked,
        coverage.checked,
        ms(with)
    );
    println!(
        "| check the {} files holding those kinds, no CRDs | {} |",
        relevant.len(),
        ms(relevant_without)
    );
    println!(
        "| check the {} files holding those kinds, CRDs compiled | {} |",
        relevant.len(),
        ms(relevant_with)
    );
    let added = |with: Duration, without: Duration| {
        (with.as_secs_f64() / without.as_secs_f64() - 1.0) * 100.0
    };
    println!(
        "\nvalidation adds {:+.1} % to the run over every sample, {:+.1} % over the files it validates",
        added(with, without),
        added(relevant_with, relevant_without)
    );
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
