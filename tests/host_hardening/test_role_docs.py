"""The host_hardening role's contract is consistent: defaults, argument_specs and README name
the same variables with the same defaults; the playbooks harden the host before Docker."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "host_hardening"


def load(path):
    return yaml.safe_load((ROLE / path).read_text())


def test_every_default_is_in_the_argument_spec_with_the_same_default():
    defaults = load("defaults/main.yml")
    options = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    for name, value in defaults.items():
        assert options[name].get("default") == value, name


def test_every_variable_is_prefixed_with_the_role_name():
    assert all(name.startswith("host_hardening_") for name in load("defaults/main.yml"))


def test_readme_lists_every_variable():
    readme = (ROLE / "README.md").read_text()
    listed = set(re.findall(r"^\| `(host_hardening_[a-z_]+)` \|", readme, re.MULTILINE))
    assert listed == set(load("defaults/main.yml"))


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
