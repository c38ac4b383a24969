"""The systemd-container recipe (GUIDE §4) is written out in every molecule scenario and in the
demo's start_target.yml: molecule.yml cannot include another file, and a list in the shared
.config/molecule/config.yml would be replaced, not merged, by each scenario's platforms. So
this test keeps the copies identical: a fix to one that is not made to all fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(REPO.glob("molecule/*/molecule.yml"))
DEMO_TASKS = REPO / "playbooks" / "demo" / "tasks" / "start_target.yml"
# What makes a container a usable systemd target on this machine kind. Not the /var/lib/docker
# volume: only targets that run nested Docker need it (for overlay2), and those scenarios have it.
RECIPE = ("command", "cgroupns_mode", "privileged", "capabilities", "security_opts", "tmpfs")


def _demo_settings():
    (task,) = [t for t in yaml.safe_load(DEMO_TASKS.read_text())
               if "community.docker.docker_container" in t]
    return task["community.docker.docker_container"]


def _platforms(path):
    # Molecule turns "$$" into "$" when it reads molecule.yml.
    return yaml.safe_load(path.read_text().replace("$$", "$"))["platforms"]


def _recipe(settings):
    return {key: settings.get(key) for key in RECIPE}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.parent.name for p in SCENARIOS])
def test_every_scenario_platform_uses_the_demo_target_recipe(scenario):
    expected = _recipe(_demo_settings())
    for platform in _platforms(scenario):
        assert _recipe(platform) == expected, f"{scenario.parent.name}/{platform['name']}"
        assert platform["pre_build_image"] is True and platform["pull"] is False, platform["name"]


def test_the_recipe_is_the_guide_s():
    settings = _demo_settings()
    caps = settings["capabilities"]
    assert "SYS_RESOURCE" not in caps and len(caps) == len(set(caps)) == 37
    assert settings["privileged"] is False
    assert settings["cgroupns_mode"] == "private"
    assert "exec /lib/systemd/systemd" in settings["command"]
