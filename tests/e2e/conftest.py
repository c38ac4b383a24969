"""One demo deployment shared by the end-to-end tests, in file order:

  test_1_demo      the demo path (`make demo`): site.yml against the AWS emulator and a local
                   container standing in for the EC2 host; a second run changes nothing
  test_2_security  the post-deploy security check on the live host: passes, and names the item
                   when one is broken on purpose
  test_3_faults    the deployment survives faults: app killed, dockerd restarted, host rebooted,
                   a deploy interrupted midway, a failed release
  test_4_teardown  destroy.yml and the demo teardown leave nothing behind

Slow (minutes): it installs Docker in the container and builds the app image. It uses its own
container name, ports and deployment, so it does not disturb a demo the developer has running.
Any file runs on its own too: the fixture deploys first and tears down at the end.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RECAP = re.compile(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
GUARD = "http://127.0.0.1:9"  # a closed port: anything headed for the internet fails here
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAE2EEMULATOR00000",
    "AWS_SECRET_ACCESS_KEY": "emulator-only-not-a-secret-e2e",
}


# Recovery times and the like, printed at the end of the run (figures, never judged).
FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    for line in FIGURES:
        terminalreporter.write_line(f"[e2e] {line}")


def figure(line):
    """Print a measured figure now and again in pytest's closing summary."""
    print(f"\n[e2e] {line}")
    FIGURES.append(line)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _docker_ready():
    try:
        probe = subprocess.run(["docker", "info"], check=False, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def recap(output):
    """{host: (changed, unreachable, failed)} from an ansible-playbook run's PLAY RECAP."""
    return {host: (int(changed), int(unreachable), int(failed))
            for host, changed, unreachable, failed in RECAP.findall(output)}


@dataclass
class Demo:
    settings: dict
    env: dict
    state: Path
    up: subprocess.CompletedProcess | None = None
    torn_down: bool = False
    timings: dict = field(default_factory=dict)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.settings['demo_port']}/"

    @property
    def container(self):
        return self.settings["demo_container"]

    def command(self, playbook, *args):
        extra = [arg for key, value in self.settings.items() for arg in ("-e", f"{key}={value}")]
        return [str(BIN / "ansible-playbook"), "-i", "inventory/demo/hosts.yml", *extra, *args,
                playbook]

    def play(self, playbook, *args, timeout=1800):
        """Run a playbook against the demo deployment; prints its wall time."""
        started = time.monotonic()
        run = subprocess.run(self.command(playbook, *args), check=False, cwd=ROOT, env=self.env,
                             capture_output=True, text=True, timeout=timeout)
        print(f"\n[e2e] {playbook} {' '.join(args)}: {time.monotonic() - started:.0f} s, "
              f"rc={run.returncode}")
        return run

    def popen(self, playbook, *args):
        """Start a playbook run without waiting (its own process group, output on a pipe)."""
        return subprocess.Popen(self.command(playbook, *args), cwd=ROOT,
                                env={**self.env, "PYTHONUNBUFFERED": "1"},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)

    def host(self, cmd, timeout=300):
        """A shell command on the stand-in host (the target container), as root."""
        return subprocess.run(["docker", "exec", self.container, "sh", "-c", cmd], check=False,
                              capture_output=True, text=True, timeout=timeout)

    def health(self, timeout=10):
        """The app's /healthz JSON through the published port."""
        with urllib.request.urlopen(f"{self.url}healthz", timeout=timeout) as response:
            return json.load(response)

    def wait_healthy(self, deadline=240):
        """Poll /healthz until it answers ok; returns (seconds waited, JSON), or fails."""
        started = time.monotonic()
        last = None
        while time.monotonic() - started < deadline:
            try:
                body = self.health(timeout=5)
                if body.get("status") == "ok":
                    return time.monotonic() - started, body
                last = body
            except (OSError, ValueError) as error:
                last = error
            time.sleep(1)
        pytest.fail(f"the app did not answer healthy within {deadline} s; last: {last!r}")

    def ec2(self):
        return boto3.client(
            "ec2", region_name="eu-central-1",
            endpoint_url=f"http://127.0.0.1:{self.settings['demo_moto_port']}",
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )


@pytest.fixture(scope="package")
def demo(tmp_path_factory):
    """The deployed demo: up.yml has run once (its result in `demo.up`); torn down at the end."""
    if not _docker_ready():
        pytest.skip("no Docker engine answers")
    state = tmp_path_factory.mktemp("demo-state")
    moto_port = _free_port()
    settings = {
        "demo_container": f"dockhand-e2e-{os.getpid()}",
        "demo_port": _free_port(),
        "demo_moto_port": moto_port,
        "demo_state_dir": str(state),
        "ec2_host_deployment": "e2e",
    }
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        # The fake secret must not occur in resource names: modules mask it in their results.
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "HTTP_PROXY": GUARD, "HTTPS_PROXY": GUARD, "http_proxy": GUARD, "https_proxy": GUARD,
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    }
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        env.pop(key, None)
    deployment = Demo(settings=settings, env=env, state=state)
    try:
        deployment.up = deployment.play("playbooks/demo/up.yml")
        yield deployment
    finally:
        if not deployment.torn_down:
            deployment.play("playbooks/demo/down.yml")


@pytest.fixture
def deployed(demo):
    """The demo, which must have come up; skips the test's own checks otherwise."""
    if demo.up.returncode != 0:
        pytest.fail("the demo deployment did not come up (see test_1_demo)")
    if demo.torn_down:
        pytest.fail("the demo deployment was already torn down")
    return demo
