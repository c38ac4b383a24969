"""The role's default fingerprint is Docker's real release key (GUIDE §6)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .conftest import REPO, ROLE, gpg_primary_fingerprints

# In CI the repository is cloned with shared/ beside it, as on the development machine.
DOCKER_KEY = REPO.parent / "shared" / "data" / "docker-release-ce-deb.asc"


def role_default(name: str):
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())[name]


@pytest.fixture
def docker_key() -> Path:
    if not DOCKER_KEY.is_file():
        pytest.skip(f"Docker's public key is not at {DOCKER_KEY}")
    return DOCKER_KEY


def test_default_fingerprint_is_dockers_key_per_gpg(docker_key, gnupg_home):
    assert gpg_primary_fingerprints(docker_key, gnupg_home) == [
        role_default("docker_apt_key_fingerprint")
    ]


def test_role_parser_reads_dockers_key_like_gpg(docker_key, filters):
    info = filters.openpgp_key_info(docker_key.read_text())
    assert info["fingerprints"] == [role_default("docker_apt_key_fingerprint")]
    assert info["armored"]


def test_role_reinstalls_exactly_the_inspected_packets(docker_key, filters, gnupg_home, tmp_path):
    """The keyring the role writes (canonical armour) is the same key to gpg."""
    canonical = tmp_path / "docker.asc"
    canonical.write_text(filters.openpgp_key_info(docker_key.read_text())["armored_key"])
    assert gpg_primary_fingerprints(canonical, gnupg_home) == gpg_primary_fingerprints(
        docker_key, gnupg_home
    )
