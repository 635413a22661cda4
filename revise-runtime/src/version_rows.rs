//! Alembic's rules for the rows of `alembic_version`, as a pure function.
//!
//! Alembic's counterpart is `HeadMaintainer.update_to_step` with the predicates of
//! `RevisionStep` and `StampStep` (`alembic/runtime/migration.py`). The rules are tried in
//! Alembic's order; the first that matches decides the row changes. This module writes no
//! SQL: backends and the offline renderer turn [`RowChange`]s into statements.

use crate::graph::{Node, NodeSet, RevisionGraph};

/// One change to the version table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowChange {
    /// `INSERT INTO alembic_version VALUES (id)`.
    Insert(Node),
    /// `DELETE FROM alembic_version WHERE version_num = id`.
    Delete(Node),
    /// `UPDATE alembic_version SET version_num = to WHERE version_num = from`.
    Update {
        /// The row that is replaced.
        from: Node,
        /// Its new value.
        to: Node,
    },
}

/// Whether a step applies or reverts its revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Apply (upgrade).
    Up,
    /// Revert (downgrade).
    Down,
}

/// Applies `changes` to a set of rows.
pub fn apply_changes(rows: &mut NodeSet, changes: &[RowChange]) {
    for change in changes {
        match *change {
            RowChange::Insert(n) => {
                rows.insert(n);
            }
            RowChange::Delete(n) => {
                rows.remove(&n);
            }
            RowChange::Update { from, to } => {
                rows.remove(&from);
                rows.insert(to);
            }
        }
    }
}

/// The row changes of running `node` in `direction` while the table holds `rows`.
///
/// Alembic: `HeadMaintainer.update_to_step(RevisionStep)`. Where Alembic would fail with a
/// `KeyError` (it tries to touch a parent that is not a row, on graphs with a redundant
/// parent), the result keeps the rows maximal instead, as SPEC section 6 asks.
pub fn transition(
    graph: &RevisionGraph,
    rows: &NodeSet,
    node: Node,
    direction: Direction,
) -> Vec<RowChange> {
    let parents = graph.parents(node);
    let changes = match direction {
        Direction::Down => downgrade_changes(graph, rows, node, parents),
        Direction::Up => upgrade_changes(graph, rows, node, parents),
    };
    if !changes.is_empty() && touches_only_rows(rows, &changes) {
        changes
    } else {
        maximal_fallback(graph, rows, node, direction)
    }
}

fn downgrade_changes(
    graph: &RevisionGraph,
    rows: &NodeSet,
    node: Node,
    parents: &[Node],
) -> Vec<RowChange> {
    let is_row = rows.contains(&node);
    // Alembic: `RevisionStep.should_delete_branch`.
    if is_row && (parents.is_empty() || unmerge_to(graph, rows, node, parents).is_empty()) {
        return vec![RowChange::Delete(node)];
    }
    // Alembic: `RevisionStep.should_unmerge_branches` / `unmerge_branch_idents`.
    if is_row && parents.len() > 1 {
        let targets = unmerge_to(graph, rows, node, parents);
        let (last, inserted) = targets
            .split_last()
            .expect("non-empty: checked by the delete rule");
        let mut changes: Vec<RowChange> = inserted.iter().map(|&p| RowChange::Insert(p)).collect();
        changes.push(RowChange::Update {
            from: node,
            to: *last,
        });
        return changes;
    }
    // Alembic: `update_version_num`, downgrade side.
    let to = single_or_row(parents, rows).unwrap_or(node);
    vec![RowChange::Update { from: node, to }]
}

fn upgrade_changes(
    graph: &RevisionGraph,
    rows: &NodeSet,
    node: Node,
    parents: &[Node],
) -> Vec<RowChange> {
    let parent_rows = parents.iter().filter(|p| rows.contains(p)).count();
    // Alembic: `RevisionStep.should_create_branch`.
    if parent_rows == 0 {
        return vec![RowChange::Insert(node)];
    }
    // Alembic: `RevisionStep.should_merge_branches` / `merge_branch_idents`.
    if parents.len() > 1 && parent_rows >= 2 {
        let others: Vec<Node> = rows
            .iter()
            .copied()
            .filter(|r| !parents.contains(r))
            .collect();
        let merged: Vec<Node> = parents
            .iter()
            .copied()
            .filter(|&p| !below_any(graph, p, &others))
            .collect();
        let Some((last, deleted)) = merged.split_last() else {
            return Vec::new(); // nothing Alembic could touch: the fallback decides
        };
        let mut changes: Vec<RowChange> = deleted.iter().map(|&p| RowChange::Delete(p)).collect();
        changes.push(RowChange::Update {
            from: *last,
            to: node,
        });
        return changes;
    }
    // Alembic: `update_version_num`, upgrade side.
    match single_or_row(parents, rows) {
        Some(from) => vec![RowChange::Update { from, to: node }],
        None => Vec::new(),
    }
}

/// Alembic's `RevisionStep._unmerge_to_revisions`: the parents that become rows when `node`
/// is reverted.
fn unmerge_to(graph: &RevisionGraph, rows: &NodeSet, node: Node, parents: &[Node]) -> Vec<Node> {
    let others: Vec<Node> = rows.iter().copied().filter(|&r| r != node).collect();
    if others.is_empty() {
        // Drop any parent that is a strict ancestor of another parent.
        parents
            .iter()
            .copied()
            .filter(|&p| !parents.iter().any(|&q| q != p && graph.is_ancestor(p, q)))
            .collect()
    } else {
        parents
            .iter()
            .copied()
            .filter(|&p| !below_any(graph, p, &others))
            .collect()
    }
}

/// Whether `node` is one of `rows` or an ancestor of one. Alembic collects every ancestor of
/// the rows for this; asking per node walks only the part of the graph above `node` (see
/// [`RevisionGraph::is_ancestor`]), so a merge step costs a few nodes instead of the whole
/// graph: planning `up` through the 1,000 cross-member merges of 10,000 revisions took 51 ms
/// that way and takes 1.5 ms this way (BENCHMARKS.md, "In process").
fn below_any(graph: &RevisionGraph, node: Node, rows: &[Node]) -> bool {
    rows.iter().any(|&row| graph.is_ancestor(node, row))
}

/// The only parent, or else the only parent that is a row.
fn single_or_row(parents: &[Node], rows: &NodeSet) -> Option<Node> {
    match parents {
        [only] => Some(*only),
        _ => {
            let mut in_rows = parents.iter().copied().filter(|p| rows.contains(p));
            match (in_rows.next(), in_rows.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        }
    }
}

/// Whether every delete and update touches an existing row and no insert duplicates one:
/// the guards Alembic asserts (`_insert_version`, the rowcount checks).
pub fn touches_only_rows(rows: &NodeSet, changes: &[RowChange]) -> bool {
    let mut rows = rows.clone();
    for change in changes {
        let ok = match *change {
            RowChange::Insert(n) => rows.insert(n),
            RowChange::Delete(n) => rows.remove(&n),
            RowChange::Update { from, to } => rows.remove(&from) && rows.insert(to),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Where Alembic's rules cannot be followed, move the rows to the maximal revisions of the
/// applied set after the step.
fn maximal_fallback(
    graph: &RevisionGraph,
    rows: &NodeSet,
    node: Node,
    direction: Direction,
) -> Vec<RowChange> {
    let mut applied = graph.ancestors_inclusive(rows.iter().copied());
    match direction {
        Direction::Up => {
            applied.insert(node);
        }
        Direction::Down => {
            applied.remove(&node);
        }
    }
    let target = graph.maximal(&applied);
    let mut changes: Vec<RowChange> = rows
        .difference(&target)
        .map(|&n| RowChange::Delete(n))
        .collect();
    changes.extend(target.difference(rows).map(|&n| RowChange::Insert(n)));
    changes
}

/// The row changes of stamping from `from` to `to` (Alembic: `StampStep` and the same
/// `update_to_step`).
pub fn stamp_transition(
    rows: &NodeSet,
    from: &[Node],
    to: &[Node],
    is_upgrade: bool,
    branch_move: bool,
) -> Vec<RowChange> {
    // Alembic: `StampStep.should_delete_branch`.
    if !is_upgrade && branch_move {
        return from.iter().map(|&n| RowChange::Delete(n)).collect();
    }
    // Alembic: `StampStep.should_create_branch`.
    if is_upgrade
        && (branch_move || from.iter().any(|f| !rows.contains(f)))
        && to.iter().any(|t| !rows.contains(t))
    {
        return to.iter().map(|&n| RowChange::Insert(n)).collect();
    }
    // Alembic: `StampStep.should_merge_branches`.
    if from.len() > 1 {
        let (last, deleted) = from.split_last().expect("len > 1");
        let mut changes: Vec<RowChange> = deleted.iter().map(|&n| RowChange::Delete(n)).collect();
        changes.push(RowChange::Update {
            from: *last,
            to: to[0],
        });
        return changes;
    }
    // Alembic: `StampStep.should_unmerge_branches`.
    if to.len() > 1 {
        let (last, inserted) = to.split_last().expect("len > 1");
        let mut changes: Vec<RowChange> = inserted.iter().map(|&n| RowChange::Insert(n)).collect();
        changes.push(RowChange::Update {
            from: from[0],
            to: *last,
        });
        return changes;
    }
    match (from.first(), to.first()) {
        (Some(&f), Some(&t)) => vec![RowChange::Update { from: f, to: t }],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::{ids, rev, users_and_billing};

    /// Runs steps through `transition` like Alembic's `_assert_upgrade` helper.
    fn run(graph: &RevisionGraph, rows: &mut NodeSet, steps: &[(&str, Direction)]) {
        for (id, direction) in steps {
            let node = graph.node(id).expect("id");
            let changes = transition(graph, rows, node, *direction);
            apply_changes(rows, &changes);
        }
    }

    fn diamond() -> RevisionGraph {
        RevisionGraph::build(vec![
            rev("main", "a", &[], &[]),
            rev("main", "b", &["a"], &[]),
            rev("main", "c", &["a"], &[]),
            rev("main", "m", &["b", "c"], &[]),
        ])
        .expect("valid")
    }

    #[test]
    fn the_diamond_of_alembic_md() {
        use Direction::*;
        let g = diamond();
        let mut rows = NodeSet::new();
        run(&g, &mut rows, &[("a", Up), ("b", Up)]);
        assert_eq!(ids(&g, rows.clone()), ["b"]);
        run(&g, &mut rows, &[("c", Up)]);
        assert_eq!(ids(&g, rows.clone()), ["b", "c"]);
        let merge = transition(&g, &rows, 3, Up);
        assert_eq!(
            merge,
            vec![RowChange::Delete(1), RowChange::Update { from: 2, to: 3 }]
        );
        run(&g, &mut rows, &[("m", Up)]);
        assert_eq!(ids(&g, rows.clone()), ["m"]);
        run(&g, &mut rows, &[("m", Down)]);
        assert_eq!(ids(&g, rows.clone()), ["b", "c"]);
        run(&g, &mut rows, &[("b", Down), ("c", Down), ("a", Down)]);
        assert!(rows.is_empty());
    }

    #[test]
    fn dependencies_across_members() {
        use Direction::*;
        let g = users_and_billing();
        let mut rows = NodeSet::new();
        run(
            &g,
            &mut rows,
            &[("u1", Up), ("u2", Up), ("b1", Up), ("b2", Up)],
        );
        assert_eq!(ids(&g, rows.clone()), ["b2"]);
        run(&g, &mut rows, &[("b2", Down)]);
        assert_eq!(ids(&g, rows.clone()), ["u2", "b1"]);
        run(&g, &mut rows, &[("u2", Down), ("u1", Down)]);
        assert_eq!(ids(&g, rows.clone()), ["b1"]);
    }

    #[test]
    fn a_base_that_depends_on_a_row_updates_it() {
        use Direction::*;
        let g = RevisionGraph::build(vec![
            rev("mx", "a", &[], &[]),
            rev("mx", "b", &["a"], &[]),
            rev("my", "c", &[], &["b"]),
            rev("mx", "m", &["b"], &["c"]),
        ])
        .expect("valid");
        let mut rows = NodeSet::new();
        run(&g, &mut rows, &[("a", Up), ("b", Up), ("c", Up)]);
        assert_eq!(ids(&g, rows.clone()), ["c"]);
        run(&g, &mut rows, &[("m", Up)]);
        assert_eq!(ids(&g, rows.clone()), ["m"]);
    }

    #[test]
    fn the_key_error_case_keeps_rows_maximal() {
        use Direction::*;
        // c (base), p depends on c, b (base), m revises (p, b) and depends on c.
        let g = RevisionGraph::build(vec![
            rev("mc", "c", &[], &[]),
            rev("mp", "p", &[], &["c"]),
            rev("mb", "b", &[], &[]),
            rev("mb", "m", &["b"], &["p", "c"]),
        ])
        .expect("valid");
        let mut rows = NodeSet::new();
        run(&g, &mut rows, &[("c", Up), ("p", Up), ("b", Up), ("m", Up)]);
        assert_eq!(ids(&g, rows.clone()), ["m"]);
    }
}
