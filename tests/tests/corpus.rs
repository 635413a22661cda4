//! Every hostile or broken input in `tests/corpus/` gives its exact expected result, and no
//! input ever makes the binary panic.
//!
//! A case is a folder: `migrations/` (the files of member `m`, symlinks included),
//! `expected` (one assertion per line, see [`check`]), and optionally `args` (one command per
//! line, default `up`; the last is checked), `setup.sql` (run on the database first),
//! `workspace.toml` (appended to the root manifest) and other files (copied to the root).

use std::fs;
use std::path::Path;
use std::process::Output;

use revise_tests::Workspace;

/// Files of a case folder that are instructions, not workspace content.
const INSTRUCTIONS: &[&str] = &[
    "expected",
    "args",
    "setup.sql",
    "workspace.toml",
    "migrations",
];

#[test]
fn every_corpus_case_gives_its_expected_result() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut cases: Vec<_> = fs::read_dir(&corpus)
        .expect("tests/corpus exists")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 40, "the corpus holds {} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let name = case
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            run_case(case).err().map(|e| format!("{name}: {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

fn run_case(case: &Path) -> Result<(), String> {
    let ws = Workspace::new(&["m"]);
    copy_tree(&case.join("migrations"), &ws.root().join("m/migrations"));
    for entry in fs::read_dir(case).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if !INSTRUCTIONS.contains(&name.as_str()) {
            fs::copy(&path, ws.root().join(&name)).map_err(|e| e.to_string())?;
        }
    }
    if let Ok(extra) = fs::read_to_string(case.join("workspace.toml")) {
        let manifest = ws.root().join("Cargo.toml");
        let text = fs::read_to_string(&manifest).map_err(|e| e.to_string())?;
        fs::write(&manifest, format!("{text}\n{extra}")).map_err(|e| e.to_string())?;
    }
    if let Ok(sql) = fs::read_to_string(case.join("setup.sql")) {
        ws.db().execute(&sql);
    }
    let args = fs::read_to_string(case.join("args")).unwrap_or_else(|_| "up\n".to_owned());
    let mut last = None;
    for line in args.lines().filter(|l| !l.trim().is_empty()) {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let output = if tokens
            .iter()
            .any(|t| *t == "--database-url" || *t == "--env-file")
        {
            ws.command()
                .args(&tokens)
                .output()
                .map_err(|e| e.to_string())?
        } else {
            ws.run(&tokens).get_output().clone()
        };
        no_panic(&output)?;
        last = Some(output);
    }
    let output = last.ok_or("no command to run")?;
    let expected = fs::read_to_string(case.join("expected")).map_err(|e| e.to_string())?;
    for line in expected.lines().filter(|l| !l.trim().is_empty()) {
        check(line, &output, &ws)?;
    }
    Ok(())
}

/// One expectation: `status N`, `stderr TEXT`, `!stderr TEXT`, `stdout TEXT`,
/// `at PATH:LINE` (the `-->` location), `untouched` (no version table), `rows A B`.
fn check(line: &str, output: &Output, ws: &Workspace) -> Result<(), String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = || format!("\n--- stdout\n{stdout}--- stderr\n{stderr}");
    let (kind, value) = line.split_once(' ').unwrap_or((line, ""));
    let ok = match kind {
        "status" => output.status.code() == value.parse().ok(),
        "stderr" => stderr.contains(value),
        "!stderr" => !stderr.contains(value) && !stdout.contains(value),
        "stdout" => stdout.contains(value),
        "at" => stderr.contains(&format!("--> {value}\n")),
        "untouched" => ws.db().untouched(),
        "rows" => ws.db().version_rows() == value.split_whitespace().collect::<Vec<_>>(),
        other => return Err(format!("unknown expectation `{other}`")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected `{line}` (status {:?}, rows {:?}){}",
            output.status.code(),
            ws.db().version_rows(),
            context()
        ))
    }
}

fn no_panic(output: &Output) -> Result<(), String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("panicked")
        || stderr.contains("RUST_BACKTRACE")
        || output.status.code() == Some(101)
    {
        return Err(format!("the binary panicked:\n{stderr}"));
    }
    Ok(())
}

/// Copies a folder, recreating symlinks as symlinks (the corpus has loops and dangling ones).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create the target folder");
    for entry in fs::read_dir(from).expect("read a corpus folder") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("a file type");
        if kind.is_symlink() {
            let link = fs::read_link(entry.path()).expect("read a symlink");
            std::os::unix::fs::symlink(link, &target).expect("create a symlink");
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a corpus file");
        }
    }
}
