"""Revision sets for the benchmarks, written in four equivalent forms.

For N revisions of one shape it writes, under ROOT:
  ws/       a Cargo workspace for cargo revise (members m0..m3, migrations/*.sql)
  alembic/  an Alembic project with the same graph (op.execute of the same SQL)
  diesel/   a diesel migrations folder (graph order = version order)
  raw-sqlite.sql, raw-postgres.sql
            the minimum any tool must do: per revision BEGIN, the SQL, the version-table
            change, COMMIT (the physical limit)

Shapes: `linear` (one member, one chain) and `members` (four members; revision i belongs to
member i % 4 and revises that member's previous revision; every tenth also depends on the
revision just before it, which lives in another member).
"""

import os
import sys


def sql_up(i):
    return f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v INTEGER)"


def sql_down(i):
    return f"DROP TABLE t{i}"


def graph(n, shape):
    """[(id, member, revises, depends_on)] in creation order."""
    members = 1 if shape == "linear" else 4
    last = {}
    revisions = []
    for i in range(n):
        member = i % members
        rid = f"r{i:05d}"
        revises = [last[member]] if member in last else []
        depends = []
        if shape == "members" and i >= members and i % 10 == 0:
            depends = [revisions[i - 1][0]]
        revisions.append((rid, member, revises, depends))
        last[member] = rid
    return revisions


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def cargo_workspace(root, revisions, members):
    names = [f"m{k}" for k in range(members)]
    write(f"{root}/ws/Cargo.toml", "[workspace]\nresolver = \"2\"\nmembers = [%s]\n" % ", ".join(f'"{m}"' for m in names))
    for m in names:
        write(f"{root}/ws/{m}/Cargo.toml", f"[package]\nname = \"{m}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
        write(f"{root}/ws/{m}/src/lib.rs", "")
    for i, (rid, member, revises, depends) in enumerate(revisions):
        header = f"-- step {i}\n-- Revision ID: {rid}\n-- Revises: {', '.join(revises)}\n"
        if depends:
            header += f"-- Depends On: {', '.join(depends)}\n"
        write(f"{root}/ws/m{member}/migrations/{rid}_step.sql",
              f"{header}\n-- revise:up\n{sql_up(i)};\n\n-- revise:down\n{sql_down(i)};\n")


ENV_PY = '''import os
from alembic import context
from sqlalchemy import create_engine, pool

engine = create_engine(os.environ["BENCH_DB_URL"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
'''


def alembic_project(root, revisions, members):
    write(f"{root}/alembic/alembic.ini", "[alembic]\nscript_location = %(here)s\n")
    write(f"{root}/alembic/env.py", ENV_PY)
    for i, (rid, member, revises, depends) in enumerate(revisions):
        down = "None" if not revises else repr(revises[0]) if len(revises) == 1 else repr(tuple(revises))
        labels = repr((f"m{member}",)) if not revises else "None"
        deps = repr(tuple(depends)) if depends else "None"
        write(f"{root}/alembic/versions/{rid}_step.py", f'''"""step {i}"""
from alembic import op

revision = {rid!r}
down_revision = {down}
branch_labels = {labels}
depends_on = {deps}


def upgrade():
    op.execute({sql_up(i)!r})


def downgrade():
    op.execute({sql_down(i)!r})
''')


def diesel_folder(root, revisions):
    for i, (rid, _, _, _) in enumerate(revisions):
        folder = f"{root}/diesel/migrations/2024-01-01-{i:06d}_{rid}"
        write(f"{folder}/up.sql", sql_up(i) + ";\n")
        write(f"{folder}/down.sql", sql_down(i) + ";\n")


def raw_scripts(root, revisions):
    create = ("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
              "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));\n")
    lines = [create]
    for i, (rid, _, revises, _) in enumerate(revisions):
        if revises:
            change = f"UPDATE alembic_version SET version_num = '{rid}' WHERE version_num = '{revises[0]}';"
        else:
            change = f"INSERT INTO alembic_version (version_num) VALUES ('{rid}');"
        lines.append(f"BEGIN;\n{sql_up(i)};\n{change}\nCOMMIT;\n")
    text = "".join(lines)
    write(f"{root}/raw-sqlite.sql", text)
    write(f"{root}/raw-postgres.sql", "\\set ON_ERROR_STOP on\n" + text)


def generate(root, n, shape):
    revisions = graph(n, shape)
    members = 1 if shape == "linear" else 4
    cargo_workspace(root, revisions, members)
    alembic_project(root, revisions, members)
    diesel_folder(root, revisions)
    raw_scripts(root, revisions)


if __name__ == "__main__":
    generate(sys.argv[1], int(sys.argv[2]), sys.argv[3])
