"""Fault survival on the live demo deployment, in order: the app's process is killed, dockerd is
restarted, the host is rebooted, a deploy is interrupted midway and rerun, a release fails its
health check. After each: the app answers, and no release on the host is lost.

Deadlines below only bound a hung wait (a failure); the recovery times are printed, not judged.
"""

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from .conftest import ROOT, figure

APP_FILTER = ("--filter label=com.docker.compose.project=flask_app "
              "--filter label=com.docker.compose.service=web")
ROOT_DIR = "/opt/flask_app"


def _out(demo, cmd):
    run = demo.host(cmd)
    assert run.returncode == 0, f"{cmd}: {run.stderr}"
    return run.stdout.strip()


def _snapshot(demo):
    """What must survive a fault: the releases on disk, current/previous, the running container."""
    container = _out(demo, f"docker ps -q --no-trunc {APP_FILTER}")
    assert len(container.split()) == 1, container
    return {
        "releases": set(_out(demo, f"ls {ROOT_DIR}/releases").split()),
        "current": _out(demo, f"readlink {ROOT_DIR}/current"),
        "previous": demo.host(f"readlink {ROOT_DIR}/previous").stdout.strip(),
        "container": container,
        "restarts": int(_out(demo, f"docker inspect -f '{{{{.RestartCount}}}}' {container}")),
        "release": demo.health()["release"],
    }


def _assert_nothing_lost(before, after):
    assert before["releases"] <= after["releases"], (before, after)
    assert after["current"] == before["current"]
    assert after["release"] == before["release"]


def _app_copy(tmp_path, name, edit=None):
    """A copy of the app; `edit` = (file, old, new) changes it (a new release)."""
    copy = tmp_path / name
    shutil.copytree(ROOT / "app", copy, ignore=shutil.ignore_patterns(
        ".venv", "__pycache__", ".pytest_cache"))
    if edit:
        path = copy / edit[0]
        text = path.read_text()
        assert edit[1] in text, edit
        path.write_text(text.replace(edit[1], edit[2]))
    return copy


def test_app_process_killed_is_restarted(deployed):
    before = _snapshot(deployed)
    pid = _out(deployed, f"docker inspect -f '{{{{.State.Pid}}}}' {before['container']}")
    _out(deployed, f"kill -KILL {pid}")
    waited, _ = deployed.wait_healthy()
    after = _snapshot(deployed)
    figure(f"fault: gunicorn master (pid {pid}) killed: answering again after {waited:.1f} s")
    _assert_nothing_lost(before, after)
    assert after["container"] == before["container"]  # restarted by its policy, not redeployed
    assert after["restarts"] > before["restarts"]


def test_dockerd_restart_keeps_the_app(deployed):
    before = _snapshot(deployed)
    _out(deployed, "systemctl restart docker")
    waited, _ = deployed.wait_healthy()
    after = _snapshot(deployed)
    figure(f"fault: dockerd restarted: answering after {waited:.1f} s")
    _assert_nothing_lost(before, after)
    assert after["container"] == before["container"]


def test_host_reboot_brings_the_app_back_without_a_redeploy(deployed):
    before = _snapshot(deployed)
    started = time.monotonic()
    subprocess.run(["docker", "restart", "--time", "30", deployed.container], check=True,
                   capture_output=True, timeout=120)
    waited, _ = deployed.wait_healthy(deadline=300)
    after = _snapshot(deployed)
    figure(f"fault: host rebooted: answering {time.monotonic() - started:.1f} s after the "
           f"restart began ({waited:.1f} s after it returned)")
    _assert_nothing_lost(before, after)
    # The same container, started by dockerd at boot: nothing was deployed again.
    assert after["container"] == before["container"]
    assert _out(deployed, "systemctl is-enabled docker") == "enabled"


def test_interrupted_deploy_converges_on_rerun(deployed, tmp_path):
    before = _snapshot(deployed)
    src = _app_copy(tmp_path, "app-next", (
        "dockhand_app/__init__.py", '"""', '"""\n# e2e: a new release, interrupted midway\n'))
    marker = "TASK [flask_app : Build the release image"
    run = deployed.popen("playbooks/demo/up.yml", "-e", f"flask_app_src={src}")
    seen = []
    try:
        for line in run.stdout:
            seen.append(line)
            if marker in line:
                time.sleep(2)  # let the build get going
                break
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
    assert any(marker in line for line in seen), "".join(seen[-60:])
    figure(f"fault: deploy killed (SIGKILL to ansible-playbook) during: {marker}]")
    # Nothing took the release from before down while the deploy was cut off.

    during = _snapshot(deployed)
    assert during["release"] == before["release"]
    assert during["current"] == before["current"]

    rerun = deployed.play("playbooks/demo/up.yml", "-e", f"flask_app_src={src}")
    assert rerun.returncode == 0, rerun.stdout[-5000:]
    after = _snapshot(deployed)
    assert after["release"] != before["release"]
    assert after["current"].endswith(after["release"])
    assert after["previous"].endswith(before["release"])
    assert before["releases"] <= after["releases"]
    assert re.search(rf"\b{after['release']}\b", _out(deployed, f"ls {ROOT_DIR}/releases"))


def test_failed_release_is_rolled_back(deployed, tmp_path):
    before = _snapshot(deployed)
    src = _app_copy(tmp_path, "app-broken", (
        "dockhand_app/__init__.py",
        'return jsonify(status="ok", release=app.config["RELEASE_ID"])',
        'return jsonify(status="broken", release=app.config["RELEASE_ID"]), 500'))
    run = deployed.play("playbooks/demo/up.yml", "-e", f"flask_app_src={src}",
                        "-e", "flask_app_health_timeout=20")
    assert run.returncode != 0, run.stdout[-3000:]
    assert f"rolled back to release {before['release']}" in run.stdout, run.stdout[-3000:]
    waited, _ = deployed.wait_healthy()
    after = _snapshot(deployed)
    figure(f"fault: broken release refused; the previous one answers ({waited:.1f} s to confirm)")
    _assert_nothing_lost(before, after)
    assert after["previous"] == before["previous"]


@pytest.fixture(autouse=True)
def _show_name(request):
    print(f"\n[fault] {request.node.name}")
