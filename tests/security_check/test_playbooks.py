"""The playbook and the role agree on the default item set, and deploy.yml runs the check last
(the contract shared by every role: tests/test_role_contracts.py)."""

from __future__ import annotations

import yaml

from .conftest import REPO, ROLE


def load(path):
    return yaml.safe_load((ROLE / path).read_text())


def test_the_default_items_are_the_filters_defaults(filters):
    assert load("defaults/main.yml")["security_check_items"] == list(filters.DEFAULT_ITEMS)


def test_deploy_runs_the_check_last():
    plays = yaml.safe_load((REPO / "playbooks" / "deploy.yml").read_text())
    assert plays[-1]["ansible.builtin.import_playbook"] == "security_check.yml"
    assert "security" in plays[-1]["tags"]
