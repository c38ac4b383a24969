"""host_hardening's defaults are the secure ones, and the playbooks harden the host before
Docker (the contract shared by every role: tests/test_role_contracts.py)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "host_hardening"


def load(path):
    return yaml.safe_load((ROLE / path).read_text())


def test_secure_defaults():
    defaults = load("defaults/main.yml")
    assert defaults["host_hardening_upgrades"] is True
    assert defaults["host_hardening_ssh"] is True
    assert defaults["host_hardening_ssh_permit_root_login"] == "no"
    assert defaults["host_hardening_ssh_lockout_check"] is True
    template = (ROLE / "templates" / "sshd_hardening.conf.j2").read_text()
    assert re.search(r"^PasswordAuthentication no$", template, re.MULTILINE)
    assert re.search(r"^KbdInteractiveAuthentication no$", template, re.MULTILINE)


def test_deploy_hardens_the_host_before_docker():
    plays = yaml.safe_load((REPO / "playbooks" / "deploy.yml").read_text())
    roles = [role["role"] for play in plays for role in play.get("roles", [])]
    assert roles.index("host_hardening") < roles.index("docker")
