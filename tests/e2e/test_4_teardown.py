"""Teardown: destroy.yml removes every emulated resource tagged with the deployment, and the
demo teardown leaves no container and no emulator. Runs last (file order)."""

import socket
import subprocess

import pytest


def test_destroy_and_teardown_leave_nothing(deployed):
    ec2 = deployed.ec2()
    tagged = [{"Name": "tag:Deployment", "Values": ["e2e"]}]

    destroy = deployed.play("playbooks/destroy.yml")
    assert destroy.returncode == 0, destroy.stdout[-5000:]
    running = [
        instance for reservation in ec2.describe_instances(Filters=tagged)["Reservations"]
        for instance in reservation["Instances"] if instance["State"]["Name"] != "terminated"
    ]
    assert running == []
    assert ec2.describe_security_groups(Filters=tagged)["SecurityGroups"] == []
    assert ec2.describe_key_pairs(Filters=tagged)["KeyPairs"] == []
    assert ec2.describe_volumes(Filters=tagged)["Volumes"] == []

    down = deployed.play("playbooks/demo/down.yml")
    assert down.returncode == 0, down.stdout[-5000:]
    deployed.torn_down = True
    gone = subprocess.run(["docker", "container", "inspect", deployed.container],
                          check=False, capture_output=True)
    assert gone.returncode != 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", deployed.settings["demo_moto_port"]), timeout=2)
