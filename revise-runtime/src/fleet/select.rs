//! Narrowing a fleet run: `--db` patterns, `--partition hash:K/N`, and `--retry`, which keeps
//! only the databases a previous run's summary says did not finish.

use std::collections::HashSet;
use std::path::Path;

use super::entry::FleetEntry;
use super::outcome::FleetSummary;
use super::FleetError;

/// `--partition hash:K/N`: the K-th of N deterministic shares of the entries, by id, so that
/// N machines running the same command split a fleet without talking to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// 1-based share.
    pub share: u64,
    /// Number of shares.
    pub of: u64,
}

impl std::str::FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{text}` is not a partition; write hash:K/N with K from 1 to N, as in hash:2/4"
            )
        };
        let rest = text.strip_prefix("hash:").ok_or_else(bad)?;
        let (share, of) = rest.split_once('/').ok_or_else(bad)?;
        let share: u64 = share.trim().parse().map_err(|_| bad())?;
        let of: u64 = of.trim().parse().map_err(|_| bad())?;
        if of == 0 || share == 0 || share > of {
            return Err(bad());
        }
        Ok(Self { share, of })
    }
}

impl Partition {
    /// Whether `id` falls in this share. FNV-1a over the id's bytes: stable across
    /// machines, platforms and releases, unlike the standard library's hasher.
    pub fn contains(&self, id: &str) -> bool {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in id.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash % self.of == self.share - 1
    }
}

/// Which of the resolved entries a run takes.
#[derive(Debug, Default)]
pub struct Selection {
    /// `--db`: ids or shell patterns (`tenant_0*`); empty keeps every entry.
    pub patterns: Vec<glob::Pattern>,
    /// `--partition`.
    pub partition: Option<Partition>,
    /// `--retry`: the ids that did not finish, by fleet.
    pub retry: Option<HashSet<(String, String)>>,
}

impl Selection {
    /// Compiles `--db` values (an id, or a pattern with `*`, `?`, `[...]`).
    pub fn with_patterns(mut self, values: &[String]) -> Result<Self, String> {
        for value in values {
            let pattern = glob::Pattern::new(value)
                .map_err(|e| format!("--db `{value}` is not a valid pattern: {e}"))?;
            self.patterns.push(pattern);
        }
        Ok(self)
    }

    /// Keeps, from the summary at `path`, the databases that did not end migrated or up to
    /// date.
    pub fn with_retry(mut self, summary: &FleetSummary) -> Self {
        self.retry = Some(
            summary
                .databases
                .iter()
                .filter(|record| !record.status.finished())
                .map(|record| (record.fleet.clone(), record.id.clone()))
                .collect(),
        );
        self
    }

    /// The entries this selection keeps, in their order.
    pub fn apply(&self, entries: Vec<FleetEntry>) -> Vec<FleetEntry> {
        entries
            .into_iter()
            .filter(|entry| {
                (self.patterns.is_empty() || self.patterns.iter().any(|p| p.matches(&entry.id)))
                    && self.partition.is_none_or(|p| p.contains(&entry.id))
                    && self.retry.as_ref().is_none_or(|ids| {
                        ids.contains(&(entry.fleet.to_string(), entry.id.clone()))
                    })
            })
            .collect()
    }
}

/// Reads a summary file written by an earlier run (`--retry`).
pub fn read_summary(path: &Path) -> Result<FleetSummary, FleetError> {
    let text = std::fs::read_to_string(path).map_err(|e| FleetError::File {
        path: path.to_owned(),
        message: format!("cannot read the summary to retry: {e}"),
    })?;
    serde_json::from_str(&text).map_err(|e| FleetError::File {
        path: path.to_owned(),
        message: format!("not a fleet summary (`--format json` of a fleet run): {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_split_every_id_exactly_once() {
        let ids: Vec<String> = (0..500).map(|i| format!("tenant_{i:03}")).collect();
        let shares: Vec<Partition> = (1..=4)
            .map(|k| format!("hash:{k}/4").parse().expect("a partition"))
            .collect();
        for id in &ids {
            assert_eq!(shares.iter().filter(|p| p.contains(id)).count(), 1, "{id}");
        }
        // Roughly even: no share is empty or takes nearly all.
        for share in &shares {
            let n = ids.iter().filter(|id| share.contains(id)).count();
            assert!((60..=190).contains(&n), "{share:?}: {n}");
        }
        for bad in ["hash:0/4", "hash:5/4", "hash:1/0", "1/4", "hash:a/b"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }
}
