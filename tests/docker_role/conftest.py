"""Shared helpers for the docker role's unit tests."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "docker"


@pytest.fixture(scope="session")
def filters():
    """The role's filter plugin, loaded from its file (roles/ is not a package)."""
    path = ROLE / "filter_plugins" / "docker_role.py"
    spec = importlib.util.spec_from_file_location("docker_role_filters", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gpg_primary_fingerprints(key: Path, home: Path) -> list[str]:
    """Primary key fingerprints as gpg reports them (--show-keys imports nothing)."""
    out = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--show-keys", "--with-colons", str(key)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fingerprints, after_pub = [], False
    for line in out.splitlines():
        fields = line.split(":")
        if fields[0] in ("pub", "sub"):
            after_pub = fields[0] == "pub"
        elif fields[0] == "fpr" and after_pub:
            fingerprints.append(fields[9])
            after_pub = False
    return fingerprints


@pytest.fixture
def gnupg_home(tmp_path):
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    return home
