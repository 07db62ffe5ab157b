"""An empty nbgrader gradebook, started without nbgrader's `alembic` process.

When nbgrader opens a gradebook file that holds no table yet, it records the
version of its database schema, which it asks of the `alembic` command in a
process of its own: a Python that starts and imports alembic and SQLAlchemy,
one to two seconds of every grading run into a new course folder (and of
every test that makes one). `start_gradebook` writes that one table first,
with the version read here from nbgrader's own migration scripts (alembic's
Python API, the same answer as `alembic heads`); nbgrader then finds a
gradebook that exists and adds its tables to it as usual.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path


@cache
def schema_version():
    """The head revision of nbgrader's gradebook migrations, as `alembic heads` prints it."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def start_gradebook(path):
    """Make the gradebook file at path (a Path or str), holding only nbgrader's alembic_version table,
    unless a file is there already. Returns whether it made one."""
    path = Path(path)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as database:
        database.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        database.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (schema_version(),))
    database.close()
    return True
