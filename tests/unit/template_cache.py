"""The template samples (template_data.py), built once per run and kept in pytest's cache.

The services take seconds to build a profile's samples, so they are pickled under a digest of every
input (the code, the templates, the profiles): test workers share them, and so do the SQLite and
PostgreSQL runs (the samples never touch TEST_DATABASE_URL). Any change to an input builds them again.

`python -m tests.unit.template_cache FOLDER` builds every profile into FOLDER. tests/conftest.py starts it
beside a run that includes test_templates.py, so that the builds overlap the other tests instead of
holding up the workers that reach a template test first. Whoever takes a profile's lock first builds it;
the others wait and read.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from bot.config import PROJECT_ROOT
from tests.unit.template_data import (
    INJECTION_FIELDS,
    REALISTIC,
    TEMPLATES_DIR,
    WORST_CASE,
    Profile,
    Sample,
    build_samples,
)

# Every profile the tests use, by the name its samples are cached under.
PROFILES: dict[str, Profile] = {
    "worst": WORST_CASE,  # the longest to build: first
    "realistic": REALISTIC,
    # Every user-controlled field holds INJECTION tagged with the field's name (injection_of).
    "injected": REALISTIC.with_injections(INJECTION_FIELDS),
}
CACHE_FOLDER = "template-samples"  # under pytest's cache directory


def inputs_digest() -> str:
    """A digest of everything the samples depend on."""
    digest = hashlib.sha256()
    for package in ("jinja2", "sqlalchemy", "sqlmodel", "pydantic"):
        digest.update(f"{package}=={metadata.version(package)}\n".encode())
    sources = (
        (PROJECT_ROOT / "bot", "**/*.py"),
        (TEMPLATES_DIR, "**/*"),
        (PROJECT_ROOT / "tests", "unit/*.py"),
        (PROJECT_ROOT / "tests", "support/**/*.py"),
    )
    for folder, pattern in sources:
        for path in sorted(folder.glob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


def cached(folder: Path, name: str, make: Callable[[], dict[str, Sample]]) -> dict[str, Sample]:
    """The samples pickled in `folder` under `name` and the inputs' digest, made by `make` (and kept)
    if nobody has yet."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{inputs_digest()}.pickle"
    with (folder / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process builds, the others wait and read
        if path.exists():
            with path.open("rb") as handle:
                found: dict[str, Sample] = pickle.load(handle)
            return found
        fresh = make()
        partial = path.with_suffix(".partial")
        with partial.open("wb") as handle:
            pickle.dump(fresh, handle)
        os.replace(partial, path)
        return fresh


def build_all(folder: Path) -> None:
    """Build every profile's samples into `folder` (those already there are left as they are)."""
    scratch = Path(tempfile.mkdtemp(prefix="accessbot-samples-"))
    try:
        for name, profile in PROFILES.items():
            workdir = scratch / name
            workdir.mkdir()
            cached(folder, name, lambda: build_samples(workdir, profile))  # noqa: B023 (called at once)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    build_all(Path(sys.argv[1]))
