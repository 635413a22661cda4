//! The revision graph each entry runs: every member's, or, for an entry with `packages`
//! (a service that owns its database), only those members' revisions. One graph per
//! distinct set of packages, shared by the entries that name it.

use std::collections::HashMap;
use std::sync::Arc;

use super::entry::FleetEntry;
use super::FleetError;
use crate::graph::RevisionGraph;
use crate::source;
use crate::workspace::Workspace;

/// The graphs of a fleet run.
#[derive(Debug)]
pub struct FleetGraphs {
    all: Arc<RevisionGraph>,
    subsets: HashMap<Vec<String>, Arc<RevisionGraph>>,
}

impl FleetGraphs {
    /// `all` (the workspace's graph, already validated) and a graph for each set of
    /// `packages` the entries name. A package that is no member, or a `Depends On` that
    /// leaves an entry's members, is bad input.
    pub fn build(
        workspace: &Workspace,
        all: RevisionGraph,
        entries: &[FleetEntry],
    ) -> Result<Self, FleetError> {
        let mut subsets = HashMap::new();
        for entry in entries {
            let Some(packages) = &entry.packages else {
                continue;
            };
            let key = sorted(packages);
            if subsets.contains_key(&key) {
                continue;
            }
            let graph = subset(workspace, &all, entry, &key)?;
            subsets.insert(key, Arc::new(graph));
        }
        Ok(Self {
            all: Arc::new(all),
            subsets,
        })
    }

    /// Every entry runs `all` (no entry names `packages`).
    pub fn of(all: RevisionGraph) -> Self {
        Self {
            all: Arc::new(all),
            subsets: HashMap::new(),
        }
    }

    /// The graph `entry` runs.
    pub fn for_entry(&self, entry: &FleetEntry) -> &RevisionGraph {
        entry
            .packages
            .as_ref()
            .and_then(|packages| self.subsets.get(&sorted(packages)))
            .unwrap_or(&self.all)
    }

    /// Every member's graph.
    pub fn all(&self) -> &RevisionGraph {
        &self.all
    }
}

fn sorted(packages: &[String]) -> Vec<String> {
    let mut key = packages.to_vec();
    key.sort();
    key.dedup();
    key
}

fn subset(
    workspace: &Workspace,
    all: &RevisionGraph,
    entry: &FleetEntry,
    packages: &[String],
) -> Result<RevisionGraph, FleetError> {
    let refuse = |message: String| FleetError::Packages {
        fleet: entry.fleet.to_string(),
        id: entry.id.clone(),
        message,
    };
    let mut labels = Vec::new();
    let mut folders = Vec::new();
    for package in packages {
        let member = workspace
            .members
            .iter()
            .find(|m| &m.name == package && m.takes_part())
            .ok_or_else(|| {
                let names: Vec<&str> = workspace
                    .members
                    .iter()
                    .filter(|m| m.takes_part())
                    .map(|m| m.name.as_str())
                    .collect();
                refuse(format!(
                    "package `{package}` is not a member with migrations; members: {}",
                    names.join(", ")
                ))
            })?;
        labels.push(member.label.as_str());
        folders.push(member.folder());
    }
    for node in 0..all.len() {
        let revision = all.revision(node);
        if !labels.contains(&&*revision.origin.member) {
            continue;
        }
        for &dependency in all.depends_on(node) {
            let needed = all.revision(dependency);
            if !labels.contains(&&*needed.origin.member) {
                return Err(refuse(format!(
                    "{} depends on {} ({}), of member `{}`, which is not among its packages ({}); add that package to the entry",
                    revision.origin.path.display(),
                    needed.id,
                    needed.origin.path.display(),
                    needed.origin.member,
                    packages.join(", ")
                )));
            }
        }
    }
    source::load_graph(&folders, &workspace.root).map_err(|errors| refuse(errors.to_string()))
}
