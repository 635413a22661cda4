//! `up --format json` and `down --format json`: the run as one JSON document, for CI.
//!
//! [`RunRecord`] is a [`Reporter`] that keeps what the migrator's events say (the rows before
//! and after, each step with its duration) instead of printing; [`RunRecord::document`] adds
//! the outcome and, on failure, the revision, file, line and the database's message.

use std::time::{Duration, Instant};

use revise_runtime::report::{Reporter, RevisionSummary, RunEvent};
use revise_runtime::version_rows::Direction;
use revise_runtime::{DatabaseUrl, MigrateError, Outcome};
use serde_json::{json, Value};

/// One revision the run applied, reverted, or failed on.
struct StepRecord {
    revision: RevisionSummary,
    direction: Direction,
    elapsed: Duration,
    failed: bool,
}

/// The events of one run, kept for the JSON document.
#[derive(Default)]
pub struct RunRecord {
    rows_before: Option<Vec<String>>,
    rows_after: Option<Vec<String>>,
    /// The step under way: its revision, direction and start.
    running: Option<(RevisionSummary, Direction, Instant)>,
    steps: Vec<StepRecord>,
    nothing_to_run: bool,
    waited_for_lock: bool,
    replanned: usize,
    left_behind: Option<String>,
}

impl Reporter for RunRecord {
    fn report(&mut self, event: &RunEvent) {
        match event {
            RunEvent::WaitingForLock => self.waited_for_lock = true,
            RunEvent::Current { rows } => self.rows_before = Some(rows.clone()),
            RunEvent::NothingToRun { .. } => {
                self.nothing_to_run = true;
                self.rows_after.clone_from(&self.rows_before);
            }
            RunEvent::StepStarted {
                direction,
                revision,
                ..
            } => self.running = Some((revision.clone(), *direction, Instant::now())),
            RunEvent::StepFinished { elapsed, .. } => {
                if let Some((revision, direction, _)) = self.running.take() {
                    self.steps.push(StepRecord {
                        revision,
                        direction,
                        elapsed: *elapsed,
                        failed: false,
                    });
                }
            }
            RunEvent::Replanned { .. } => self.replanned += 1,
            RunEvent::Completed { rows, .. } => self.rows_after = Some(rows.clone()),
            RunEvent::Failed {
                rows, left_behind, ..
            } => {
                if let Some((revision, direction, started)) = self.running.take() {
                    self.steps.push(StepRecord {
                        revision,
                        direction,
                        elapsed: started.elapsed(),
                        failed: true,
                    });
                }
                self.rows_after = Some(rows.clone());
                self.left_behind.clone_from(left_behind);
            }
            RunEvent::Checking | RunEvent::Pending { .. } => {}
        }
    }
}

impl RunRecord {
    /// The document: what was asked (`command`, `target`), where (`url`, password hidden),
    /// and what happened.
    pub fn document(
        &self,
        command: &str,
        target: &str,
        url: &DatabaseUrl,
        result: &Result<Outcome, MigrateError>,
    ) -> Value {
        let outcome = match result {
            Ok(_) if self.nothing_to_run => "nothing_to_run",
            Ok(_) => "completed",
            Err(_) => "failed",
        };
        // Nothing was committed when no step started: the rows are still those read first.
        let rows_after = match (
            &self.rows_after,
            self.steps.is_empty() && self.running.is_none(),
        ) {
            (Some(rows), _) => Some(rows.clone()),
            (None, true) => self.rows_before.clone(),
            (None, false) => None,
        };
        json!({
            "command": command,
            "target": target,
            "database": url.to_string(),
            "outcome": outcome,
            "rows_before": self.rows_before,
            "rows_after": rows_after,
            "revisions": self.steps.iter().map(step_json).collect::<Vec<_>>(),
            "waited_for_lock": self.waited_for_lock,
            "replanned": self.replanned,
            "error": result.as_ref().err().map(|e| self.error_json(e)),
        })
    }

    fn error_json(&self, error: &MigrateError) -> Value {
        match error {
            MigrateError::StepFailed {
                id,
                path,
                line,
                failure,
                ..
            } => json!({
                "message": error.to_string(),
                "revision": id,
                "path": path,
                "line": line,
                "database_message": failure.message,
                "detail": failure.detail,
                "hint": failure.hint,
                "code": failure.code,
                "statement": failure.statement.as_ref().map(|s| s.number),
                "left_behind": self.left_behind,
            }),
            other => json!({
                "message": other.to_string(),
                "revision": null,
                "path": null,
                "line": null,
                "database_message": match other {
                    MigrateError::Db(db) => Some(db.message.as_str()),
                    _ => None,
                },
                "left_behind": null,
            }),
        }
    }
}

fn step_json(step: &StepRecord) -> Value {
    let status = match (step.failed, step.direction) {
        (true, _) => "failed",
        (false, Direction::Up) => "applied",
        (false, Direction::Down) => "reverted",
    };
    json!({
        "id": step.revision.id,
        "message": step.revision.message,
        "path": step.revision.path,
        "status": status,
        "duration_ms": step.elapsed.as_secs_f64() * 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str) -> RevisionSummary {
        RevisionSummary {
            id: id.into(),
            message: format!("Create {id}"),
            path: format!("m/migrations/{id}.sql"),
        }
    }

    #[test]
    fn a_failed_step_is_recorded_with_the_rows_left() {
        let mut record = RunRecord::default();
        let url = DatabaseUrl::parse("mariadb://u:secret@h/app", std::path::Path::new("/"))
            .expect("a valid URL");
        for event in [
            RunEvent::Checking,
            RunEvent::Current { rows: vec![] },
            RunEvent::StepStarted {
                index: 0,
                total: 2,
                direction: Direction::Up,
                revision: summary("a"),
            },
            RunEvent::StepFinished {
                index: 0,
                total: 2,
                revision: summary("a"),
                elapsed: Duration::from_millis(3),
            },
            RunEvent::StepStarted {
                index: 1,
                total: 2,
                direction: Direction::Up,
                revision: summary("b"),
            },
            RunEvent::Failed {
                revision: summary("b"),
                rows: vec!["a".into()],
                left_behind: None,
                line: 7,
                failure: revise_runtime::failure::SqlFailure {
                    message: "no such table: x".into(),
                    detail: None,
                    hint: None,
                    code: None,
                    statement: None,
                },
            },
        ] {
            record.report(&event);
        }
        // A failing revision's own error is covered end to end (tests/tests/run_json.rs);
        // here the database fails outside the revision's SQL.
        let error = MigrateError::Db(revise_runtime::DbError {
            context: "reading the version table".into(),
            message: "server has gone away".into(),
        });
        let doc = record.document("up", "heads", &url, &Err(error));
        assert_eq!(doc["database"], "mariadb://u:***@h/app");
        assert_eq!(doc["outcome"], "failed");
        assert_eq!(doc["rows_before"], json!([]));
        assert_eq!(doc["rows_after"], json!(["a"]));
        assert_eq!(doc["revisions"][0]["status"], "applied");
        assert_eq!(doc["revisions"][0]["duration_ms"], 3.0);
        assert_eq!(doc["revisions"][1]["status"], "failed");
        assert_eq!(doc["error"]["revision"], Value::Null);
        assert_eq!(doc["error"]["database_message"], "server has gone away");
    }
}
