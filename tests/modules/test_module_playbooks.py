"""The custom modules through ansible-playbook (connection local), normally and in check mode."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
BIN = Path(sys.executable).parent


def ansible(tool, *args, tmp_path):
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_RETRY_FILES_ENABLED="0",
        NO_PROXY="127.0.0.1,localhost",
    )
    return subprocess.run(
        [str(BIN / tool), "-i", "localhost,", "-c", "local", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def recap(output):
    match = re.search(r"^localhost\s+:\s+(.*)$", output, re.MULTILINE)
    assert match, output
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


@pytest.mark.parametrize("check", [False, True], ids=["run", "check-mode"])
def test_compose_policy_playbook(tmp_path, check):
    result = ansible("ansible-playbook", str(PLAYBOOKS / "compose_policy.yml"),
                     *(["--check"] if check else []), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = recap(result.stdout)
    assert counts["failed"] == 0
    assert counts["changed"] == 0
    assert counts["rescued"] == 1  # the unsafe definition was refused
    assert counts["ok"] == 5  # every task ran, the assertions included


@pytest.mark.parametrize("check", [False, True], ids=["run", "check-mode"])
def test_http_healthcheck_playbook(tmp_path, http_server, check):
    result = ansible("ansible-playbook", str(PLAYBOOKS / "http_healthcheck.yml"),
                     "-e", f"health_base_url={http_server}",
                     *(["--check"] if check else []), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = recap(result.stdout)
    assert counts["failed"] == 0
    assert counts["changed"] == 0
    assert counts["rescued"] == 1  # the 503 endpoint was reported unhealthy
    assert counts["ok"] == 3


def test_unrescued_failure_fails_the_run_with_the_message(tmp_path):
    result = ansible("ansible", "localhost", "-m", "compose_policy",
                     "-a", "path=/nonexistent/compose.yaml",
                     "-e", f"ansible_python_interpreter={sys.executable}", tmp_path=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "compose_policy: compose file /nonexistent/compose.yaml does not exist" in result.stdout
