//! The validated revision graph over every member, and the queries the planner needs.
//!
//! Alembic's counterpart is `RevisionMap`. The graph knows nothing about databases or target
//! strings. Revisions are addressed by [`Node`], their index in load order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::path::PathBuf;

use crate::id_index::{Clash, IdIndex};
use crate::revision::{shown_line, Revision};

/// A revision's index in the graph (its position in load order).
pub type Node = usize;

/// A set of revisions, ordered by load order so iteration is deterministic.
pub type NodeSet = BTreeSet<Node>;

/// A reason the revisions do not form a valid graph, with the file and line to look at.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {kind}", path.display())]
pub struct GraphError {
    /// The file that holds the mistake.
    pub path: PathBuf,
    /// Its 1-based line.
    pub line: usize,
    /// What is wrong.
    pub kind: GraphErrorKind,
}

/// What is wrong with the graph.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GraphErrorKind {
    /// Two files declare one id.
    #[error("revision id `{id}` is also declared by {}; every revision needs its own id", other.display())]
    DuplicateId {
        /// The id.
        id: String,
        /// The other file.
        other: PathBuf,
    },
    /// Two ids that differ only in letter case: MySQL's version column compares them equal.
    #[error("revision id `{id}` differs only in letter case from `{other_id}` ({}); MySQL compares them equal, so choose distinct ids", other.display())]
    CaseCollision {
        /// This id.
        id: String,
        /// The other id.
        other_id: String,
        /// The other file.
        other: PathBuf,
    },
    /// `Revises` names an id that no file declares.
    #[error("`Revises` names `{0}`, but no revision file declares that id")]
    UnknownParent(String),
    /// `Revises` names a revision of another member.
    #[error("`Revises` names `{parent}` of member `{parent_member}`; a revision may only revise revisions of its own member (`{member}`); use `Depends On` to wait for another member")]
    CrossMemberParent {
        /// The parent id.
        parent: String,
        /// The parent's member.
        parent_member: String,
        /// This revision's member.
        member: String,
    },
    /// `Depends On` names something that resolves to no revision.
    #[error("`Depends On` names `{0}`, which is neither a revision id, a unique id prefix nor a branch label")]
    UnknownDependency(String),
    /// `Depends On` names an ambiguous prefix.
    #[error("`Depends On` names `{prefix}`, which is a prefix of several revisions: {}", candidates.join(", "))]
    AmbiguousDependency {
        /// The prefix.
        prefix: String,
        /// The revisions it could mean.
        candidates: Vec<String>,
    },
    /// A member has a second revision with an empty `Revises`.
    #[error("member `{member}` has a second root: this file and {} both have an empty `Revises`; an independent line of revisions belongs in a member of its own", other.display())]
    SecondRoot {
        /// The member.
        member: String,
        /// The other root's file.
        other: PathBuf,
    },
    /// A label declared twice.
    #[error("branch label `{label}` is already used by revision `{owner}` ({}); labels must be unique", owner_path.display())]
    DuplicateLabel {
        /// The label.
        label: String,
        /// The revision that declared it first.
        owner: String,
        /// That revision's file.
        owner_path: PathBuf,
    },
    /// A label that is also an id would make targets ambiguous.
    #[error("branch label `{0}` is also a revision id; choose a label that is not an id")]
    LabelIsId(String),
    /// The revisions depend on each other in a circle.
    #[error("revisions form a cycle through `Revises`/`Depends On`: {}", ids.join(" -> "))]
    Cycle {
        /// The ids around the cycle, the first repeated at the end.
        ids: Vec<String>,
    },
}

/// The validated graph of every member's revisions.
#[derive(Clone, Debug)]
pub struct RevisionGraph {
    revisions: Vec<Revision>,
    /// Every node, sorted by id: lookups by binary search without a second copy of each id.
    by_id: Vec<Node>,
    revises: Adjacency,
    depends_on: Adjacency,
    parents: Adjacency,
    children: Adjacency,
    all_children: Adjacency,
    /// Each node's position in `order`.
    rank: Vec<usize>,
    label_owner: BTreeMap<String, Node>,
    order: Vec<Node>,
}

impl RevisionGraph {
    /// Validates `revisions` (in load order: members in workspace order, files by name) and
    /// builds the graph, or returns every problem found.
    pub fn build(revisions: Vec<Revision>) -> Result<Self, Vec<GraphError>> {
        let mut errors = Vec::new();
        let by_id = index_ids(&revisions, &mut errors);
        let revises = resolve_revises(&revisions, &by_id, &mut errors);
        let label_owner = declare_labels(&revisions, &revises, &by_id, &mut errors);
        let depends_on = resolve_depends_on(&revisions, &by_id, &label_owner, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        // Every edge once: `Revises`, then the dependencies that are not also parents.
        let mut needs = Adjacency::with_capacity(revisions.len(), revises.targets.len());
        for node in 0..revisions.len() {
            for &parent in revises.get(node).iter().chain(depends_on.get(node)) {
                needs.push_unique(parent);
            }
            needs.end_row();
        }
        let all_children = needs.reversed();
        // Without errors every revision is in the index, in id order.
        let by_id = by_id.into_sorted();
        let order = match topological_order(&revisions, &by_id, &needs, &all_children) {
            Ok(order) => order,
            Err(cycle) => return Err(vec![cycle]),
        };
        drop(needs);
        let parents = normalized_parents(&revises, &depends_on, &order);
        let children = revises.reversed();
        let mut rank = vec![0; revisions.len()];
        for (position, &node) in order.iter().enumerate() {
            rank[node] = position;
        }
        Ok(Self {
            revisions,
            by_id,
            revises,
            depends_on,
            parents,
            children,
            all_children,
            rank,
            label_owner,
            order,
        })
    }

    /// Every revision, in load order.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// The revision at `node`.
    pub fn revision(&self, node: Node) -> &Revision {
        &self.revisions[node]
    }

    /// The id of the revision at `node`.
    pub fn id(&self, node: Node) -> &str {
        self.revisions[node].id.as_str()
    }

    /// The number of revisions.
    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    /// True when no member has a revision yet.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The revision with exactly this id.
    pub fn node(&self, id: &str) -> Option<Node> {
        self.by_id
            .binary_search_by(|&n| self.revisions[n].id.as_str().cmp(id))
            .ok()
            .map(|i| self.by_id[i])
    }

    /// The `Revises` parents of `node`.
    pub fn revises(&self, node: Node) -> &[Node] {
        self.revises.get(node)
    }

    /// The resolved `Depends On` revisions of `node`.
    pub fn depends_on(&self, node: Node) -> &[Node] {
        self.depends_on.get(node)
    }

    /// Alembic's `_normalized_down_revisions`, D(R): `Revises` followed by the dependencies
    /// that no `Revises`-ancestor already lists. The version-row rules are written in it.
    pub fn parents(&self, node: Node) -> &[Node] {
        self.parents.get(node)
    }

    /// The revisions whose `Revises` names `node` (Alembic's `nextrev`).
    pub fn children(&self, node: Node) -> &[Node] {
        self.children.get(node)
    }

    /// The revisions that revise or depend on `node` (Alembic's `_all_nextrev`).
    pub fn all_children(&self, node: Node) -> &[Node] {
        self.all_children.get(node)
    }

    /// Every revision in an order where parents and dependencies come first.
    pub fn order(&self) -> &[Node] {
        &self.order
    }

    /// The heads by `Revises` only (Alembic's `heads`): no revision revises them. `head` and
    /// `LABEL@head` choose among these.
    pub fn heads(&self) -> Vec<Node> {
        (0..self.len())
            .filter(|&n| self.children.get(n).is_empty())
            .collect()
    }

    /// The heads that nothing revises or depends on (Alembic's `_real_heads`): the target
    /// `heads`.
    pub fn real_heads(&self) -> Vec<Node> {
        (0..self.len())
            .filter(|&n| self.all_children.get(n).is_empty())
            .collect()
    }

    /// The revisions with an empty `Revises` (one per member).
    pub fn bases(&self) -> Vec<Node> {
        (0..self.len())
            .filter(|&n| self.revises.get(n).is_empty())
            .collect()
    }

    /// True when several revisions revise `node`.
    pub fn is_branch_point(&self, node: Node) -> bool {
        self.children.get(node).len() > 1
    }

    /// True when `node` revises several revisions.
    pub fn is_merge_point(&self, node: Node) -> bool {
        self.revises.get(node).len() > 1
    }

    /// `nodes` and everything they need: parents and dependencies, transitively.
    pub fn ancestors_inclusive(&self, nodes: impl IntoIterator<Item = Node>) -> NodeSet {
        self.walk(nodes, |n| self.parents.get(n))
    }

    /// [`Self::ancestors_inclusive`] as a flag per node, for testing many nodes (planning
    /// tests every revision against two such sets; looking each up in a `NodeSet` made
    /// planning at 10,000 revisions grow 20 times from 1,000).
    pub(crate) fn ancestor_flags(&self, nodes: impl IntoIterator<Item = Node>) -> Vec<bool> {
        self.walk_flags(nodes, |n| self.parents.get(n))
    }

    /// [`Self::descendants_inclusive`] as a flag per node.
    pub(crate) fn descendant_flags(&self, nodes: impl IntoIterator<Item = Node>) -> Vec<bool> {
        self.walk_flags(nodes, |n| self.all_children.get(n))
    }

    /// `nodes` and everything that revises or depends on them, transitively.
    pub fn descendants_inclusive(&self, nodes: impl IntoIterator<Item = Node>) -> NodeSet {
        self.walk(nodes, |n| self.all_children.get(n))
    }

    /// Whether `ancestor` is `node` or reached from it through parents and dependencies.
    /// The walk never goes below `ancestor`'s place in the topological order, so checking a
    /// nearby parent costs a few steps even at 10,000 revisions.
    pub fn is_ancestor(&self, ancestor: Node, node: Node) -> bool {
        if ancestor == node {
            return true;
        }
        let floor = self.rank[ancestor];
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            for &p in self.parents.get(n) {
                if p == ancestor {
                    return true;
                }
                if self.rank[p] > floor && seen.insert(p) {
                    stack.push(p);
                }
            }
        }
        false
    }

    /// Alembic's `_get_all_current`: the applied revisions (the rows and everything they
    /// need) that no applied revision revises. `current` prints these, and relative
    /// downgrades of a label start from them.
    pub fn applied_branch_heads(&self, rows: impl IntoIterator<Item = Node>) -> Vec<Node> {
        let applied = self.ancestors_inclusive(rows);
        applied
            .iter()
            .copied()
            .filter(|&n| !self.children.get(n).iter().any(|c| applied.contains(c)))
            .collect()
    }

    /// `nodes` and their ancestors by `Revises` only.
    pub fn revises_ancestors_inclusive(&self, nodes: impl IntoIterator<Item = Node>) -> NodeSet {
        self.walk(nodes, |n| self.revises.get(n))
    }

    /// `nodes` and their descendants by `Revises` only.
    pub fn revises_descendants_inclusive(&self, nodes: impl IntoIterator<Item = Node>) -> NodeSet {
        self.walk(nodes, |n| self.children.get(n))
    }

    /// Alembic's `_shares_lineage`: `other` is an ancestor or descendant of `node` (or `node`
    /// itself), by `Revises` only or also through dependencies.
    pub fn shares_lineage(&self, node: Node, other: Node, include_dependencies: bool) -> bool {
        if include_dependencies {
            self.ancestors_inclusive([node]).contains(&other)
                || self.descendants_inclusive([node]).contains(&other)
        } else {
            self.revises_ancestors_inclusive([node]).contains(&other)
                || self.revises_descendants_inclusive([node]).contains(&other)
        }
    }

    /// The members of `set` that no other member of `set` descends from: what the version
    /// table holds for an applied set.
    pub fn maximal(&self, set: &NodeSet) -> NodeSet {
        set.iter()
            .copied()
            .filter(|&n| !self.all_children.get(n).iter().any(|c| set.contains(c)))
            .collect()
    }

    /// The revision that declares `label` (a member's root for the member's label).
    pub fn label_owner(&self, label: &str) -> Option<Node> {
        self.label_owner.get(label).copied()
    }

    /// Every label with the revision that declares it.
    pub fn labels(&self) -> impl Iterator<Item = (&str, Node)> {
        self.label_owner.iter().map(|(l, n)| (l.as_str(), *n))
    }

    /// The labels declared by `node` (its member's label if it is the root, and its own).
    pub fn labels_declared_by(&self, node: Node) -> Vec<&str> {
        self.labels()
            .filter(|(_, owner)| *owner == node)
            .map(|(l, _)| l)
            .collect()
    }

    /// Every node reached from `nodes` (included) through `next`, as a flag per node.
    fn walk_flags<'a>(
        &'a self,
        nodes: impl IntoIterator<Item = Node>,
        next: impl Fn(Node) -> &'a [Node],
    ) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<Node> = nodes.into_iter().collect();
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(next(n).iter().copied().filter(|&m| !seen[m]));
            }
        }
        seen
    }

    /// [`Self::walk_flags`] as a set, built at once from the flags (already in order) rather
    /// than by an insert per node: planning walked 10,000 revisions twice per plan that way.
    fn walk<'a>(
        &'a self,
        nodes: impl IntoIterator<Item = Node>,
        next: impl Fn(Node) -> &'a [Node],
    ) -> NodeSet {
        let flags = self.walk_flags(nodes, next);
        (0..flags.len()).filter(|&n| flags[n]).collect()
    }
}

/// Adjacency lists in one allocation (compressed rows), built row by row in node order: at
/// 10,000 revisions, a vector per node and list cost 50,000 allocations (a fifth of `heads`)
/// and megabytes that `heads` and `current` have no use for.
#[derive(Clone, Debug)]
struct Adjacency {
    /// Row `n` is `targets[offsets[n]..offsets[n + 1]]`.
    offsets: Vec<u32>,
    targets: Vec<Node>,
}

impl Adjacency {
    fn with_capacity(rows: usize, targets: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self {
            offsets,
            targets: Vec::with_capacity(targets),
        }
    }

    /// Adds `target` to the row being built, unless the row has it already.
    fn push_unique(&mut self, target: Node) {
        let row_start = self.offsets.last().map_or(0, |&o| o as usize);
        if !self.targets[row_start..].contains(&target) {
            self.targets.push(target);
        }
    }

    /// Closes the row being built; the next pushes go to the next node.
    fn end_row(&mut self) {
        self.offsets
            .push(u32::try_from(self.targets.len()).unwrap_or(u32::MAX));
    }

    fn get(&self, node: Node) -> &[Node] {
        &self.targets[self.offsets[node] as usize..self.offsets[node + 1] as usize]
    }

    fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The same edges pointing the other way; each row lists its sources in node order.
    fn reversed(&self) -> Self {
        let rows = self.rows();
        let mut offsets = vec![0u32; rows + 1];
        for &target in &self.targets {
            offsets[target + 1] += 1;
        }
        for row in 0..rows {
            offsets[row + 1] += offsets[row];
        }
        let mut next: Vec<u32> = offsets[..rows].to_vec();
        let mut targets = vec![0; self.targets.len()];
        for source in 0..rows {
            for &target in self.get(source) {
                targets[next[target] as usize] = source;
                next[target] += 1;
            }
        }
        Self { offsets, targets }
    }
}

fn graph_error(rev: &Revision, line: u32, kind: GraphErrorKind) -> GraphError {
    GraphError {
        path: rev.origin.path.clone(),
        line: shown_line(line.max(1)),
        kind,
    }
}

fn index_ids<'a>(revisions: &'a [Revision], errors: &mut Vec<GraphError>) -> IdIndex<'a> {
    let (index, clashes) = IdIndex::build(revisions);
    for (node, clash) in clashes {
        let rev = &revisions[node];
        let kind = match clash {
            Clash::Case { other } => GraphErrorKind::CaseCollision {
                id: rev.id.to_string(),
                other_id: revisions[other].id.to_string(),
                other: revisions[other].origin.path.clone(),
            },
            Clash::Duplicate { other } => GraphErrorKind::DuplicateId {
                id: rev.id.to_string(),
                other: revisions[other].origin.path.clone(),
            },
        };
        errors.push(graph_error(rev, rev.lines.id, kind));
    }
    index
}

fn resolve_revises(
    revisions: &[Revision],
    by_id: &IdIndex<'_>,
    errors: &mut Vec<GraphError>,
) -> Adjacency {
    // Files are usually named in chain order, so a parent is most often the revision loaded
    // just before: it is tried before the search, whose reads of ids scattered over the heap
    // cost `heads` 5 ms at 10,000 revisions of four members. Not when ids clash (errors
    // already): then only the index says which of two equal ids counts.
    let hint = errors.is_empty();
    let mut revises = Adjacency::with_capacity(revisions.len(), revisions.len());
    for (node, rev) in revisions.iter().enumerate() {
        for parent in &rev.revises {
            let previous = node
                .checked_sub(1)
                .filter(|&p| hint && revisions[p].id == *parent);
            match previous.or_else(|| by_id.get(parent.as_str())) {
                None => errors.push(graph_error(
                    rev,
                    rev.lines.revises,
                    GraphErrorKind::UnknownParent(parent.to_string()),
                )),
                Some(p) if revisions[p].origin.member != rev.origin.member => {
                    errors.push(graph_error(
                        rev,
                        rev.lines.revises,
                        GraphErrorKind::CrossMemberParent {
                            parent: parent.to_string(),
                            parent_member: revisions[p].origin.member.to_string(),
                            member: rev.origin.member.to_string(),
                        },
                    ))
                }
                Some(p) => revises.push_unique(p),
            }
        }
        revises.end_row();
    }
    revises
}

/// Gives each member's label to its root and each `Branch Labels` entry to its revision,
/// refusing second roots and labels used twice.
fn declare_labels(
    revisions: &[Revision],
    revises: &Adjacency,
    by_id: &IdIndex<'_>,
    errors: &mut Vec<GraphError>,
) -> BTreeMap<String, Node> {
    let mut owners: BTreeMap<String, Node> = BTreeMap::new();
    let mut roots: BTreeMap<&str, Node> = BTreeMap::new();
    let mut declare = |label: &str, node: Node, line: u32, errors: &mut Vec<GraphError>| {
        let rev = &revisions[node];
        if by_id.get(label).is_some() {
            errors.push(graph_error(
                rev,
                line,
                GraphErrorKind::LabelIsId(label.to_owned()),
            ));
        } else if let Some(&owner) = owners.get(label) {
            if owner != node {
                errors.push(graph_error(
                    rev,
                    line,
                    GraphErrorKind::DuplicateLabel {
                        label: label.to_owned(),
                        owner: revisions[owner].id.to_string(),
                        owner_path: revisions[owner].origin.path.clone(),
                    },
                ));
            }
        } else {
            owners.insert(label.to_owned(), node);
        }
    };
    for (node, rev) in revisions.iter().enumerate() {
        // A root is a revision without `Revises`; unresolved parents were reported already.
        if rev.revises.is_empty() && revises.get(node).is_empty() {
            if let Some(&first) = roots.get(&*rev.origin.member) {
                errors.push(graph_error(
                    rev,
                    rev.lines.revises.max(rev.lines.id),
                    GraphErrorKind::SecondRoot {
                        member: rev.origin.member.to_string(),
                        other: revisions[first].origin.path.clone(),
                    },
                ));
            } else {
                roots.insert(&rev.origin.member, node);
                declare(&rev.origin.member, node, rev.lines.id, errors);
            }
        }
    }
    for (node, rev) in revisions.iter().enumerate() {
        for label in &rev.branch_labels {
            declare(label, node, rev.lines.branch_labels, errors);
        }
    }
    owners
}

/// Resolves each `Depends On` entry: an exact id, then a label, then a unique id prefix.
fn resolve_depends_on(
    revisions: &[Revision],
    by_id: &IdIndex<'_>,
    labels: &BTreeMap<String, Node>,
    errors: &mut Vec<GraphError>,
) -> Adjacency {
    let mut depends_on = Adjacency::with_capacity(revisions.len(), 0);
    for rev in revisions {
        for name in &rev.depends_on {
            let resolved = by_id
                .get(name.as_str())
                .or_else(|| labels.get(name).copied());
            let resolved = resolved.map(Ok).unwrap_or_else(|| {
                let matches: Vec<Node> = by_id.with_prefix(name).collect();
                match matches.as_slice() {
                    [only] => Ok(*only),
                    [] => Err(GraphErrorKind::UnknownDependency(name.clone())),
                    many => Err(GraphErrorKind::AmbiguousDependency {
                        prefix: name.clone(),
                        candidates: many.iter().map(|&n| revisions[n].id.to_string()).collect(),
                    }),
                }
            });
            match resolved {
                Ok(node) => depends_on.push_unique(node),
                Err(kind) => errors.push(graph_error(rev, rev.lines.depends_on, kind)),
            }
        }
        depends_on.end_row();
    }
    depends_on
}

/// Kahn's algorithm over `needs` (`Revises` and `Depends On`, each edge once) and its
/// reverse; a leftover means a cycle.
fn topological_order(
    revisions: &[Revision],
    by_id: &[Node],
    needs: &Adjacency,
    needed_by: &Adjacency,
) -> Result<Vec<Node>, GraphError> {
    let n = revisions.len();
    let mut waiting: Vec<usize> = (0..n).map(|node| needs.get(node).len()).collect();
    // Among revisions that are ready, the oldest (by `Create Date`, then id) goes first, so
    // independent branches apply in the order they were written. Ids are compared by their
    // place in `by_id` (ids in order): with four members ready at a time, comparing the ids
    // themselves was half the time of building a graph of 10,000 revisions. A missing or
    // empty date sorts first.
    let mut id_rank = vec![0; n];
    for (rank, &node) in by_id.iter().enumerate() {
        id_rank[node] = rank;
    }
    let key = |i: Node| {
        let date = revisions[i]
            .create_date
            .as_deref()
            .filter(|d| !d.is_empty());
        Reverse((date, id_rank[i]))
    };
    let mut ready: BinaryHeap<_> = (0..n).filter(|&i| waiting[i] == 0).map(key).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(node) = ready.pop().map(|Reverse((_, rank))| by_id[rank]) {
        order.push(node);
        for &child in needed_by.get(node) {
            waiting[child] -= 1;
            if waiting[child] == 0 {
                ready.push(key(child));
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    Err(describe_cycle(revisions, needs, &waiting))
}

fn describe_cycle(revisions: &[Revision], needs: &Adjacency, waiting: &[usize]) -> GraphError {
    // Every node still waiting has a waiting parent; following them must revisit a node.
    let start = waiting.iter().position(|&w| w > 0).unwrap_or(0);
    let mut path = vec![start];
    let mut node = start;
    loop {
        let next = needs
            .get(node)
            .iter()
            .copied()
            .find(|&p| waiting[p] > 0)
            .unwrap_or(start);
        if let Some(pos) = path.iter().position(|&p| p == next) {
            let mut cycle: Vec<Node> = path[pos..].to_vec();
            cycle.reverse();
            cycle.push(cycle[0]);
            let first = &revisions[cycle[0]];
            return graph_error(
                first,
                first.lines.revises.max(first.lines.depends_on),
                GraphErrorKind::Cycle {
                    ids: cycle.iter().map(|&n| revisions[n].id.to_string()).collect(),
                },
            );
        }
        path.push(next);
        node = next;
    }
}

/// D(R) for every revision: `Revises`, then the dependencies that no `Revises`-ancestor
/// already declares (Alembic's `_normalize_depends_on`).
fn normalized_parents(revises: &Adjacency, depends_on: &Adjacency, order: &[Node]) -> Adjacency {
    // declared_below[n]: dependencies declared by n and its Revises-ancestors. Computed in
    // topological order so each revision shares its parents' sets instead of walking up.
    // A set is dropped once its last `Revises`-child has taken it, so only the sets of open
    // branch tips are alive at any time (not one per revision with dependencies).
    let n = revises.rows();
    let empty = std::rc::Rc::<NodeSet>::default();
    let mut declared_below: Vec<std::rc::Rc<NodeSet>> = vec![empty.clone(); n];
    let mut children_left = vec![0u32; n];
    for &p in &revises.targets {
        children_left[p] += 1;
    }
    // The dependencies each revision keeps; empty (no allocation) for most.
    let mut kept: Vec<Vec<Node>> = vec![Vec::new(); n];
    for &node in order {
        let mut set: Option<std::rc::Rc<NodeSet>> = None;
        for &p in revises.get(node) {
            children_left[p] -= 1;
            // The last child takes the set instead of sharing it: down a chain the set then
            // has one owner, and adding a revision's own dependencies changes it in place
            // instead of copying it (with a dependency every tenth revision, copies made the
            // `members` benchmark's graph quadratic).
            let from_parent = if children_left[p] == 0 {
                std::mem::replace(&mut declared_below[p], empty.clone())
            } else {
                declared_below[p].clone()
            };
            set = Some(match set {
                None => from_parent,
                Some(existing) if existing.is_empty() => from_parent,
                Some(existing) if from_parent.is_empty() => existing,
                Some(existing) => std::rc::Rc::new(existing.union(&from_parent).copied().collect()),
            });
        }
        let mut inherited_here = set.unwrap_or_else(|| empty.clone());
        for &dep in depends_on.get(node) {
            if !inherited_here.contains(&dep) && !revises.get(node).contains(&dep) {
                kept[node].push(dep);
            }
        }
        if !depends_on.get(node).is_empty() {
            std::rc::Rc::make_mut(&mut inherited_here).extend(depends_on.get(node).iter().copied());
        }
        declared_below[node] = inherited_here;
    }
    let mut parents = Adjacency::with_capacity(n, revises.targets.len());
    for (node, kept) in kept.iter().enumerate() {
        parents.targets.extend_from_slice(revises.get(node));
        parents.targets.extend_from_slice(kept);
        parents.end_row();
    }
    parents
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::revision::{HeaderLines, Origin, RevisionId, Section};

    /// Builds a revision for tests: `spec` is `id:parent,parent` with optional `|dep,dep`.
    pub(crate) fn rev(member: &str, id: &str, revises: &[&str], deps: &[&str]) -> Revision {
        Revision {
            id: RevisionId::new(id).expect("test id"),
            message: format!("message of {id}").into(),
            revises: revises
                .iter()
                .map(|p| RevisionId::new(p).expect("id"))
                .collect(),
            depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
            branch_labels: Box::default(),
            create_date: None,
            up: Section {
                sql: String::new(),
                transactional: true,
                line: 1,
                leading_lines: 0,
            },
            down: Some(Section {
                sql: String::new(),
                transactional: true,
                line: 2,
                leading_lines: 0,
            }),
            origin: Origin {
                member: member.into(),
                path: format!("{member}/migrations/{id}.sql").into(),
            },
            lines: HeaderLines {
                id: 2,
                revises: 3,
                depends_on: 4,
                branch_labels: 5,
            },
        }
    }

    /// users u1 -> u2; billing b1 -> b2, where b2 depends on u2: the smallest graph with
    /// two members and a dependency between them.
    pub(crate) fn users_and_billing() -> RevisionGraph {
        RevisionGraph::build(vec![
            rev("users", "u1", &[], &[]),
            rev("users", "u2", &["u1"], &[]),
            rev("billing", "b1", &[], &[]),
            rev("billing", "b2", &["b1"], &["u2"]),
        ])
        .expect("valid")
    }

    pub(crate) fn ids(graph: &RevisionGraph, nodes: impl IntoIterator<Item = Node>) -> Vec<String> {
        nodes.into_iter().map(|n| graph.id(n).to_owned()).collect()
    }

    #[test]
    fn heads_bases_and_order_of_two_members() {
        let g = users_and_billing();
        assert_eq!(ids(&g, g.heads()), ["u2", "b2"]);
        assert_eq!(ids(&g, g.real_heads()), ["b2"]);
        assert_eq!(ids(&g, g.bases()), ["u1", "b1"]);
        // Ready revisions go oldest first; without dates, by id.
        assert_eq!(ids(&g, g.order().iter().copied()), ["b1", "u1", "u2", "b2"]);
        assert_eq!(ids(&g, g.parents(3).iter().copied()), ["b1", "u2"]);
        assert_eq!(g.label_owner("users"), Some(0));
        assert_eq!(g.label_owner("billing"), Some(2));
    }

    #[test]
    fn dependencies_inherited_from_ancestors_are_normalized_away() {
        let g = RevisionGraph::build(vec![
            rev("a", "a1", &[], &[]),
            rev("b", "b1", &[], &["a1"]),
            rev("b", "b2", &["b1"], &["a1"]),
        ])
        .expect("valid");
        assert_eq!(ids(&g, g.parents(2).iter().copied()), ["b1"]);
        assert_eq!(g.depends_on(2), &[0]);
    }

    #[test]
    fn a_branch_does_not_inherit_its_siblings_dependencies() {
        // b2 and b3 both revise b1; b2's dependency on a1 is its own, so b3 (which takes
        // b1's set after b2 shared it) must still list a1, and b4 below b2 must not.
        let g = RevisionGraph::build(vec![
            rev("a", "a1", &[], &[]),
            rev("b", "b1", &[], &[]),
            rev("b", "b2", &["b1"], &["a1"]),
            rev("b", "b3", &["b1"], &["a1"]),
            rev("b", "b4", &["b2"], &["a1"]),
            rev("b", "b5", &["b3", "b4"], &["a1"]),
        ])
        .expect("valid");
        assert_eq!(ids(&g, g.parents(2).iter().copied()), ["b1", "a1"]);
        assert_eq!(ids(&g, g.parents(3).iter().copied()), ["b1", "a1"]);
        assert_eq!(ids(&g, g.parents(4).iter().copied()), ["b2"]);
        assert_eq!(ids(&g, g.parents(5).iter().copied()), ["b3", "b4"]);
    }

    #[test]
    fn errors_name_both_files_and_the_line() {
        let errs = RevisionGraph::build(vec![
            rev("m", "a", &[], &[]),
            rev("m", "a", &["a"], &[]),
            rev("m", "c", &["zz"], &[]),
            rev("n", "d", &["a"], &[]),
        ])
        .expect_err("invalid");
        let kinds: Vec<_> = errs.iter().map(|e| &e.kind).collect();
        assert!(matches!(kinds[0], GraphErrorKind::DuplicateId { .. }));
        assert!(matches!(kinds[1], GraphErrorKind::UnknownParent(p) if p == "zz"));
        assert!(matches!(kinds[2], GraphErrorKind::CrossMemberParent { .. }));
        assert_eq!(errs[1].line, 3);
    }

    #[test]
    fn second_roots_and_cycles_are_refused() {
        let errs = RevisionGraph::build(vec![rev("m", "a", &[], &[]), rev("m", "b", &[], &[])])
            .expect_err("two roots");
        assert!(matches!(errs[0].kind, GraphErrorKind::SecondRoot { .. }));
        let errs = RevisionGraph::build(vec![
            rev("m", "a", &[], &["c"]),
            rev("m", "b", &["a"], &[]),
            rev("m", "c", &["b"], &[]),
        ])
        .expect_err("cycle");
        match &errs[0].kind {
            GraphErrorKind::Cycle { ids } => assert_eq!(ids.len(), 4),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn dependency_prefixes_must_be_unique() {
        let errs = RevisionGraph::build(vec![
            rev("m", "abc1", &[], &[]),
            rev("m", "abc2", &["abc1"], &[]),
            rev("n", "x", &[], &["abc"]),
        ])
        .expect_err("ambiguous");
        assert!(
            matches!(&errs[0].kind, GraphErrorKind::AmbiguousDependency { candidates, .. } if candidates.len() == 2)
        );
        let g = RevisionGraph::build(vec![
            rev("m", "abc1", &[], &[]),
            rev("n", "x", &[], &["abc"]),
        ])
        .expect("unique prefix");
        assert_eq!(g.depends_on(1), &[0]);
    }

    #[test]
    fn is_ancestor_follows_parents_and_dependencies() {
        let g = users_and_billing();
        for a in 0..g.len() {
            for b in 0..g.len() {
                assert_eq!(
                    g.is_ancestor(a, b),
                    g.ancestors_inclusive([b]).contains(&a),
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn maximal_keeps_what_nothing_applied_descends_from() {
        let g = users_and_billing();
        let all = g.ancestors_inclusive([3]);
        assert_eq!(ids(&g, g.maximal(&all)), ["b2"]);
        let without_b2: NodeSet = [0, 1, 2].into();
        assert_eq!(ids(&g, g.maximal(&without_b2)), ["u2", "b1"]);
    }
}
