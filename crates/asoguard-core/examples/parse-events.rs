//! The parsing floor for whole-process timings: read every `.yaml`/`.yml` file under a
//! directory and pull every granit-parser event, building nothing, on one thread. By default
//! the parser runs with its default options (comments captured as events); `--no-comments`
//! turns comment capture off, as asoguard parses a text that does not name asoguard.
//!
//! ```sh
//! cargo run --release -p asoguard-core --example parse-events -- DIR [--no-comments]
//! /usr/bin/time -f "%e s %U user %S sys %M KB" target/release/examples/parse-events DIR
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, comments) = match args.as_slice() {
        [dir] => (dir, true),
        [dir, flag] if flag == "--no-comments" => (dir, false),
        _ => {
            eprintln!("usage: parse-events DIR [--no-comments]");
            return ExitCode::from(2);
        }
    };
    let mut options = granit_parser::Options::default();
    options.set_emit_comments(comments);
    let (mut files, mut bytes, mut events, mut errors) = (0usize, 0usize, 0usize, 0usize);
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_file() || !asoguard_core::discover::is_yaml_name(entry.path()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        files += 1;
        bytes += text.len();
        for event in granit_parser::Parser::new_from_str_with_options(&text, options.clone()) {
            if event.is_err() {
                errors += 1;
                break;
            }
            events += 1;
        }
    }
    println!("{files} files, {bytes} bytes, {events} events, {errors} with errors");
    ExitCode::SUCCESS
}
