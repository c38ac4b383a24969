"""A healthy deployment's raw facts, as the security_check role gathers them, for the unit tests
of its filter plugin: each test breaks one thing and expects the finding that names it."""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "security_check"
HOST = "web-1"
TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def filters():
    """The role's filter plugin, loaded from its file (roles/ is not a package)."""
    return load(ROLE / "filter_plugins" / "security_check_findings.py", "security_check_findings")


def the_one_finding(found, item, *words):
    """Exactly one finding, for GUIDE §7 item `item`, naming the host and containing every word."""
    assert len(found) == 1, found
    assert found[0].startswith(f"§7.{item} "), found
    assert found[0].endswith(f" on {HOST}"), found
    for word in words:
        assert word in found[0], found
    return found[0]


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def armored(packets: bytes) -> str:
    body = base64.b64encode(packets).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
            f"{lines}\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n")


def fake_key(uid: str) -> bytes:
    """Not a real key: a public-key packet header, random-looking bytes and a user id packet."""
    return b"\x99\x01\x0d\x04" + bytes(range(40)) + b"\xb4" + bytes([len(uid)]) + uid.encode()


def tcp_line(index, local, remote="00000000:0000", state="0A"):
    return f"{index:4}: {local} {remote} {state} 00000000:00000000 00:00000000 00000000     0"


DOCKER_SOURCES = """\
# Ansible managed
Types: deb
URIs: https://download.docker.com/linux/debian
Suites: trixie
Components: stable
Architectures: amd64
Signed-By: /etc/apt/keyrings/docker.asc
"""

POLICY = """\
docker-ce:
  Installed: 5:28.5.2-1~debian.13~trixie
  Candidate: 5:28.5.2-1~debian.13~trixie
  Version table:
 *** 5:28.5.2-1~debian.13~trixie 500
        500 https://download.docker.com/linux/debian trixie/stable amd64 Packages
        100 /var/lib/dpkg/status
     5:28.5.1-1~debian.13~trixie 500
        500 https://download.docker.com/linux/debian trixie/stable amd64 Packages
"""

DAEMON_JSON = {
    "live-restore": True,
    "log-driver": "json-file",
    "log-opts": {"max-file": "3", "max-size": "10m"},
    "no-new-privileges": True,
}

DOCKER_INFO = {
    "LoggingDriver": "json-file",
    "LiveRestoreEnabled": True,
    "SecurityOptions": ["name=seccomp,profile=builtin", "name=no-new-privileges"],
}

GUNICORN = ["/opt/venv/bin/python3", "/opt/venv/bin/gunicorn", "--config",
            "/srv/app/gunicorn.conf.py", "wsgi:app"]

CONTAINER = {
    "Id": "c0ffee" * 10 + "abcd",
    "Name": "/flask_app-web-1",
    "Image": "sha256:1111",
    "Config": {
        "Image": "flask-app:f44d606b1a68",
        "User": "10001:10001",
        "Healthcheck": {"Test": ["CMD", "python3", "/srv/app/healthcheck.py"]},
        "Labels": {"com.docker.compose.project": "flask_app"},
    },
    "State": {"Status": "running", "Running": True, "Pid": 4393,
              "Health": {"Status": "healthy"}},
    "HostConfig": {
        "ReadonlyRootfs": True,
        "Tmpfs": {"/tmp": "size=16m,mode=1777"},
        "CapDrop": ["ALL"],
        "CapAdd": None,
        "SecurityOpt": ["no-new-privileges:true"],
        "Memory": 268435456,
        "PidsLimit": 128,
        "Privileged": False,
        "Binds": None,
    },
    "Mounts": [{"Type": "bind", "Source": "/opt/flask_app/secrets/f44d606b1a68/app_token",
                "Destination": "/run/secrets/app_token", "RW": False}],
}

IMAGE = {
    "Id": "sha256:1111",
    "Config": {"User": "10001:10001",
               "Healthcheck": {"Test": ["CMD", "python3", "/srv/app/healthcheck.py"]}},
}

SSHD_T = """\
port 22
permitrootlogin no
passwordauthentication no
kbdinteractiveauthentication no
pubkeyauthentication yes
"""


def good_host_raw():
    return {
        "proc_net_tcp": [
            "\n".join([
                TCP_HEADER,
                tcp_line(0, "00000000:0050"),  # 0.0.0.0:80, the app
                tcp_line(1, "0100007F:8925"),  # 127.0.0.1:35109, containerd
                # A connection (not a listener) on local port 2376 is not a finding.
                tcp_line(2, "0100007F:0948", "0100007F:B570", state="01"),
            ]),
            "\n".join([TCP_HEADER, tcp_line(0, "00000000000000000000000000000000:0016")]),
        ],
        "unattended_upgrades_status": "install ok installed",
        "apt_config": 'APT::Periodic::Update-Package-Lists "1";\n'
                      'APT::Periodic::Unattended-Upgrade "1";\n',
        "docker_policy": POLICY,
        "apt_files": {
            "/etc/apt/sources.list": b64("deb http://deb.debian.org/debian trixie main\n"),
            "/etc/apt/sources.list.d/docker.sources": b64(DOCKER_SOURCES),
            "/etc/apt/keyrings/docker.asc": b64(armored(fake_key("Docker Release (CE deb)"))),
            "/etc/apt/trusted.gpg.d/debian-archive-trixie-stable.asc":
                b64(armored(fake_key("Debian Stable Release Key (13/trixie)"))),
        },
        "daemon_json": json.dumps(DAEMON_JSON),
        "docker_info": {"rc": 0, "stdout": json.dumps(DOCKER_INFO), "stderr": ""},
        "dockerd_cmdline_b64": b64(
            "/usr/sbin/dockerd\0-H\0fd://\0--containerd=/run/containerd/containerd.sock\0"),
        "containers": [copy.deepcopy(CONTAINER)],
        "images": [copy.deepcopy(IMAGE)],
        "processes": {
            "4393": [
                {"pid": 4393, "ppid": 4370, "uid": 10001, "cmdline": GUNICORN},
                {"pid": 4426, "ppid": 4393, "uid": 10001, "cmdline": GUNICORN},
            ]
        },
        "sshd": {"rc": 0, "stdout": SSHD_T, "stderr": ""},
    }


INSTANCE = {
    "instance_id": "i-0123456789abcdef0",
    "image_id": "ami-0debian13",
    "key_name": "dockhand-prod",
    "root_device_name": "/dev/xvda",
    "metadata_options": {"http_endpoint": "enabled", "http_tokens": "required",
                         "http_put_response_hop_limit": 1},
    "block_device_mappings": [{"device_name": "/dev/xvda",
                               "ebs": {"volume_id": "vol-root", "delete_on_termination": True}}],
    "security_groups": [{"group_id": "sg-1", "group_name": "dockhand-prod"}],
    "tags": {"Name": "dockhand-prod", "Project": "dockhand", "ManagedBy": "ansible/ec2_host",
             "Deployment": "prod", "SshUser": "admin"},
}
TAGS = {"Name": "dockhand-prod", "Project": "dockhand", "ManagedBy": "ansible/ec2_host",
        "Deployment": "prod"}


def permission(port, cidrs=(), cidrs6=(), *, protocol="tcp", to_port=None, groups=()):
    return {
        "ip_protocol": protocol,
        "from_port": port,
        "to_port": port if to_port is None else to_port,
        "ip_ranges": [{"cidr_ip": c} for c in cidrs],
        "ipv6_ranges": [{"cidr_ipv6": c} for c in cidrs6],
        "user_id_group_pairs": [{"group_id": g} for g in groups],
        "prefix_list_ids": [],
    }


def good_aws_raw():
    return {
        "instance_id": INSTANCE["instance_id"],
        "instance": copy.deepcopy(INSTANCE),
        "security_groups": [{
            "group_id": "sg-1",
            "group_name": "dockhand-prod",
            "ip_permissions": [
                permission(80, ["0.0.0.0/0"], ["::/0"]),
                permission(443, ["0.0.0.0/0"], ["::/0"]),
                permission(22, ["203.0.113.0/24"], ["2001:db8:1234::/48"]),
            ],
            "tags": dict(TAGS),
        }],
        "volumes": [{"id": "vol-root", "encrypted": True, "type": "gp3", "tags": dict(TAGS)}],
        "key_pairs": [{"key_name": "dockhand-prod", "tags": dict(TAGS)}],
        "images": [{"image_id": "ami-0debian13", "owner_id": "136693071363",
                    "name": "debian-13-amd64-20261201-1234"}],
    }


AWS_OPTIONS = {
    "admin_cidrs": ["203.0.113.0/24", "2001:db8:1234::/48"],
    "app_ports": [80, 443],
    "expected_tags": {"Project": "dockhand", "ManagedBy": "ansible/ec2_host", "Deployment": "prod"},
    "distribution": "debian-13",
}


@pytest.fixture
def host_raw():
    return good_host_raw()


@pytest.fixture
def aws_raw():
    return good_aws_raw()
