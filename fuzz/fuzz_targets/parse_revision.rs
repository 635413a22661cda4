//! The revision file parser on arbitrary bytes: it must return a revision or an error with a
//! line inside the file, never panic or loop.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match revise_runtime::parse::parse_revision(Path::new("m/migrations/f.sql"), "m", data) {
        Ok(revision) => {
            assert!(!revision.id.as_str().is_empty() && revision.id.as_str().len() <= 32);
        }
        Err(error) => {
            let lines = data.split(|&b| b == b'\n').count().max(1);
            assert!(error.line >= 1 && error.line <= lines, "line {} of {lines}", error.line);
            let _ = error.to_string();
        }
    }
});
