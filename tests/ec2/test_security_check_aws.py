"""The AWS half of the post-deploy security check (roles/security_check, items 2-7) against moto:
a deployment made by ec2_host passes; broken on purpose through boto3, the run fails and names
every broken item at once. The standalone playbook finds the instance by its tags (app_hosts is
empty in the project inventory); the host half is off, the emulated instance is not a machine.
The steps share one deployment and run in file order."""

import re

import pytest

AWS_ONLY = {"security_check_host": False}
LINE = re.compile(r"§7\.\d+ [a-zA-Z ]+: .+? on dockhand-ci")


def findings(run):
    """The distinct finding lines in a run's output."""
    return sorted(set(LINE.findall(run.out)))


def items(run):
    """The §7 items the findings name."""
    return sorted({int(line[3 : line.index(" ")]) for line in findings(run)})


@pytest.fixture(scope="module")
def deployed(module_aws, module_ansible):
    """One deployment made by ec2_host; the tests below check it, break it and check again."""
    run = module_ansible.playbook("provision", label="create for the security check")
    assert run.rc == 0, run.out[-4000:]
    instance = module_aws.instances()[0]
    return module_aws, module_ansible, instance


def test_nothing_to_check_without_a_deployment(deployed):
    _, ansible, _ = deployed
    run = ansible.playbook("security_check", {**AWS_ONLY, "ec2_host_deployment": "absent"})
    assert run.rc != 0
    assert "Nothing to check: app_hosts is empty and no running instance is tagged " \
           "Project=dockhand, Deployment=absent" in run.out


def test_a_fresh_deployment_passes(deployed):
    _, ansible, instance = deployed
    run = ansible.playbook("security_check", AWS_ONLY, label="security check (AWS part)")
    assert run.rc == 0, run.out[-4000:]
    assert f"No violation of GUIDE §7 items 2, 3, 4, 5, 6, 7 (AWS {instance['InstanceId']})" \
        in run.out
    assert "§7." not in run.out.replace("GUIDE §7 items", "")


def test_the_check_changes_nothing_and_runs_in_check_mode(deployed):
    _, ansible, _ = deployed
    run = ansible.playbook("security_check", AWS_ONLY, check=True)
    assert run.rc == 0, run.out[-4000:]
    recap = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", run.out, re.MULTILINE)
    assert {host for host, _ in recap} == {"localhost", "dockhand-ci"}
    assert all(changed == "0" for _, changed in recap), recap
    assert "No violation of GUIDE §7 items 2, 3, 4, 5, 6, 7" in run.out


def test_every_broken_item_is_named(deployed):
    aws, ansible, instance = deployed
    ec2, instance_id = aws.ec2, instance["InstanceId"]
    group_id = instance["SecurityGroups"][0]["GroupId"]
    volume_id = instance["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    key_id = aws.key_pairs()[0]["KeyPairId"]
    # 2 and 3: SSH and the Docker API open to the world.
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 2376, "ToPort": 2376,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    ])
    # 4: IMDSv1 allowed, and reachable from containers.
    ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpTokens="optional",
                                         HttpPutResponseHopLimit=2)
    # 5: the root volume outlives the instance and is gp2.
    ec2.modify_instance_attribute(InstanceId=instance_id, BlockDeviceMappings=[
        {"DeviceName": instance["RootDeviceName"], "Ebs": {"DeleteOnTermination": False}}])
    ec2.modify_volume(VolumeId=volume_id, VolumeType="gp2")
    # 6: the volume and the key pair lose a tag.
    ec2.delete_tags(Resources=[volume_id, key_id], Tags=[{"Key": "ManagedBy"}])

    # 7: the image's publisher is Debian's, not the one the distribution names.
    run = ansible.playbook("security_check", {**AWS_ONLY, "ec2_host_distribution": "ubuntu-24.04"},
                           label="security check (AWS part, broken)")
    assert run.rc != 0
    lines = findings(run)
    expected = [
        f"§7.2 SSH ingress: security group {group_id} (dockhand-ci) allows SSH (tcp/22) from "
        "0.0.0.0/0, not an admin network (203.0.113.0/24, 2001:db8:1234::/48) on dockhand-ci",
        f"§7.3 Docker API port: security group {group_id} (dockhand-ci) opens tcp/2376 to "
        "0.0.0.0/0 on dockhand-ci",
        f"§7.4 instance metadata: instance {instance_id} allows IMDSv1 (http_tokens 'optional', "
        "not 'required') on dockhand-ci",
        f"§7.4 instance metadata: instance {instance_id} has a metadata hop limit of 2, not 1 "
        "(containers could reach the instance's credentials) on dockhand-ci",
        f"§7.5 root volume: {volume_id} of instance {instance_id} is kept when the instance "
        "terminates (DeleteOnTermination false) on dockhand-ci",
        f"§7.5 root volume: {volume_id} of instance {instance_id} is 'gp2', not gp3 on dockhand-ci",
        f"§7.6 tags: volume {volume_id} lacks ManagedBy on dockhand-ci",
        "§7.6 tags: key pair dockhand-ci lacks ManagedBy on dockhand-ci",
    ]
    for line in expected:
        assert line in lines, (line, lines)
    assert items(run) == [2, 3, 4, 5, 6, 7], lines
    assert re.search(r"§7\.7 official image: image ami-\w+ \(debian-12-amd64-[^)]+\) is owned by "
                     r"136693071363, not ubuntu's 099720109477 on dockhand-ci", run.out)
    assert "9 violation(s) of the security floor (GUIDE §7)" in run.out


def test_narrowed_items_ignore_the_others(deployed):
    _, ansible, _ = deployed
    run = ansible.playbook("security_check", {**AWS_ONLY, "security_check_items": [4]})
    assert run.rc != 0
    assert items(run) == [4]
    assert "2 violation(s)" in run.out


def test_restored_it_passes_again(deployed):
    aws, ansible, instance = deployed
    ec2, instance_id = aws.ec2, instance["InstanceId"]
    group_id = instance["SecurityGroups"][0]["GroupId"]
    volume_id = instance["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]} for port in (22, 2376)])
    ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpTokens="required",
                                         HttpPutResponseHopLimit=1)
    ec2.modify_instance_attribute(InstanceId=instance_id, BlockDeviceMappings=[
        {"DeviceName": instance["RootDeviceName"], "Ebs": {"DeleteOnTermination": True}}])
    ec2.modify_volume(VolumeId=volume_id, VolumeType="gp3")
    ec2.create_tags(Resources=[volume_id, aws.key_pairs()[0]["KeyPairId"]],
                    Tags=[{"Key": "ManagedBy", "Value": "ansible/ec2_host"}])
    run = ansible.playbook("security_check", AWS_ONLY)
    assert run.rc == 0, run.out[-4000:]
    assert "No violation of GUIDE §7 items 2, 3, 4, 5, 6, 7" in run.out
