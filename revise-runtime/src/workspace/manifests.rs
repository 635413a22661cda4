//! Workspace discovery by reading the manifests directly: the fast path.
//!
//! `cargo metadata` costs a process, about 20 ms and 20 MB, on every command; `heads` and
//! `current` run in every deploy. This reads the same few tables itself and answers `None`
//! (use `cargo metadata`) for anything it does not fully understand: glob patterns beyond
//! `*` and `?`, `package.workspace`, path dependencies that would become implicit members, or
//! a manifest it cannot parse (cargo then reports the error precisely).

use std::path::{Path, PathBuf};

use toml::{Table, Value};

/// What the fast path found: the root, its `[workspace.metadata]` and each member's
/// manifest path, package name and `[package.metadata]`.
pub(super) struct Found {
    pub(super) root: PathBuf,
    pub(super) workspace_metadata: Option<Value>,
    pub(super) members: Vec<(PathBuf, String, Option<Value>)>,
}

/// Reads the workspace that `manifest_path` (or the current directory) belongs to.
pub(super) fn read(manifest_path: Option<&Path>) -> Option<Found> {
    let start = match manifest_path {
        Some(path) => std::path::absolute(path).ok()?,
        None => find_upwards(&std::env::current_dir().ok()?)?,
    };
    let start_table = parse(&start)?;
    if package(&start_table).is_some_and(|p| p.contains_key("workspace")) {
        return None;
    }
    let (root_manifest, root_table) = if start_table.contains_key("workspace") {
        (start.clone(), start_table)
    } else {
        match enclosing_workspace(&start)? {
            Some(found) => found,
            None => (start.clone(), start_table),
        }
    };
    let root = root_manifest.parent()?.to_owned();
    let workspace = root_table.get("workspace").and_then(Value::as_table);
    let mut member_dirs = Vec::new();
    if package(&root_table).is_some() {
        member_dirs.push(root.clone());
    }
    if let Some(workspace) = workspace {
        let excluded: Vec<PathBuf> = strings(workspace.get("exclude"))?
            .iter()
            .map(|e| root.join(e))
            .collect();
        for pattern in strings(workspace.get("members"))? {
            for dir in expand(&root, &pattern)? {
                if !excluded.iter().any(|e| dir.starts_with(e)) && !member_dirs.contains(&dir) {
                    member_dirs.push(dir);
                }
            }
        }
    }
    let mut members = Vec::new();
    for dir in &member_dirs {
        let manifest = dir.join("Cargo.toml");
        let table = if *dir == root {
            root_table.clone()
        } else {
            parse(&manifest)?
        };
        let package = package(&table)?;
        let name = package.get("name")?.as_str()?.to_owned();
        if implicit_members(&table, dir, &root, &member_dirs) {
            return None;
        }
        let metadata = package.get("metadata").cloned();
        members.push((manifest, name, metadata));
    }
    let workspace_metadata = workspace.and_then(|w| w.get("metadata")).cloned();
    Some(Found {
        root,
        workspace_metadata,
        members,
    })
}

fn parse(path: &Path) -> Option<Table> {
    std::fs::read_to_string(path).ok()?.parse::<Table>().ok()
}

fn package(table: &Table) -> Option<&Table> {
    table.get("package").and_then(Value::as_table)
}

fn find_upwards(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|p| p.is_file())
}

/// A `[workspace]` manifest in a parent folder that lists the package at `start`.
fn enclosing_workspace(start: &Path) -> Option<Option<(PathBuf, Table)>> {
    let package_dir = start.parent()?;
    for dir in package_dir.ancestors().skip(1) {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let table = parse(&manifest)?;
        let Some(workspace) = table.get("workspace").and_then(Value::as_table) else {
            continue;
        };
        let excluded = strings(workspace.get("exclude"))?;
        if excluded
            .iter()
            .any(|e| package_dir.starts_with(dir.join(e)))
        {
            return Some(None);
        }
        for pattern in strings(workspace.get("members"))? {
            if expand(dir, &pattern)?.iter().any(|m| m == package_dir) {
                return Some(Some((manifest, table)));
            }
        }
        // A workspace above that does not list this package: cargo would refuse; let it say so.
        return None;
    }
    Some(None)
}

fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    match value {
        None => Some(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(_) => None,
    }
}

/// The folders a `members` pattern names; `*` and `?` within a path segment only.
fn expand(root: &Path, pattern: &str) -> Option<Vec<PathBuf>> {
    if pattern.contains(['[', '{']) || pattern.contains("**") {
        return None;
    }
    let mut dirs = vec![root.to_owned()];
    for segment in Path::new(pattern).components() {
        let segment = segment.as_os_str().to_str()?;
        let mut next = Vec::new();
        for dir in &dirs {
            if segment.contains(['*', '?']) {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
                    .ok()?
                    .filter_map(Result::ok)
                    .filter(|e| e.path().is_dir())
                    .filter(|e| {
                        e.file_name()
                            .to_str()
                            .is_some_and(|n| matches(segment, n) && !n.starts_with('.'))
                    })
                    .map(|e| e.path())
                    .collect();
                entries.sort();
                next.extend(entries);
            } else {
                next.push(dir.join(segment));
            }
        }
        dirs = next;
    }
    // A member without a manifest is an error cargo words best.
    dirs.iter()
        .all(|d| d.join("Cargo.toml").is_file())
        .then_some(dirs)
}

/// Shell-style matching of one segment with `*` and `?`.
fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether a member has a path dependency inside the workspace that is not a listed member:
/// cargo would make it a member implicitly.
fn implicit_members(table: &Table, dir: &Path, root: &Path, members: &[PathBuf]) -> bool {
    let mut tables: Vec<&Table> = Vec::new();
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        tables.extend(table.get(key).and_then(Value::as_table));
    }
    if let Some(targets) = table.get("target").and_then(Value::as_table) {
        for target in targets.values().filter_map(Value::as_table) {
            for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
                tables.extend(target.get(key).and_then(Value::as_table));
            }
        }
    }
    tables.iter().flat_map(|t| t.values()).any(|dep| {
        dep.get("path").and_then(Value::as_str).is_some_and(|path| {
            let target = normalize(&dir.join(path));
            target.starts_with(root) && !members.contains(&target)
        })
    })
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn segment_globs() {
        assert!(matches("*", "crate"));
        assert!(matches("crate-*", "crate-a"));
        assert!(!matches("crate-*", "other"));
        assert!(matches("c?t", "cat"));
        assert!(matches("*-sys", "foo-sys"));
    }
}
