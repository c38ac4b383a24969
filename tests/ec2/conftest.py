"""Fixtures for the ec2_host role tests: a local moto server, a throwaway HOME with an SSH key,
and a runner for ansible-playbook / ansible-inventory that can only reach the emulator."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
AMIS = HERE / "amis.json"
BIN = Path(sys.executable).parent
REGION = "eu-central-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "testing"}
# Anything that tries the real internet (a missed endpoint_url) hits a closed local port.
PROXY_GUARD = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
RECAP = re.compile(r"^localhost\s+:\s+(.*)$", re.MULTILINE)

WALL_TIMES: list[tuple[str, float]] = []


def pytest_terminal_summary(terminalreporter):
    if WALL_TIMES:
        figures = ", ".join(f"{label} {seconds:.1f}s" for label, seconds in WALL_TIMES)
        terminalreporter.write_line(f"ec2_host wall times against moto: {figures}")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _moto_command(port):
    script = BIN / "moto_server"
    if script.exists():
        return [str(script), "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory):
    """A moto server on a free local port with realistic official AMIs and validation on."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {
        **os.environ,
        **PROXY_GUARD,
        "MOTO_AMIS_PATH": str(AMIS),
        "MOTO_ENABLE_AMI_VALIDATION": "true",
        "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION": "true",
        "MOTO_ENABLE_KEYPAIR_VALIDATION": "true",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(_moto_command(port), env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto_server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def reset_moto(url):
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


class Aws:
    """boto3 clients pointed at moto, plus the list of what a deployment could leave behind."""

    def __init__(self, url, region=REGION):
        self.url = url
        self.region = region
        self.ec2 = boto3.client(
            "ec2",
            region_name=region,
            endpoint_url=url,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def instances(self, states=("pending", "running", "stopping", "stopped", "shutting-down")):
        pages = self.ec2.describe_instances(
            Filters=[{"Name": "instance-state-name", "Values": list(states)}]
        )["Reservations"]
        return [i for r in pages for i in r["Instances"]]

    def security_groups(self):
        groups = self.ec2.describe_security_groups()["SecurityGroups"]
        return [g for g in groups if g["GroupName"] != "default"]

    def key_pairs(self):
        return self.ec2.describe_key_pairs()["KeyPairs"]

    def volumes(self):
        return self.ec2.describe_volumes()["Volumes"]

    def leftovers(self):
        """Everything a run of the role could have created, by kind, non-empty kinds only."""
        found = {
            "instances": [i["InstanceId"] for i in self.instances()],
            "security_groups": [g["GroupId"] for g in self.security_groups()],
            "key_pairs": [k["KeyName"] for k in self.key_pairs()],
            "volumes": [v["VolumeId"] for v in self.volumes()],
        }
        return {kind: ids for kind, ids in found.items() if ids}


@pytest.fixture
def aws(moto_url):
    """A clean emulated account for one test."""
    reset_moto(moto_url)
    return Aws(moto_url)


@pytest.fixture(scope="module")
def module_aws(moto_url):
    """A clean emulated account shared by the tests of one module (a lifecycle in steps)."""
    reset_moto(moto_url)
    return Aws(moto_url)


@pytest.fixture(scope="session")
def home(tmp_path_factory):
    """A throwaway HOME: an ed25519 key pair in ~/.ssh and no AWS configuration."""
    path = tmp_path_factory.mktemp("home")
    ssh = path / ".ssh"
    ssh.mkdir(mode=0o700)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "operator@test",
         "-f", str(ssh / "id_ed25519")],
        check=True,
    )
    return path


@dataclass
class Run:
    rc: int
    out: str
    seconds: float
    stdout: str = ""

    @property
    def recap(self):
        """The localhost line of PLAY RECAP as a dict of ints."""
        found = RECAP.findall(self.out)
        assert found, f"no PLAY RECAP in output:\n{self.out[-3000:]}"
        return {k: int(v) for k, v in (pair.split("=") for pair in found[-1].split())}


class Ansible:
    def __init__(self, home, moto_url, tmp_path):
        self.home = home
        self.moto_url = moto_url
        self.tmp_path = tmp_path

    def env(self, credentials=True, **extra):
        env = {
            "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCAL_TEMP": str(self.tmp_path / "ansible-local"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(self.home / ".aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / ".aws" / "credentials"),
            **PROXY_GUARD,
        }
        if credentials:
            env.update(FAKE_CREDENTIALS)
        env.update(extra)
        return env

    def base_vars(self):
        return {
            "ec2_host_aws_endpoint_url": self.moto_url,
            "ec2_host_region": REGION,
            "ec2_host_deployment": "ci",
            "ec2_host_admin_cidrs": ["203.0.113.0/24", "2001:db8:1234::/48"],
            "ec2_host_app_ports": [80, 443],
            "ec2_host_wait_for_ssh": False,
        }

    def playbook(self, name, extra_vars=None, check=False, credentials=True, label=None):
        """Run playbooks/<name>.yml with the base vars overlaid by extra_vars."""
        variables = {**self.base_vars(), **(extra_vars or {})}
        varfile = self.tmp_path / f"vars-{time.monotonic_ns()}.json"
        varfile.write_text(json.dumps(variables))
        cmd = [str(BIN / "ansible-playbook"), str(ROOT / "playbooks" / f"{name}.yml"),
               "-e", f"@{varfile}"]
        if check:
            cmd.append("--check")
        return self._run(cmd, self.env(credentials=credentials), label)

    def inventory(self, config):
        cmd = [str(BIN / "ansible-inventory"), "-i", str(config), "--list"]
        return self._run(cmd, self.env(), None)

    def _run(self, cmd, env, label):
        start = time.monotonic()
        proc = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        seconds = time.monotonic() - start
        if label:
            WALL_TIMES.append((label, seconds))
            print(f"\n[wall time] {label}: {seconds:.1f}s")
        return Run(proc.returncode, proc.stdout + proc.stderr, seconds, proc.stdout)


@pytest.fixture
def ansible(home, moto_url, tmp_path):
    (tmp_path / "ansible-local").mkdir()
    return Ansible(home, moto_url, tmp_path)


@pytest.fixture(scope="module")
def module_ansible(home, moto_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ansible")
    (tmp / "ansible-local").mkdir()
    return Ansible(home, moto_url, tmp)


def official_newest(distribution, architecture):
    """The image the role must choose, computed independently from the fixture file."""
    debian, canonical = "136693071363", "099720109477"
    owner, prefix = {
        "debian-12": (debian, "debian-12-{a}-"),
        "debian-13": (debian, "debian-13-{a}-"),
        "ubuntu-24.04": (canonical, "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-{a}-server-"),
    }[distribution]
    arch_name = {"x86_64": "amd64", "arm64": "arm64"}[architecture]
    prefix = prefix.format(a=arch_name)
    candidates = [
        a for a in json.loads(AMIS.read_text())
        if a["owner_id"] == owner and a["name"].startswith(prefix)
        and a["architecture"] == architecture and a["state"] == "available"
    ]
    assert len(candidates) >= 3, "the fixture needs several dates per image family"
    return max(candidates, key=lambda a: a["creation_date"])


@pytest.fixture(scope="session")
def newest_image():
    return official_newest
