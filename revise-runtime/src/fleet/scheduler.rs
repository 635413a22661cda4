//! Running one operation over a fleet: `jobs` worker threads take databases from one queue
//! in fleet order, at most `per_host` at a time on one server, the first `canary` alone and
//! before any other; failures are counted against `--fail-fast` and `--max-failures`.
//!
//! A database's work is [`DatabaseWork::run`]: the ordinary migrator, whose events are
//! passed on tagged with their entry. The first stop request (Ctrl-C) starts nothing new
//! and asks each migrator in flight to stop at its next revision boundary; the second
//! returns at once with the databases in flight marked interrupted, for the caller to write
//! the summary and exit, which closes their connections (the servers roll back).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use super::entry::FleetEntry;
use super::outcome::{AppliedRevision, DbRecord, DbStatus};
use super::work::DatabaseWork;
use crate::report::{Reporter, RunEvent};

/// How often waiting threads look at the stop signal.
const POLL: Duration = Duration::from_millis(50);

/// Stop requests, shared with whatever receives signals: the first asks the run to drain,
/// the second to abort.
#[derive(Clone, Debug, Default)]
pub struct StopSignal(Arc<AtomicU8>);

impl StopSignal {
    /// No request yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one more request and returns how many there were (1: drain, 2: abort).
    pub fn request(&self) -> u8 {
        self.0.fetch_add(1, Ordering::SeqCst).saturating_add(1)
    }

    /// How many requests there were.
    pub fn requests(&self) -> u8 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why the run stopped starting databases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// A stop request (Ctrl-C, SIGTERM).
    Signal,
    /// `--fail-fast`, after this database.
    FailFast(String),
    /// `--max-failures N` reached.
    MaxFailures(usize),
    /// This canary did not finish.
    Canary(String),
}

impl StopReason {
    /// Why a database was not started.
    pub fn skip_message(&self) -> String {
        match self {
            Self::Signal => "not started: the run was interrupted".to_owned(),
            Self::FailFast(id) => format!("not started: --fail-fast after `{id}` did not finish"),
            Self::MaxFailures(n) => format!("not started: --max-failures {n} reached"),
            Self::Canary(id) => format!("not started: the canary `{id}` did not finish"),
        }
    }
}

/// Receives a fleet run's progress, from the worker threads.
pub trait FleetObserver: Send + Sync {
    /// A database's run starts.
    fn started(&self, entry: &FleetEntry) {
        let _ = entry;
    }

    /// One of its migrator's events.
    fn event(&self, entry: &FleetEntry, event: &RunEvent) {
        let _ = (entry, event);
    }

    /// It ended (skipped databases are only in the result).
    fn finished(&self, record: &DbRecord) {
        let _ = record;
    }
}

/// How a fleet run is scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Worker threads (`--jobs`).
    pub jobs: usize,
    /// Databases in flight per `host:port` (`--per-host`); SQLite files are one host.
    pub per_host: usize,
    /// The first databases that run alone, in order, before any other (`--canary`).
    pub canary: usize,
    /// Stop at the first failure, the databases in flight at their next revision boundary.
    pub fail_fast: bool,
    /// Start nothing more once this many databases failed, were unreachable or locked.
    pub max_failures: Option<usize>,
}

/// How a fleet run ended.
#[derive(Debug)]
pub struct FleetRun {
    /// One record per entry, in fleet order.
    pub records: Vec<DbRecord>,
    /// Why databases were left unstarted, if they were.
    pub stopped: Option<StopReason>,
    /// Whether the run returned on a second stop request, leaving its threads behind.
    pub aborted: bool,
}

/// A database in flight: what the main thread reports if the run is aborted.
#[derive(Default)]
struct Progress {
    rows_before: Option<Vec<String>>,
    applied: Vec<AppliedRevision>,
}

struct State {
    /// Positions not started yet, in fleet order.
    queue: Vec<usize>,
    running_per_host: Vec<usize>,
    running: usize,
    progress: HashMap<usize, Progress>,
    records: Vec<Option<DbRecord>>,
    failures: usize,
    canaries_done: usize,
    stopped: Option<StopReason>,
}

struct Shared {
    entries: Vec<FleetEntry>,
    host_of: Vec<usize>,
    work: Arc<DatabaseWork>,
    observer: Arc<dyn FleetObserver>,
    schedule: Schedule,
    stop: StopSignal,
    /// Set when in-flight databases should stop at their next boundary (the first stop
    /// request, or `--fail-fast`).
    drain: AtomicBool,
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn draining(&self) -> bool {
        self.stop.requests() > 0 || self.drain.load(Ordering::SeqCst)
    }
}

impl Schedule {
    /// Runs `work` on every entry and returns when all have ended, or at once on a second
    /// stop request.
    pub fn run(
        &self,
        entries: Vec<FleetEntry>,
        work: Arc<DatabaseWork>,
        observer: Arc<dyn FleetObserver>,
        stop: StopSignal,
    ) -> FleetRun {
        let mut hosts: HashMap<String, usize> = HashMap::new();
        let host_of: Vec<usize> = entries
            .iter()
            .map(|entry| {
                let next = hosts.len();
                *hosts.entry(entry.host()).or_insert(next)
            })
            .collect();
        let count = entries.len();
        let shared = Arc::new(Shared {
            host_of,
            work,
            observer,
            schedule: *self,
            stop,
            drain: AtomicBool::new(false),
            state: Mutex::new(State {
                queue: (0..count).collect(),
                running_per_host: vec![0; hosts.len()],
                running: 0,
                progress: HashMap::new(),
                records: vec![None; count],
                failures: 0,
                canaries_done: 0,
                stopped: None,
            }),
            wake: Condvar::new(),
            entries,
        });
        let workers: Vec<JoinHandle<()>> = (0..self.jobs.clamp(1, count.max(1)))
            .filter_map(|n| {
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name(format!("revise-fleet-{n}"))
                    .spawn(move || worker(&shared))
                    .ok()
            })
            .collect();
        let aborted = wait_for_workers(&shared);
        if !aborted {
            for worker in workers {
                // A worker that panicked left its database in flight; it is reported below.
                let _ = worker.join();
            }
        }
        let mut state = shared.lock();
        let stopped = state
            .stopped
            .clone()
            .or_else(|| (shared.stop.requests() > 0).then_some(StopReason::Signal));
        let skip = stopped
            .as_ref()
            .map_or_else(|| "not started".to_owned(), StopReason::skip_message);
        let progress = std::mem::take(&mut state.progress);
        let records = std::mem::take(&mut state.records)
            .into_iter()
            .enumerate()
            .map(|(position, record)| {
                record.unwrap_or_else(|| {
                    let entry = &shared.entries[position];
                    match progress.get(&position) {
                        Some(progress) => {
                            let mut record = DbRecord::new(entry, DbStatus::Interrupted)
                                .with_message("the run was aborted (second interrupt) inside a revision: its connection was closed and the server rolled that revision back");
                            record.rows_before = progress.rows_before.clone();
                            record.applied = progress.applied.clone();
                            record
                        }
                        None => DbRecord::new(entry, DbStatus::Skipped).with_message(skip.clone()),
                    }
                })
            })
            .collect();
        FleetRun {
            records,
            stopped,
            aborted,
        }
    }
}

/// Waits until every database has ended or nothing more will start; true when a second
/// stop request ended the wait early.
fn wait_for_workers(shared: &Shared) -> bool {
    let mut state = shared.lock();
    loop {
        if shared.stop.requests() >= 2 {
            return true;
        }
        let nothing_more = state.queue.is_empty() || state.stopped.is_some() || shared.draining();
        if state.running == 0 && nothing_more {
            return false;
        }
        state = shared
            .wake
            .wait_timeout(state, POLL)
            .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
    }
}

fn worker(shared: &Arc<Shared>) {
    while let Some(position) = next_database(shared) {
        let entry = &shared.entries[position];
        shared.observer.started(entry);
        let mut reporter = Tagged { shared, position };
        // A bug that panics in one database's run must not leave the run waiting for it
        // forever: that database ends failed, and the others go on.
        let record = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            shared.work.run(entry, &mut reporter)
        }))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            DbRecord::new(entry, DbStatus::Failed)
                .with_message(format!("internal error (a bug; please report it): {what}"))
        });
        finish(shared, position, &record);
        shared.observer.finished(&record);
        shared.wake.notify_all();
    }
    shared.wake.notify_all();
}

/// Takes the next database this worker may start, waiting while per-host limits or the
/// canary hold the rest back; `None` when nothing more will start.
fn next_database(shared: &Shared) -> Option<usize> {
    let mut state = shared.lock();
    loop {
        if state.stopped.is_some() || shared.draining() || state.queue.is_empty() {
            return None;
        }
        if let Some(index) = eligible(shared, &state) {
            let position = state.queue.remove(index);
            state.running += 1;
            state.running_per_host[shared.host_of[position]] += 1;
            state.progress.insert(position, Progress::default());
            return Some(position);
        }
        state = shared
            .wake
            .wait_timeout(state, POLL)
            .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
    }
}

/// The queue index of the first database that may start now.
fn eligible(shared: &Shared, state: &State) -> Option<usize> {
    let canary = shared.schedule.canary;
    if state.canaries_done < canary.min(shared.entries.len()) {
        // Canaries run alone and in order: the next one, once nothing else runs.
        return (state.running == 0).then_some(0);
    }
    let per_host = shared.schedule.per_host.max(1);
    state
        .queue
        .iter()
        .position(|&position| state.running_per_host[shared.host_of[position]] < per_host)
}

/// Records how a database ended and applies the failure policies.
fn finish(shared: &Shared, position: usize, record: &DbRecord) {
    let mut state = shared.lock();
    state.running -= 1;
    state.running_per_host[shared.host_of[position]] -= 1;
    state.progress.remove(&position);
    let schedule = &shared.schedule;
    if shared.stop.requests() > 0 && state.stopped.is_none() {
        state.stopped = Some(StopReason::Signal);
    }
    if position < schedule.canary {
        state.canaries_done += 1;
        if !record.status.finished() && state.stopped.is_none() {
            state.stopped = Some(StopReason::Canary(record.id.clone()));
        }
    }
    if record.status.is_failure() {
        state.failures += 1;
        if schedule.fail_fast && state.stopped.is_none() {
            state.stopped = Some(StopReason::FailFast(record.id.clone()));
            shared.drain.store(true, Ordering::SeqCst);
        }
        if let Some(limit) = schedule.max_failures {
            if state.failures >= limit && state.stopped.is_none() {
                state.stopped = Some(StopReason::MaxFailures(limit));
            }
        }
    }
    // After an abort the main thread has taken the records and returned; a worker that
    // ends meanwhile has nowhere to put its own.
    if let Some(slot) = state.records.get_mut(position) {
        *slot = Some(record.clone());
    }
}

/// The reporter a database's migrator gets: events go to the observer tagged with the
/// entry, progress is kept for an abort, and a stop request stops the migrator at the
/// next revision boundary.
struct Tagged<'a> {
    shared: &'a Shared,
    position: usize,
}

impl Reporter for Tagged<'_> {
    fn report(&mut self, event: &RunEvent) {
        match event {
            RunEvent::Current { rows } => {
                if let Some(progress) = self.shared.lock().progress.get_mut(&self.position) {
                    progress.rows_before = Some(rows.clone());
                }
            }
            RunEvent::StepFinished {
                revision, elapsed, ..
            } => {
                if let Some(progress) = self.shared.lock().progress.get_mut(&self.position) {
                    progress.applied.push(AppliedRevision {
                        id: revision.id.clone(),
                        duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                    });
                }
            }
            _ => {}
        }
        self.shared
            .observer
            .event(&self.shared.entries[self.position], event);
    }

    fn stop_requested(&mut self) -> bool {
        self.shared.draining()
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::backend::{DatabaseUrl, VersionTable};
    use crate::embedded::{parse_files, EmbeddedFile};
    use crate::fleet::{FleetGraphs, Operation};

    /// Watches a run: how many databases were in flight at most, and the order they
    /// started and ended in.
    #[derive(Default)]
    struct Watch {
        in_flight: AtomicUsize,
        most: AtomicUsize,
        log: Mutex<Vec<String>>,
    }

    impl FleetObserver for Watch {
        fn started(&self, entry: &FleetEntry) {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            self.log
                .lock()
                .expect("log")
                .push(format!("start {}", entry.id));
        }

        fn finished(&self, record: &DbRecord) {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.log
                .lock()
                .expect("log")
                .push(format!("end {}", record.id));
        }
    }

    /// `count` SQLite files in `dir`, those in `broken` with the revision's table already
    /// there (so it fails), and the work of applying one revision to each.
    fn fleet(
        dir: &std::path::Path,
        count: usize,
        broken: &[usize],
    ) -> (Vec<FleetEntry>, Arc<DatabaseWork>) {
        let graph = parse_files(&[EmbeddedFile {
            member: "app",
            path: "app/migrations/t1.sql",
            text: "-- t1\n-- Revision ID: t1\n-- Revises:\n\n-- revise:up\nCREATE TABLE t1 (x INTEGER);\n",
            checksum: None,
        }])
        .expect("a graph");
        let fleet: Arc<str> = "stores".into();
        let entries = (0..count)
            .map(|i| {
                let path = dir.join(format!("s{i}.db"));
                let mut conn =
                    crate::connect(&DatabaseUrl::Sqlite { path: path.clone() }).expect("a file");
                if broken.contains(&i) {
                    conn.batch_execute("CREATE TABLE t1 (x INTEGER);")
                        .expect("set up");
                }
                FleetEntry {
                    id: format!("s{i}"),
                    fleet: fleet.clone(),
                    url: DatabaseUrl::Sqlite { path },
                    schema: None,
                    packages: None,
                    create_schema: false,
                }
            })
            .collect();
        let work = DatabaseWork {
            graphs: FleetGraphs::of(graph),
            operation: Operation::Up("heads".to_owned()),
            plan: false,
            version_table: VersionTable::default(),
            lock_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
        };
        (entries, Arc::new(work))
    }

    fn schedule(canary: usize, max_failures: Option<usize>) -> Schedule {
        Schedule {
            jobs: 4,
            per_host: 2,
            canary,
            fail_fast: false,
            max_failures,
        }
    }

    fn statuses(run: &FleetRun) -> Vec<DbStatus> {
        run.records.iter().map(|r| r.status).collect()
    }

    #[test]
    fn the_canary_runs_alone_and_sqlite_files_share_one_host() {
        let dir = tempfile::tempdir().expect("a folder");
        let (entries, work) = fleet(dir.path(), 12, &[]);
        let watch = Arc::new(Watch::default());
        let run = schedule(1, None).run(entries, work, watch.clone(), StopSignal::new());
        assert!(statuses(&run).iter().all(|s| *s == DbStatus::Migrated));
        assert!(run.stopped.is_none() && !run.aborted);
        let log = watch.log.lock().expect("log").clone();
        assert_eq!(log[..2], ["start s0", "end s0"], "{log:?}");
        assert!(
            watch.most.load(Ordering::SeqCst) <= 2,
            "per host 2: {log:?}"
        );
        // Records come in fleet order, whatever order they ended in.
        let ids: Vec<&str> = run.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, (0..12).map(|i| format!("s{i}")).collect::<Vec<_>>());
    }

    #[test]
    fn a_failed_canary_skips_the_rest_and_max_failures_stops_starting() {
        let dir = tempfile::tempdir().expect("a folder");
        let (entries, work) = fleet(dir.path(), 5, &[0]);
        let run =
            schedule(1, None).run(entries, work, Arc::new(Watch::default()), StopSignal::new());
        assert_eq!(
            statuses(&run),
            [
                DbStatus::Failed,
                DbStatus::Skipped,
                DbStatus::Skipped,
                DbStatus::Skipped,
                DbStatus::Skipped
            ]
        );
        assert_eq!(run.stopped, Some(StopReason::Canary("s0".to_owned())));

        let dir = tempfile::tempdir().expect("a folder");
        let (entries, work) = fleet(dir.path(), 6, &[0, 1]);
        let one_at_a_time = Schedule {
            jobs: 1,
            ..schedule(0, Some(2))
        };
        let run = one_at_a_time.run(entries, work, Arc::new(Watch::default()), StopSignal::new());
        assert_eq!(statuses(&run)[..2], [DbStatus::Failed, DbStatus::Failed]);
        assert!(statuses(&run)[2..].iter().all(|s| *s == DbStatus::Skipped));
        assert_eq!(run.stopped, Some(StopReason::MaxFailures(2)));
    }

    #[test]
    fn a_stop_request_before_the_start_skips_everything() {
        let dir = tempfile::tempdir().expect("a folder");
        let (entries, work) = fleet(dir.path(), 3, &[]);
        let stop = StopSignal::new();
        assert_eq!(stop.request(), 1);
        let run = schedule(0, None).run(entries, work, Arc::new(Watch::default()), stop);
        assert!(statuses(&run).iter().all(|s| *s == DbStatus::Skipped));
        assert_eq!(run.stopped, Some(StopReason::Signal));
    }
}
