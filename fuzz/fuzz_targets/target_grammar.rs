//! The target grammar and its resolution on arbitrary text, against a small graph with
//! branches, a merge, dependencies and labels, from every interesting set of rows.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use revise_runtime::graph::{NodeSet, RevisionGraph};
use revise_runtime::parse::parse_revision;
use revise_runtime::plan;
use revise_runtime::Target;

fn graph() -> &'static RevisionGraph {
    static GRAPH: OnceLock<RevisionGraph> = OnceLock::new();
    GRAPH.get_or_init(|| {
        let files = [
            ("users", "u1", "", ""),
            ("users", "u2", "u1", ""),
            ("users", "u3a", "u2", ""),
            ("users", "u3b", "u2", ""),
            ("users", "u4", "u3a, u3b", ""),
            ("billing", "b1", "", "u1"),
            ("billing", "b2", "b1", "u2"),
        ];
        let revisions = files
            .iter()
            .map(|(member, id, revises, deps)| {
                let text = format!("-- {id}\n-- Revision ID: {id}\n-- Revises: {revises}\n-- Depends On: {deps}\n-- revise:up\n-- revise:down\n");
                parse_revision(Path::new(id), member, text.as_bytes()).expect("valid")
            })
            .collect();
        RevisionGraph::build(revisions).expect("valid graph")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(target) = Target::parse(text) else { return };
    let graph = graph();
    let row_sets: [&[usize]; 5] = [&[], &[1], &[4], &[6], &[3, 2]];
    for rows in row_sets {
        let rows: NodeSet = rows.iter().copied().collect();
        if let Ok(goal) = plan::upgrade_goal(graph, &rows, &target, text) {
            let planned = plan::plan_upgrade(graph, &rows, &goal);
            assert!(planned.steps.iter().all(|s| !graph.ancestors_inclusive(rows.iter().copied()).contains(&s.node)));
        }
        if let Ok(goal) = plan::downgrade_goal(graph, &rows, &target, text) {
            let _ = plan::plan_downgrade(graph, &rows, &goal);
        }
        if let Ok(destinations) = plan::stamp_destinations(graph, &target, text) {
            let _ = plan::plan_stamp(graph, &rows, &destinations);
        }
    }
});
