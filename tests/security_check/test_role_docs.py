"""The role's contract is consistent: defaults, argument_specs and README name the same
variables with the same defaults; the playbook and the role agree on the default item set."""

from __future__ import annotations

import re

import yaml

from .conftest import REPO, ROLE


def load(path):
    return yaml.safe_load((ROLE / path).read_text())


def test_every_default_is_in_the_argument_spec_with_the_same_default():
    defaults = load("defaults/main.yml")
    options = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    for name, value in defaults.items():
        assert options[name].get("default") == value, name


def test_every_variable_is_prefixed_with_the_role_name():
    assert all(name.startswith("security_check_") for name in load("defaults/main.yml"))


def test_readme_lists_every_variable():
    readme = (ROLE / "README.md").read_text()
    readme = readme[readme.index("## Variables") : readme.index("## Facts")]
    listed = set(re.findall(r"^\| `(security_check_[a-z_]+)` \|", readme, re.MULTILINE))
    assert listed == set(load("defaults/main.yml"))


def test_the_default_items_are_the_filters_defaults(filters):
    assert load("defaults/main.yml")["security_check_items"] == list(filters.DEFAULT_ITEMS)


def test_deploy_runs_the_check_last():
    plays = yaml.safe_load((REPO / "playbooks" / "deploy.yml").read_text())
    assert plays[-1]["ansible.builtin.import_playbook"] == "security_check.yml"
    assert "security" in plays[-1]["tags"]
