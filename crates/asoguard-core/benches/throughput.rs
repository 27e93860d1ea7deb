//! Throughput benchmarks (divan): granit-parser's own event stream as the floor, our tree on
//! top of it, and whole engine runs (load excluded) over generated mixed and all-ASO corpora,
//! with one and two threads, and with the relevance prefilter on and off.
//!
//! ```sh
//! cargo bench -p asoguard-core --bench throughput
//! BENCH_MB=16 cargo bench -p asoguard-core --bench throughput   # a bigger corpus
//! ```

#[path = "support/corpus.rs"]
mod corpus;

use std::path::PathBuf;
use std::sync::OnceLock;

use asoguard_core::Settings;
use asoguard_core::discover::Target;
use asoguard_core::engine::{self, Input, RunOptions};
use divan::counter::BytesCount;
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

/// Corpus size in MiB (default 4: big enough to dwarf set-up, small enough for a quick run).
fn size_mb() -> f64 {
    std::env::var("BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4.0)
}

fn corpus(all_aso: bool) -> &'static [corpus::File] {
    static MIXED: OnceLock<Vec<corpus::File>> = OnceLock::new();
    static ASO: OnceLock<Vec<corpus::File>> = OnceLock::new();
    let cell = if all_aso { &ASO } else { &MIXED };
    cell.get_or_init(|| {
        corpus::generate(&corpus::Options {
            bytes: (size_mb() * 1024.0 * 1024.0) as usize,
            all_aso,
            seed: 7,
        })
    })
}

fn bytes(files: &[corpus::File]) -> BytesCount {
    BytesCount::new(files.iter().map(|f| f.text.len()).sum::<usize>())
}

const CORPORA: [&str; 2] = ["mixed", "all-aso"];

/// granit-parser alone: every event of every file, nothing built. The floor for the rest.
#[divan::bench(args = CORPORA)]
fn parser_events(bencher: Bencher, which: &str) {
    pull_events(bencher, which, true);
}

/// [`parser_events`] without comment events, as asoguard parses a text that does not name
/// asoguard (every text of both corpora).
#[divan::bench(args = CORPORA)]
fn parser_events_no_comments(bencher: Bencher, which: &str) {
    pull_events(bencher, which, false);
}

fn pull_events(bencher: Bencher, which: &str, comments: bool) {
    let files = corpus(which == "all-aso");
    let mut options = granit_parser::Options::default();
    options.set_emit_comments(comments);
    bencher.counter(bytes(files)).bench(|| {
        let mut events = 0usize;
        for file in files {
            let parser =
                granit_parser::Parser::new_from_str_with_options(&file.text, options.clone());
            for event in parser {
                if event.is_err() {
                    break;
                }
                events += 1;
            }
        }
        black_box(events)
    });
}

/// Our span tree over granit-parser's events, every document built, in one arena reset for
/// each file (as the engine does).
#[divan::bench(args = CORPORA)]
fn tree(bencher: Bencher, which: &str) {
    let files = corpus(which == "all-aso");
    bencher.counter(bytes(files)).bench(|| {
        let mut docs = 0usize;
        let mut arena = asoguard_core::yaml::Arena::new();
        for file in files {
            arena.reset();
            docs += asoguard_core::yaml::parse(&arena, &file.text)
                .documents
                .len();
        }
        black_box(docs)
    });
}

fn inputs(files: &[corpus::File]) -> Vec<Input> {
    let root = PathBuf::from("/bench");
    files
        .iter()
        .map(|f| {
            let fs_path = root.join(&f.path);
            Input {
                target: Target::new(f.path.clone(), fs_path),
                text: Ok(f.text.clone()),
            }
        })
        .collect()
}

fn settings() -> Settings {
    let mut settings = Settings::default();
    settings.root = PathBuf::from("/bench");
    settings
}

fn run_engine(bencher: Bencher, which: &str, threads: usize, prefilter: bool) {
    let files = corpus(which == "all-aso");
    let settings = settings();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    let options = RunOptions {
        prefilter,
        ..RunOptions::default()
    };
    bencher
        .counter(bytes(files))
        .with_inputs(|| inputs(files))
        .bench_values(|inputs| {
            pool.install(|| black_box(engine::check_inputs(inputs, &settings, options)))
        });
}

/// The engine on loaded texts (index, check, suppressions, report), one thread.
#[divan::bench(args = CORPORA)]
fn engine_1_thread(bencher: Bencher, which: &str) {
    run_engine(bencher, which, 1, true);
}

/// The same on two threads (rayon).
#[divan::bench(args = CORPORA)]
fn engine_2_threads(bencher: Bencher, which: &str) {
    run_engine(bencher, which, 2, true);
}

/// One thread with the relevance prefilter off: every document built into a tree.
#[divan::bench(args = CORPORA)]
fn engine_no_prefilter(bencher: Bencher, which: &str) {
    run_engine(bencher, which, 1, false);
}
