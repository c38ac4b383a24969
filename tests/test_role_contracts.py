"""Every role keeps one contract in three places: defaults/main.yml, meta/argument_specs.yml
and its README name the same variables, with the same defaults, all prefixed with the role's
name (role-specific tests live beside each role's other tests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROLES = sorted(p for p in (Path(__file__).resolve().parents[1] / "roles").iterdir() if p.is_dir())


def _load(role, path):
    return yaml.safe_load((role / path).read_text()) or {}


@pytest.fixture(params=ROLES, ids=[role.name for role in ROLES])
def role(request):
    return request.param


def _options(role):
    return _load(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]


def test_every_default_is_in_the_argument_spec_with_the_same_default(role):
    options = _options(role)
    for name, value in _load(role, "defaults/main.yml").items():
        assert name in options, f"{role.name}: {name} has a default but no argument spec"
        if isinstance(value, str) and "{{" in value and "default" not in options[name]:
            continue  # computed from other variables: the spec cannot state it
        assert options[name].get("default") == value, f"{role.name}: {name}"


def test_every_option_without_a_default_is_required(role):
    defaults = _load(role, "defaults/main.yml")
    loose = [name for name, spec in _options(role).items()
             if name not in defaults and not spec.get("required") and "default" not in spec]
    assert loose == [], f"{role.name}: options with neither a default nor required: {loose}"


def test_every_variable_is_prefixed_with_the_role_name(role):
    names = set(_load(role, "defaults/main.yml")) | set(_options(role))
    assert [n for n in names if not n.startswith(f"{role.name}_")] == []


def test_readme_lists_every_option(role):
    readme = (role / "README.md").read_text()
    listed = set(re.findall(rf"^\| `({role.name}_[a-z0-9_]+)` \|", readme, re.MULTILINE))
    missing = set(_options(role)) - listed
    assert missing == set(), f"{role.name}/README.md does not list {sorted(missing)}"
