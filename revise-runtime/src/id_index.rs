//! Revision ids to graph nodes, for building the graph.
//!
//! A vector of nodes sorted by id, searched by halving, instead of a hash map: at 10,000
//! revisions a map would allocate an owned key per revision (twice, with the case-folded
//! map that catches ids differing only in case), and the graph keeps the sorted vector as its
//! own index afterwards.

use std::cmp::Ordering;

use crate::graph::Node;
use crate::revision::Revision;

/// Why a revision was left out of the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clash {
    /// Its id is the id of `other`, an earlier revision.
    Duplicate {
        /// The earlier revision with the same id.
        other: Node,
    },
    /// Its id differs from the id of `other` only in case, which MySQL's version column
    /// would store as the same value.
    Case {
        /// The earlier revision with the case-folded same id.
        other: Node,
    },
}

/// The revisions' ids, sorted. When two revisions clash, the earlier one is kept.
pub struct IdIndex<'a> {
    revisions: &'a [Revision],
    sorted: Vec<Node>,
}

impl<'a> IdIndex<'a> {
    /// Indexes `revisions`; the clashes come back in load order.
    pub fn build(revisions: &'a [Revision]) -> (Self, Vec<(Node, Clash)>) {
        let id = |node: Node| revisions[node].id.as_str();
        // Without upper-case letters, folded order is byte order and one sort does both jobs.
        let any_upper = revisions
            .iter()
            .any(|r| r.id.as_str().bytes().any(|b| b.is_ascii_uppercase()));
        // Plain byte comparison when it gives the same order: folding bytes one by one was
        // a fifth of building the graph of 10,000 revisions of four members.
        let compare = |a: &str, b: &str| {
            if any_upper {
                compare_folded(a, b)
            } else {
                a.cmp(b)
            }
        };
        let mut nodes: Vec<Node> = (0..revisions.len()).collect();
        // The stable sort finds the runs already in order (each member's files are read by
        // name, usually id order) and merges them: at 10,000 revisions of four members it
        // took a quarter of the time of the unstable sort. Ties are broken by node, so both
        // give the same order.
        nodes.sort_by(|&a, &b| compare(id(a), id(b)).then(a.cmp(&b)));
        let mut clashes = Vec::new();
        let mut sorted = Vec::with_capacity(nodes.len());
        for group in nodes.chunk_by(|&a, &b| compare(id(a), id(b)).is_eq()) {
            let first = group[0];
            sorted.push(first);
            for &node in &group[1..] {
                let clash = if id(node) == id(first) {
                    Clash::Duplicate { other: first }
                } else {
                    Clash::Case { other: first }
                };
                clashes.push((node, clash));
            }
        }
        if any_upper {
            sorted.sort_by(|&a, &b| id(a).cmp(id(b)));
        }
        clashes.sort_unstable_by_key(|&(node, _)| node);
        (Self { revisions, sorted }, clashes)
    }

    /// The revision with exactly this id.
    pub fn get(&self, wanted: &str) -> Option<Node> {
        self.sorted
            .binary_search_by(|&n| self.revisions[n].id.as_str().cmp(wanted))
            .ok()
            .map(|i| self.sorted[i])
    }

    /// The revisions whose id starts with `prefix`, in id order.
    pub fn with_prefix<'s>(&'s self, prefix: &'s str) -> impl Iterator<Item = Node> + 's {
        let start = self
            .sorted
            .partition_point(|&n| self.revisions[n].id.as_str() < prefix);
        self.sorted[start..]
            .iter()
            .copied()
            .take_while(move |&n| self.revisions[n].id.as_str().starts_with(prefix))
    }

    /// The nodes in id order, for the graph to keep.
    pub fn into_sorted(self) -> Vec<Node> {
        self.sorted
    }
}

fn compare_folded(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}
