//! The revision file parser on arbitrary bytes: it must return a revision or an error with a
//! line inside the file, never panic or loop; and the header-only parse that read-only
//! commands use must agree with it on everything but the SQL (and the blank lines trimmed
//! off the front of each section's SQL, which only a parse that keeps the SQL counts).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use revise_runtime::parse::{parse_revision, parse_revision_without_sql};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("m/migrations/f.sql");
    let full = parse_revision(path, "m", data);
    let headers = parse_revision_without_sql(path, "m", data);
    match full {
        Ok(mut revision) => {
            assert!(!revision.id.as_str().is_empty() && revision.id.as_str().len() <= 32);
            revision.up.sql.clear();
            revision.up.leading_lines = 0;
            if let Some(down) = &mut revision.down {
                down.sql.clear();
                down.leading_lines = 0;
            }
            assert_eq!(headers, Ok(revision));
        }
        Err(error) => {
            let lines = data.split(|&b| b == b'\n').count().max(1);
            assert!(error.line >= 1 && error.line <= lines, "line {} of {lines}", error.line);
            let _ = error.to_string();
            assert_eq!(headers, Err(error));
        }
    }
});
