CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY, note TEXT);
