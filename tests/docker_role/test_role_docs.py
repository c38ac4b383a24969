"""The role's contract is consistent: defaults, argument_specs and README name the same
variables with the same defaults."""

from __future__ import annotations

import re

import yaml

from .conftest import ROLE


def load(path):
    return yaml.safe_load((ROLE / path).read_text())


def test_every_default_is_in_the_argument_spec_with_the_same_default():
    defaults = load("defaults/main.yml")
    options = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    for name, value in defaults.items():
        assert options[name].get("default") == value, name


def test_every_variable_is_prefixed_with_the_role_name():
    assert all(name.startswith("docker_") for name in load("defaults/main.yml"))


def test_readme_lists_every_variable():
    readme = (ROLE / "README.md").read_text()
    listed = set(re.findall(r"^\| `(docker_[a-z_]+)` \|", readme, re.MULTILINE))
    assert listed == set(load("defaults/main.yml"))
