"""Fixtures for the command-line tests: the environment `accessbot` runs with, without a server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.bot_server import FIXTURES, REPO
from tests.support.cli import Env
from tests.support.seed import migrate_database


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Env:
    return {**_environment(tmp_path), "DATABASE_URL": database_url}


@pytest.fixture
def settings_env(tmp_path: Path) -> Env:
    """The environment of a command that stops before it opens a database (settings and workflows
    refused, usage errors) or brings its own (the demo). Without a database fixture such a test runs
    once, in the SQLite run: the PostgreSQL run would repeat it unchanged."""
    return _environment(tmp_path)


def _environment(tmp_path: Path) -> Env:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "ACCESSBOT_", "TEST_DATABASE", "DATABASE_URL"))
    }
    return {
        **base,
        "PWD": str(tmp_path),
        "ACCESSBOT_WORKFLOWS_DIR": str(FIXTURES / "workflows"),
        "ACCESSBOT_TEMPLATES_DIR": str(REPO / "templates"),
    }


@pytest.fixture
def ready(env: Env) -> Env:
    """The environment once `accessbot db upgrade` has run (its database is a copy of a migrated one)."""
    migrate_database(env["DATABASE_URL"])
    return env
