//! The whole load: arbitrary bytes split into up to eight files of two members, parsed and
//! built into a graph; a valid graph is then planned up to its heads and back to base, and
//! the plans must keep their promises.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use revise_runtime::graph::{NodeSet, RevisionGraph};
use revise_runtime::parse::parse_revision;
use revise_runtime::plan;
use revise_runtime::Target;

fuzz_target!(|data: &[u8]| {
    let mut revisions = Vec::new();
    for (i, chunk) in data.split(|&b| b == 0xFF).take(8).enumerate() {
        let member = if i % 2 == 0 { "a" } else { "b" };
        match parse_revision(Path::new(&format!("{member}/{i}.sql")), member, chunk) {
            Ok(revision) => revisions.push(revision),
            Err(_) => return,
        }
    }
    let Ok(graph) = RevisionGraph::build(revisions) else { return };
    let empty = NodeSet::new();
    let goal = plan::upgrade_goal(&graph, &empty, &Target::Heads, "heads").expect("heads always resolves");
    let up = plan::plan_upgrade(&graph, &empty, &goal);
    assert_eq!(up.steps.len(), graph.len(), "heads applies every revision");
    let applied = graph.ancestors_inclusive(up.rows_after.iter().copied());
    assert_eq!(applied.len(), graph.len());
    let base = plan::downgrade_goal(&graph, &up.rows_after, &Target::Base, "base").expect("base resolves");
    if let Ok(down) = plan::plan_downgrade(&graph, &up.rows_after, &base) {
        assert!(down.rows_after.is_empty());
    }
});
