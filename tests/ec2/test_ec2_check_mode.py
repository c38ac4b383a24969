"""--check on a fresh account shows the plan, runs to the end and creates nothing."""

import re

import pytest


@pytest.mark.parametrize(
    "case",
    [
        ("debian-13", "x86_64", "t3.small", "/dev/xvda"),
        ("ubuntu-24.04", "arm64", "t4g.small", "/dev/sda1"),
    ],
    ids=["debian-13-x86_64", "ubuntu-24.04-arm64"],
)
def test_check_mode_plans_and_creates_nothing(aws, ansible, newest_image, case):
    distribution, architecture, instance_type, root_device = case
    run = ansible.playbook(
        "provision",
        {
            "ec2_host_distribution": distribution,
            "ec2_host_architecture": architecture,
            "ec2_host_instance_type": instance_type,
            "ec2_host_generate_key": True,
        },
        check=True,
        label=f"check-{distribution}",
    )
    assert run.rc == 0, run.out[-4000:]
    assert run.recap["failed"] == 0
    image = newest_image(distribution, architecture)
    planned = re.search(r'"image": "(ami-[0-9a-f]+) ([^ ]+) ', run.out)
    assert planned, run.out[-4000:]
    assert planned.groups() == (image["ami_id"], image["name"])
    assert f'"root_volume": "{root_device} 16 GiB gp3, encrypted' in run.out
    assert "Would launch one" in run.out
    assert "tcp/22 from 203.0.113.0/24" in run.out
    assert aws.leftovers() == {}
    # the key that would be generated was not written either
    assert not (ansible.home / ".ssh" / "dockhand-ci").exists()
