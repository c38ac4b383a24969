"""The post-deploy security check (playbooks/security_check.yml) on the live demo deployment:
site.yml ran it and it passed; run on its own it passes; with one item broken on the host at a
time (a listener on the Docker API port, live-restore off in daemon.json, the app container
recreated writable and as root) it fails naming that item and no other; restored, it passes
again, so the fault tests that follow find the deployment as site.yml left it.

The breaking runs skip the AWS half (security_check_aws=false): the host is what is broken, and
the AWS half is covered against the emulator by tests/ec2/test_security_check_aws.py.
"""

import json
import re
import time

import pytest

CHECK = "playbooks/security_check.yml"
HOST_ONLY = ("-e", "security_check_aws=false")
LISTENER = "e2e-security-check-2376"
# The release `current` points at, resolved: the project directory the role itself used.
RELEASE = "$(readlink -f /opt/flask_app/current)"
COMPOSE = (f"docker compose --project-name flask_app --file {RELEASE}/compose.yaml "
           f"--file {RELEASE}/compose.flask_app.yaml")
OVERRIDE = "/root/e2e-security-override.yaml"


def _host_name(demo):
    return f"dockhand-{demo.settings['ec2_host_deployment']}"


def _findings(demo, run):
    """The distinct finding lines in a run's output."""
    pattern = rf"§7\.\d+ [a-zA-Z ]+: .+? on {re.escape(_host_name(demo))}"
    return sorted(set(re.findall(pattern, run.stdout)))


def _items(demo, run):
    return sorted({int(line[3 : line.index(" ")]) for line in _findings(demo, run)})


def _ok(demo, cmd):
    run = demo.host(cmd)
    assert run.returncode == 0, f"{cmd}: {run.stdout}{run.stderr}"
    return run.stdout


def _wait_listening(demo, port, present, deadline=30):
    """Until /proc/net/tcp does (or no longer) show a listener on the port."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        rows = [line.split() for line in _ok(demo, "cat /proc/net/tcp").splitlines()[1:]]
        listening = any(row[1].endswith(f":{port:04X}") and row[3] == "0A" for row in rows)
        if listening == present:
            return
        time.sleep(0.5)
    pytest.fail(f"port {port} still {'not ' if present else ''}listening after {deadline} s")


def test_site_ran_the_check_and_it_passed(deployed):
    assert "TASK [security_check : Judge the facts]" in deployed.up.stdout
    assert re.search(r"No violation of GUIDE §7 items 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13 "
                     r"\(the host and AWS i-\w+\)", deployed.up.stdout), deployed.up.stdout[-3000:]


def test_standalone_check_passes(deployed):
    run = deployed.play(CHECK)
    assert run.returncode == 0, run.stdout[-5000:]
    # app_hosts is empty in the demo inventory: the playbook found the instance by its tags.
    assert re.search(r"TASK \[Add the instance to app_hosts as roles/ec2_host does\][^\n]*\n"
                     r"included: [^\n]*ec2_host for localhost => \(item=i-\w+\)", run.stdout), \
        run.stdout[-5000:]
    assert re.search(r"No violation of GUIDE §7 items 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13 "
                     r"\(the host and AWS i-\w+\)", run.stdout), run.stdout[-3000:]
    assert _findings(deployed, run) == []


def test_a_listener_on_the_docker_api_port(deployed):
    _ok(deployed, f"systemd-run --unit={LISTENER} python3 -m http.server --bind 0.0.0.0 2376")
    try:
        _wait_listening(deployed, 2376, present=True)
        run = deployed.play(CHECK, *HOST_ONLY)
    finally:
        deployed.host(f"systemctl stop {LISTENER}")
    _wait_listening(deployed, 2376, present=False)
    assert run.returncode != 0
    assert _findings(deployed, run) == [
        f"§7.3 Docker API port: something listens on tcp/2376 (0.0.0.0) on {_host_name(deployed)}"]


def test_live_restore_off_in_daemon_json(deployed):
    original = _ok(deployed, "cat /etc/docker/daemon.json")
    assert json.loads(original)["live-restore"] is True
    _ok(deployed, "cp -p /etc/docker/daemon.json /root/daemon.json.e2e && python3 -c '"
                  "import json; p=\"/etc/docker/daemon.json\"; c=json.load(open(p)); "
                  "c[\"live-restore\"]=False; json.dump(c, open(p, \"w\"))'")
    try:
        run = deployed.play(CHECK, *HOST_ONLY)
    finally:
        _ok(deployed, "mv /root/daemon.json.e2e /etc/docker/daemon.json")
    assert _ok(deployed, "cat /etc/docker/daemon.json") == original
    assert run.returncode != 0
    # The file is wrong; the running daemon (not restarted) still has live-restore.
    assert _findings(deployed, run) == [
        "§7.9 Docker daemon: live-restore is not true in /etc/docker/daemon.json on "
        f"{_host_name(deployed)}"]


def test_app_container_recreated_writable_and_as_root(deployed):
    before = _ok(deployed, f"{COMPOSE} ps --quiet web").strip()
    _ok(deployed, f"printf 'services:\\n  web:\\n    read_only: false\\n    user: \"0:0\"\\n' "
                  f"> {OVERRIDE}")
    try:
        _ok(deployed, f"{COMPOSE} --file {OVERRIDE} up --detach --no-build --wait web")
        run = deployed.play(CHECK, *HOST_ONLY)
    finally:
        deployed.host(f"rm -f {OVERRIDE}")
        _ok(deployed, f"{COMPOSE} up --detach --no-build --wait web")
    after = _ok(deployed, f"docker inspect --format '{{{{.Config.User}}}} {{{{.HostConfig."
                          f"ReadonlyRootfs}}}}' $({COMPOSE} ps --quiet web)").split()
    assert after == ["10001:10001", "true"]
    assert run.returncode != 0
    assert before, "no app container before the test"
    lines = _findings(deployed, run)
    host = _host_name(deployed)
    assert f"§7.10 app process: container flask_app-web-1: runs as root (user '0:0') on {host}" \
        in lines
    assert any(re.match(rf"§7\.10 app process: container flask_app-web-1: process '.*gunicorn.*' "
                        rf"\(pid \d+\) runs as uid 0 on {host}", line) for line in lines), lines
    assert "§7.11 app container: container flask_app-web-1: root filesystem is writable " \
           f"(read_only: true missing) on {host}" in lines
    assert _items(deployed, run) == [10, 11], lines


def test_restored_it_passes_again(deployed):
    deployed.wait_healthy()
    run = deployed.play(CHECK)
    assert run.returncode == 0, run.stdout[-5000:]
    assert _findings(deployed, run) == []
