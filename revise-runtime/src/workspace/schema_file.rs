//! Where a member's diesel schema file is (SPEC section 9): `[package.metadata.revise]
//! schema`, else the `file` of `[print_schema]` in the member's `diesel.toml`, else
//! `src/schema.rs` when it exists. A member without one takes no part in the schema commands.

use std::fmt;
use std::path::PathBuf;

use super::{Member, WorkspaceError};

/// Which setting chose a member's schema file; errors name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaFileSource {
    /// `[package.metadata.revise] schema` in the member's manifest.
    PackageMetadata(PathBuf),
    /// `[print_schema] file` in the member's `diesel.toml`.
    DieselToml(PathBuf),
    /// The default, `src/schema.rs`.
    Default,
}

impl fmt::Display for SchemaFileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PackageMetadata(manifest) => write!(
                f,
                "`schema` in [package.metadata.revise] of {}",
                manifest.display()
            ),
            Self::DieselToml(path) => write!(f, "`file` in [print_schema] of {}", path.display()),
            Self::Default => f.write_str("the default src/schema.rs"),
        }
    }
}

/// A member's schema file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaFile {
    /// Its path.
    pub path: PathBuf,
    /// The setting that chose it.
    pub source: SchemaFileSource,
}

impl SchemaFile {
    /// Whether the file exists.
    pub fn exists(&self) -> bool {
        self.path.is_file()
    }
}

impl Member {
    /// The member's schema file, `None` when it has none. A configured file is returned
    /// whether or not it exists: commands that read it refuse a missing one, naming the
    /// setting; `schema --write` creates it.
    pub fn schema_file(&self) -> Result<Option<SchemaFile>, WorkspaceError> {
        if let Some(setting) = &self.schema_setting {
            return Ok(Some(SchemaFile {
                path: self.package_dir.join(setting),
                source: SchemaFileSource::PackageMetadata(self.manifest.clone()),
            }));
        }
        let diesel_toml = self.package_dir.join("diesel.toml");
        if diesel_toml.is_file() {
            if let Some(file) = diesel_print_schema_file(&diesel_toml)? {
                return Ok(Some(SchemaFile {
                    path: self.package_dir.join(file),
                    source: SchemaFileSource::DieselToml(diesel_toml),
                }));
            }
        }
        let default = self.package_dir.join("src").join("schema.rs");
        Ok(default.is_file().then_some(SchemaFile {
            path: default,
            source: SchemaFileSource::Default,
        }))
    }

    /// Where `schema --write` creates a schema file for a member that has none.
    pub fn default_schema_file(&self) -> SchemaFile {
        SchemaFile {
            path: self.package_dir.join("src").join("schema.rs"),
            source: SchemaFileSource::Default,
        }
    }
}

/// `[print_schema] file` of a `diesel.toml`.
fn diesel_print_schema_file(path: &std::path::Path) -> Result<Option<String>, WorkspaceError> {
    let config_error = |message: String| WorkspaceError::Config {
        manifest: path.to_owned(),
        table: "print_schema",
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| config_error(e.to_string()))?;
    let value: toml::Table = toml::from_str(&text).map_err(|e| config_error(e.to_string()))?;
    match value.get("print_schema").and_then(|t| t.get("file")) {
        None => Ok(None),
        Some(toml::Value::String(file)) => Ok(Some(file.clone())),
        Some(other) => Err(config_error(format!(
            "`file` must be a string, found {}",
            other.type_str()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(dir: &std::path::Path, setting: Option<&str>) -> Member {
        Member {
            name: "m".to_owned(),
            label: "m".to_owned(),
            package_dir: dir.to_owned(),
            manifest: dir.join("Cargo.toml"),
            migrations_dir: dir.join("migrations"),
            schema_setting: setting.map(str::to_owned),
        }
    }

    #[test]
    fn the_setting_wins_then_diesel_toml_then_the_default() {
        let dir = tempfile::tempdir().expect("a folder");
        let none = member(dir.path(), None);
        assert_eq!(none.schema_file().expect("reads"), None);

        std::fs::create_dir_all(dir.path().join("src")).expect("src");
        std::fs::write(dir.path().join("src/schema.rs"), "").expect("write");
        let found = none.schema_file().expect("reads").expect("a file");
        assert_eq!(found.source, SchemaFileSource::Default);

        std::fs::write(
            dir.path().join("diesel.toml"),
            "[print_schema]\nfile = \"src/db/schema.rs\"\n",
        )
        .expect("write");
        let diesel = none.schema_file().expect("reads").expect("a file");
        assert_eq!(diesel.path, dir.path().join("src/db/schema.rs"));
        assert!(!diesel.exists());

        let configured = member(dir.path(), Some("model.rs"))
            .schema_file()
            .expect("reads")
            .expect("a file");
        assert_eq!(configured.path, dir.path().join("model.rs"));
        assert!(configured
            .source
            .to_string()
            .contains("[package.metadata.revise]"));

        std::fs::write(dir.path().join("diesel.toml"), "[print_schema]\nfile = 3\n")
            .expect("write");
        assert!(none.schema_file().is_err());
    }
}
