//! `up --format json` and `down --format json` on a copy of the template: standard output is
//! one JSON document (no report lines, no bar) saying what ran, with durations, and on a
//! failure which revision, file and line, with the database's message.

use revise_tests::{Captured, Workspace};
use serde_json::Value;

/// Standard output parsed whole: anything besides the document fails the parse.
fn document(stdout: &str) -> Value {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
        .collect()
}

fn revisions(doc: &Value) -> Vec<(&str, &str)> {
    doc["revisions"]
        .as_array()
        .unwrap_or_else(|| panic!("no revisions list: {doc}"))
        .iter()
        .map(|r| {
            let duration = r["duration_ms"].as_f64().unwrap_or(-1.0);
            assert!(duration >= 0.0, "duration_ms is not a duration: {r}");
            (
                r["id"].as_str().unwrap_or_default(),
                r["status"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn up_and_down_of_the_template_as_json() {
    let ws = Workspace::template();

    let up = ws.run(["up", "--format", "json"]).success();

    let doc = document(&up.stdout_text());
    assert_eq!(doc["command"], "up");
    assert_eq!(doc["target"], "heads");
    assert_eq!(doc["outcome"], "completed");
    assert_eq!(
        doc["database"],
        format!("sqlite://{}", ws.root().join("template.db").display())
    );
    assert!(ids(&doc["rows_before"]).is_empty(), "{doc}");
    assert_eq!(
        ids(&doc["rows_after"]),
        ["002_add_categories", "004_remove_description"]
    );
    assert_eq!(
        revisions(&doc),
        [
            ("001_create_examples", "applied"),
            ("002_add_categories", "applied"),
            ("003_add_priority", "applied"),
            ("004_remove_description", "applied"),
        ]
    );
    assert_eq!(
        doc["revisions"][2]["path"],
        "catalog/migrations/003_add_priority_add_priority_column_to_examples.sql"
    );
    assert_eq!(doc["error"], Value::Null);

    let down = ws.run(["down", "catalog@-1", "--format", "json"]).success();

    let doc = document(&down.stdout_text());
    assert_eq!(doc["command"], "down");
    assert_eq!(doc["target"], "catalog@-1");
    assert_eq!(
        ids(&doc["rows_before"]),
        ["002_add_categories", "004_remove_description"]
    );
    assert_eq!(
        ids(&doc["rows_after"]),
        ["002_add_categories", "003_add_priority"]
    );
    assert_eq!(revisions(&doc), [("004_remove_description", "reverted")]);

    // Nothing to do is a success of its own kind.
    ws.run(["up"]).success();
    let idle = document(&ws.run(["up", "--format", "json"]).success().stdout_text());
    assert_eq!(idle["outcome"], "nothing_to_run");
    assert_eq!(idle["rows_before"], idle["rows_after"]);
    assert!(revisions(&idle).is_empty());
}

/// The line of the failure lies inside the section that failed: from its marker to the
/// end of the file.
fn assert_line_within(doc: &Value, ws: &Workspace, marker: &str) {
    let path = doc["error"]["path"].as_str().expect("a path");
    let text = ws.read(path);
    let marker_line = text
        .lines()
        .position(|l| l.starts_with(marker))
        .expect("the marker")
        + 1;
    let line = doc["error"]["line"].as_u64().expect("a line") as usize;
    assert!(
        (marker_line..=text.lines().count()).contains(&line),
        "line {line} is outside the section starting at {marker_line}: {doc}"
    );
}

#[test]
fn a_failing_up_and_a_failing_down_as_json() {
    let ws = Workspace::template();
    let file = ws.raw(
        "catalog",
        "005_broken_broken.sql",
        "-- Broken\n--\n-- Revision ID: 005_broken\n-- Revises: 004_remove_description\n\n\
         -- revise:up\nCREATE TABLE notes (id INTEGER PRIMARY KEY);\nINSERT INTO missing_table VALUES (1);\n\n\
         -- revise:down\nDROP TABLE missing_too;\n",
    );

    let up = ws.run(["up", "--format", "json"]).code(1);

    let doc = document(&up.stdout_text());
    assert_eq!(doc["outcome"], "failed");
    assert_eq!(
        revisions(&doc),
        [
            ("001_create_examples", "applied"),
            ("002_add_categories", "applied"),
            ("003_add_priority", "applied"),
            ("004_remove_description", "applied"),
            ("005_broken", "failed"),
        ]
    );
    assert_eq!(
        ids(&doc["rows_after"]),
        ["002_add_categories", "004_remove_description"]
    );
    assert_eq!(doc["error"]["revision"], "005_broken");
    assert_eq!(doc["error"]["path"], file);
    assert_line_within(&doc, &ws, "-- revise:up");
    let message = doc["error"]["database_message"]
        .as_str()
        .expect("a message");
    assert!(message.contains("missing_table"), "{doc}");
    // The error also goes to standard error, as without --format json.
    assert!(
        up.stderr_text().contains("005_broken"),
        "{}",
        up.stderr_text()
    );

    // Applied by hand past the broken up, the revision's down fails next.
    ws.run(["stamp", "005_broken"]).success();
    let down = ws.run(["down", "catalog@-1", "--format", "json"]).code(1);

    let doc = document(&down.stdout_text());
    assert_eq!(doc["command"], "down");
    assert_eq!(doc["outcome"], "failed");
    assert_eq!(revisions(&doc), [("005_broken", "failed")]);
    assert_eq!(
        ids(&doc["rows_after"]),
        ["002_add_categories", "005_broken"]
    );
    assert_eq!(doc["error"]["revision"], "005_broken");
    assert_line_within(&doc, &ws, "-- revise:down");
    let message = doc["error"]["database_message"]
        .as_str()
        .expect("a message");
    assert!(message.contains("missing_too"), "{doc}");
}

#[test]
fn json_and_sql_do_not_mix() {
    let ws = Workspace::template();

    let out = ws.run(["up", "--sql", "--format", "json"]).code(2);

    assert!(
        out.stderr_text().contains("cannot be used with"),
        "{}",
        out.stderr_text()
    );
    assert!(ws.db().untouched());
}
