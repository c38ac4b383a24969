"""Bad inputs fail with a message naming the variable, the value and what is allowed, and leave
no AWS resource behind (amazon.aws would otherwise rewrite some of them silently)."""

import pytest

CASES = {
    # id: (extra vars, expected message fragments)
    "cidr-invalid-octet": (
        {"ec2_host_admin_cidrs": ["10.0.0.300/32"]},
        ['ec2_host_admin_cidrs entry "10.0.0.300/32" is not an IPv4 or IPv6 network', "Allowed:"],
    ),
    "cidr-host-bits": (
        {"ec2_host_admin_cidrs": ["10.0.0.5/24"]},
        ['ec2_host_admin_cidrs entry "10.0.0.5/24" has host bits set',
         "did you mean 10.0.0.0/24 or 10.0.0.5/32", "without host bits"],
    ),
    "cidr6-host-bits": (
        {"ec2_host_admin_cidrs": ["2001:db8::1/48"]},
        ['ec2_host_admin_cidrs entry "2001:db8::1/48" has host bits set'],
    ),
    "app-cidr-host-bits": (
        {"ec2_host_app_cidrs": ["192.0.2.1/24"]},
        ['ec2_host_app_cidrs entry "192.0.2.1/24" has host bits set'],
    ),
    "ssh-from-anywhere-v4": (
        {"ec2_host_admin_cidrs": ["0.0.0.0/0"]},
        ["ec2_host_admin_cidrs contains 0.0.0.0/0", "whole internet",
         "ec2_host_allow_ssh_from_anywhere=true"],
    ),
    "ssh-from-anywhere-v6": (
        {"ec2_host_admin_cidrs": ["203.0.113.0/24", "::/0"]},
        ["ec2_host_admin_cidrs contains ::/0", "ec2_host_allow_ssh_from_anywhere=true"],
    ),
    "no-admin-cidrs": (
        {"ec2_host_admin_cidrs": []},
        ["ec2_host_admin_cidrs=[] gives nobody SSH access"],
    ),
    "port-0": (
        {"ec2_host_app_ports": [80, 0]},
        ['ec2_host_app_ports contains "0", not a port number 1-65535', "Allowed: TCP ports"],
    ),
    "port-70000": (
        {"ec2_host_app_ports": [70000]},
        ['ec2_host_app_ports contains "70000", not a port number 1-65535'],
    ),
    "port-docker-api": (
        {"ec2_host_app_ports": [443, 2376]},
        ["ec2_host_app_ports contains 2376, the Docker daemon API port"],
    ),
    "port-ssh-public": (
        {"ec2_host_app_ports": [80, 22]},
        ["ec2_host_app_ports contains 22, the SSH port"],
    ),
    "unknown-region": (
        {"ec2_host_region": "eu-middle-9"},
        ['ec2_host_region="eu-middle-9" is not a known AWS region', "eu-central-1"],
    ),
    "bad-deployment-name": (
        {"ec2_host_deployment": "Prod_1"},
        ['ec2_host_deployment="Prod_1" is not allowed', "a-z, 0-9 and '-'"],
    ),
    "bad-resource-name": (
        {"ec2_host_name": "Dock Hand"},
        ['ec2_host_name="Dock Hand" is not allowed'],
    ),
    "unknown-distribution": (
        {"ec2_host_distribution": "centos-9"},
        ["ec2_host_distribution must be one of: debian-12, debian-13, ubuntu-24.04", "centos-9"],
    ),
    "missing-public-key": (
        {"ec2_host_public_key_path": "/nonexistent/id_ed25519.pub"},
        ['ec2_host_public_key_path="/nonexistent/id_ed25519.pub" is not a readable OpenSSH',
         "ec2_host_generate_key=true"],
    ),
    "bad-ami-id": (
        {"ec2_host_ami_id": "ami-XYZ"},
        ['ec2_host_ami_id="ami-XYZ" is not an AMI id'],
    ),
    # These two pass local validation and are refused by the API lookups before anything is made.
    "unknown-instance-type": (
        {"ec2_host_instance_type": "t3.mega"},
        ['ec2_host_instance_type="t3.mega" is not an instance type offered in eu-central-1',
         "Allowed:"],
    ),
    "instance-type-wrong-arch": (
        {"ec2_host_instance_type": "t4g.micro"},
        ['ec2_host_instance_type="t4g.micro" runs arm64, not ec2_host_architecture="x86_64"'],
    ),
}


@pytest.mark.parametrize(("extra", "fragments"), CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_and_nothing_is_created(aws, ansible, extra, fragments):
    run = ansible.playbook("provision", extra)
    assert run.rc != 0, run.out[-3000:]
    text = " ".join(run.out.split())  # messages are folded over lines
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in:\n{run.out[-3000:]}"
    assert aws.leftovers() == {}


def test_missing_credentials_are_refused_and_nothing_is_created(aws, ansible):
    run = ansible.playbook("provision", credentials=False)
    assert run.rc != 0, run.out[-3000:]
    text = " ".join(run.out.split())
    assert 'No usable AWS credentials for ec2_host_region="eu-central-1"' in text, run.out[-3000:]
    assert "Unable to locate credentials" in text
    assert aws.leftovers() == {}


def test_ssh_from_anywhere_with_opt_in_is_planned(aws, ansible):
    """The opt-in is honoured: --check plans the rule (and creates nothing)."""
    run = ansible.playbook(
        "provision",
        {"ec2_host_admin_cidrs": ["0.0.0.0/0"], "ec2_host_allow_ssh_from_anywhere": True},
        check=True,
    )
    assert run.rc == 0, run.out[-3000:]
    assert "tcp/22 from 0.0.0.0/0" in run.out
    assert aws.leftovers() == {}
