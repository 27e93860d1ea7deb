//! Writes a realistic, deterministic GitOps tree for benchmarks and whole-process timings.
//!
//! ```sh
//! cargo run --release -p asoguard-core --example gen-corpus -- OUT_DIR SIZE_MB [--all-aso] [--seed N]
//! ```
//!
//! The mixed tree holds Deployments, Services, ConfigMaps, Secrets, Ingresses, PrometheusRules,
//! Namespaces, Kustomizations, ArgoCD Applications, Flux Kustomizations and ASO resources of
//! many groups, about one document in five relevant to asoguard's rules; `--all-aso` writes
//! only ASO resources. The same arguments always write the same bytes.

#[path = "../benches/support/corpus.rs"]
mod corpus;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut positional = Vec::new();
    let mut all_aso = false;
    let mut seed = 7;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--all-aso" => all_aso = true,
            "--seed" => match iter.next().and_then(|s| s.parse().ok()) {
                Some(s) => seed = s,
                None => return usage("--seed needs a number"),
            },
            _ => positional.push(arg.clone()),
        }
    }
    let [out, size] = positional.as_slice() else {
        return usage("expected OUT_DIR and SIZE_MB");
    };
    let Ok(size_mb) = size.parse::<f64>() else {
        return usage("SIZE_MB must be a number");
    };
    let options = corpus::Options {
        bytes: (size_mb * 1024.0 * 1024.0) as usize,
        all_aso,
        seed,
    };
    let out = PathBuf::from(out);
    let files = corpus::generate(&options);
    let (mut bytes, mut documents, mut relevant) = (0, 0, 0);
    for file in &files {
        let path = out.join(&file.path);
        if let Some(parent) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(parent) {
                eprintln!("error: cannot create {}: {e}", parent.display());
                return ExitCode::from(2);
            }
        }
        if let Err(e) = std::fs::write(&path, &file.text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        bytes += file.text.len();
        documents += file.documents;
        relevant += file.relevant;
    }
    println!(
        "wrote {} files, {} documents ({} relevant, {:.1}%), {:.1} MB to {}",
        files.len(),
        documents,
        relevant,
        100.0 * relevant as f64 / documents.max(1) as f64,
        bytes as f64 / 1024.0 / 1024.0,
        out.display()
    );
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("error: {problem}\nusage: gen-corpus OUT_DIR SIZE_MB [--all-aso] [--seed N]");
    ExitCode::from(2)
}
