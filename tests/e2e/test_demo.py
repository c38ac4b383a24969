"""End to end: the demo path (`make demo`) runs site.yml against the AWS emulator and a local
container standing in for the EC2 host; the app answers at the printed URL; a second run
changes nothing; teardown leaves no container and no emulator resources.

Slow (minutes): it installs Docker in the container and builds the app image. It uses its own
container name, ports and deployment, so it does not disturb a demo the developer has running.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
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


pytestmark = pytest.mark.skipif(not _docker_ready(), reason="no Docker engine answers")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
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
    extra = [arg for key, value in settings.items() for arg in ("-e", f"{key}={value}")]

    def play(playbook):
        started = time.monotonic()
        run = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", "inventory/demo/hosts.yml", *extra, playbook],
            check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
        )
        print(f"\n[e2e] {playbook}: {time.monotonic() - started:.0f} s, rc={run.returncode}")
        return run

    yield play, settings
    play("playbooks/demo/down.yml")


def _recap(output):
    return {host: (int(changed), int(unreachable), int(failed))
            for host, changed, unreachable, failed in RECAP.findall(output)}


def _ec2(settings):
    return boto3.client(
        "ec2", region_name="eu-central-1", endpoint_url=f"http://127.0.0.1:{settings['demo_moto_port']}",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def test_demo_end_to_end(demo):
    play, settings = demo

    first = play("playbooks/demo/up.yml")
    assert first.returncode == 0, first.stdout[-5000:]
    url = re.search(r"The app answers at (http://127\.0\.0\.1:\d+/)", first.stdout).group(1)
    assert url == f"http://127.0.0.1:{settings['demo_port']}/"
    with urllib.request.urlopen(url, timeout=10) as response:
        page = response.read().decode()
    assert "FATEC AMERICANA" in page
    assert "Essa é uma simples aplicação rodando em Docker" in page
    assert "local signed stand-in for Docker's apt repository" in first.stdout

    second = play("playbooks/demo/up.yml")
    assert second.returncode == 0, second.stdout[-5000:]
    recap = _recap(second.stdout)
    assert recap, second.stdout[-3000:]
    assert all(changed == 0 for changed, _, _ in recap.values()), recap

    ec2 = _ec2(settings)
    tagged = [{"Name": "tag:Deployment", "Values": ["e2e"]}]
    assert ec2.describe_security_groups(Filters=tagged)["SecurityGroups"]

    destroy = play("playbooks/destroy.yml")
    assert destroy.returncode == 0, destroy.stdout[-5000:]
    running = [
        instance for reservation in ec2.describe_instances(Filters=tagged)["Reservations"]
        for instance in reservation["Instances"] if instance["State"]["Name"] != "terminated"
    ]
    assert running == []
    assert ec2.describe_security_groups(Filters=tagged)["SecurityGroups"] == []
    assert ec2.describe_key_pairs(Filters=tagged)["KeyPairs"] == []
    assert ec2.describe_volumes(Filters=tagged)["Volumes"] == []

    down = play("playbooks/demo/down.yml")
    assert down.returncode == 0, down.stdout[-5000:]
    gone = subprocess.run(["docker", "container", "inspect", settings["demo_container"]],
                          check=False, capture_output=True)
    assert gone.returncode != 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", settings["demo_moto_port"]), timeout=2)
