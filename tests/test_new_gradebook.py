"""A new course gradebook is started without nbgrader's alembic process (autograder/new_gradebook.py)."""

import os
import sqlite3
import sys
from pathlib import Path

import pytest
from nbgrader import api as nbgrader_api

from autograder.new_gradebook import schema_version, start_gradebook


def tables_and_version(path):
    with sqlite3.connect(path) as database:
        tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        versions = [row[0] for row in database.execute("SELECT version_num FROM alembic_version")]
    database.close()
    return tables, versions


@pytest.fixture
def alembic_on_path(monkeypatch):
    """nbgrader runs `alembic` by name: this Python's bin/ first on PATH, as make's commands have it."""
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))


def test_the_schema_version_is_what_alembic_itself_says(alembic_on_path):
    assert schema_version() == nbgrader_api.get_alembic_version()  # nbgrader runs `alembic heads`


def test_nbgrader_takes_a_started_gradebook_for_its_own_and_asks_alembic_nothing(tmp_path, monkeypatch,
                                                                                 alembic_on_path):
    made_by_nbgrader = tmp_path / "nbgrader.db"
    with nbgrader_api.Gradebook(f"sqlite:///{made_by_nbgrader}"):
        pass

    def alembic_process():
        raise AssertionError("nbgrader started the alembic command")

    started = tmp_path / "started.db"
    assert start_gradebook(started)
    monkeypatch.setattr(nbgrader_api, "get_alembic_version", alembic_process)
    with nbgrader_api.Gradebook(f"sqlite:///{started}") as gradebook:
        gradebook.add_student("ann")
    assert tables_and_version(started) == tables_and_version(made_by_nbgrader)
    assert not start_gradebook(started)  # a gradebook that is there is left as it is
    with nbgrader_api.Gradebook(f"sqlite:///{started}") as gradebook:
        assert [student.id for student in gradebook.students] == ["ann"]


@pytest.mark.parametrize("folder", ["course", "course/deeper"])
def test_its_folder_is_made_if_missing(tmp_path, folder):
    assert start_gradebook(tmp_path / folder / "gradebook.db")
    assert tables_and_version(tmp_path / folder / "gradebook.db") == ({"alembic_version"}, [schema_version()])
