//! `env:NAME` values: a fleet's URLs come from the environment, then the env file, so that
//! no secret is written into a manifest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::FleetError;

/// Resolves `env:NAME` references: the environment first, then the env file (read once).
#[derive(Debug)]
pub struct Secrets {
    env_file: Option<PathBuf>,
    working_dir: PathBuf,
    file_values: OnceLock<Result<HashMap<String, String>, String>>,
}

/// A value with the folder a relative SQLite path in it is relative to (SPEC section 4: the
/// env file's folder for a value read there, the working directory for the environment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) text: String,
    pub(crate) base: PathBuf,
}

impl Secrets {
    /// Secrets from the environment and `env_file` (which may not exist); relative SQLite
    /// paths from the environment are relative to `working_dir`.
    pub fn new(env_file: Option<PathBuf>, working_dir: PathBuf) -> Self {
        Self {
            env_file,
            working_dir,
            file_values: OnceLock::new(),
        }
    }

    /// `value` itself, or the variable it names with `env:NAME`. `literal_base` is where a
    /// relative path in a literal value is relative to (the file that holds it).
    pub(crate) fn resolve(
        &self,
        fleet: &str,
        key: &str,
        value: &str,
        literal_base: &Path,
    ) -> Result<Resolved, FleetError> {
        let Some(name) = value.strip_prefix("env:") else {
            return Ok(Resolved {
                text: value.to_owned(),
                base: literal_base.to_owned(),
            });
        };
        let name = name.trim();
        if let Some(text) = std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
            return Ok(Resolved {
                text,
                base: self.working_dir.clone(),
            });
        }
        let values = self
            .file_values
            .get_or_init(|| self.read_env_file())
            .as_ref()
            .map_err(|message| FleetError::File {
                path: self.env_file.clone().unwrap_or_default(),
                message: message.clone(),
            })?;
        match values.get(name).filter(|v| !v.trim().is_empty()) {
            Some(text) => Ok(Resolved {
                text: text.clone(),
                base: self
                    .env_file
                    .as_deref()
                    .and_then(Path::parent)
                    .map_or_else(|| self.working_dir.clone(), Path::to_owned),
            }),
            None => Err(FleetError::MissingVariable {
                fleet: fleet.to_owned(),
                key: key.to_owned(),
                name: name.to_owned(),
                env_file: self.env_file.clone(),
            }),
        }
    }

    fn read_env_file(&self) -> Result<HashMap<String, String>, String> {
        let Some(path) = self.env_file.as_deref().filter(|p| p.exists()) else {
            return Ok(HashMap::new());
        };
        let mut values = HashMap::new();
        for entry in dotenvy::from_path_iter(path).map_err(|e| e.to_string())? {
            // The message of a line that does not parse may quote the line: a secret.
            let (key, value) = entry.map_err(|e| match e {
                dotenvy::Error::LineParse(_, index) => {
                    format!(
                        "a line does not parse (at character {index}); each line must be KEY=value"
                    )
                }
                other => other.to_string(),
            })?;
            values.insert(key, value);
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_first_then_the_env_file() {
        let dir = tempfile::tempdir().expect("a folder");
        let env_file = dir.path().join(".env");
        std::fs::write(
            &env_file,
            "FLEET_TEST_ONLY_IN_FILE=sqlite://a.db\nFLEET_TEST_IN_BOTH=from-file\n",
        )
        .expect("write");
        std::env::set_var("FLEET_TEST_IN_BOTH", "from-environment");
        let secrets = Secrets::new(Some(env_file), PathBuf::from("/cwd"));
        let root = Path::new("/ws");
        let both = secrets
            .resolve("f", "url", "env:FLEET_TEST_IN_BOTH", root)
            .expect("set");
        assert_eq!(both.text, "from-environment");
        assert_eq!(both.base, PathBuf::from("/cwd"));
        let file = secrets
            .resolve("f", "url", "env:FLEET_TEST_ONLY_IN_FILE", root)
            .expect("set");
        assert_eq!(file.text, "sqlite://a.db");
        assert_eq!(file.base, dir.path());
        let literal = secrets
            .resolve("f", "url", "sqlite://b.db", root)
            .expect("literal");
        assert_eq!(literal.base, root);
        let missing = secrets
            .resolve("tenants", "catalog_url", "env:FLEET_TEST_NOWHERE", root)
            .expect_err("missing");
        let text = missing.to_string();
        assert!(
            text.contains("FLEET_TEST_NOWHERE") && text.contains("`catalog_url`"),
            "{text}"
        );
    }
}
