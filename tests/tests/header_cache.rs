//! The header cache of the read-only commands, seen from outside: where it goes, that it can
//! be turned off, that a place it cannot be written changes nothing, and that edits show.
//! (Which files it trusts, and when, is tested next to the code: `revise-runtime/src/source`.)

use revise_tests::{Captured, Rev, Workspace};

fn workspace() -> Workspace {
    let ws = Workspace::new(&["users"]);
    ws.chain("users", &["u1", "u2", "u3"]);
    ws
}

#[test]
fn read_only_commands_keep_the_cache_in_the_target_folder() {
    let ws = workspace();
    let cache = ws.root().join("target/revise/headers");

    ws.command().arg("heads").assert().success();
    assert!(cache.exists(), "heads writes {}", cache.display());

    let elsewhere = tempfile::tempdir().expect("tempdir");
    std::fs::remove_file(&cache).expect("remove");
    ws.command()
        .arg("history")
        .env("CARGO_TARGET_DIR", elsewhere.path())
        .assert()
        .success();
    assert!(elsewhere.path().join("revise/headers").exists());
    assert!(!cache.exists(), "CARGO_TARGET_DIR moves it");
}

#[test]
fn the_cache_can_be_turned_off() {
    let ws = workspace();
    ws.command()
        .arg("heads")
        .env("REVISE_NO_CACHE", "1")
        .assert()
        .success();
    assert!(!ws.root().join("target").exists());
}

#[test]
fn a_place_the_cache_cannot_go_changes_nothing() {
    let ws = workspace();
    let expected = ws
        .command()
        .arg("history")
        .env("REVISE_NO_CACHE", "1")
        .assert()
        .success()
        .stdout_text();
    std::fs::write(ws.root().join("target"), "not a folder").expect("write");

    let out = ws.command().arg("history").assert().success();

    assert_eq!(out.stdout_text(), expected);
    assert!(out.stderr_text().is_empty(), "{}", out.stderr_text());
}

#[test]
fn edits_added_and_removed_files_show_through_the_cache() {
    let ws = workspace();
    ws.command().arg("heads").assert().success();

    let fourth = |message: &str| Rev::table("u4").revises("u3").message(message).text();
    ws.raw("users", "u4.sql", fourth("Fourth step"));
    let out = ws.command().arg("heads").assert().success();
    assert!(out.stdout_text().starts_with("u4"), "{}", out.stdout_text());

    let path = ws.raw("users", "u4.sql", fourth("Fourth, renamed"));
    let history = ws.command().arg("history").assert().success().stdout_text();
    assert!(history.contains("Fourth, renamed"), "{history}");

    std::fs::remove_file(ws.root().join(path)).expect("remove");
    let out = ws.command().arg("heads").assert().success();
    assert!(out.stdout_text().starts_with("u3"), "{}", out.stdout_text());
}
