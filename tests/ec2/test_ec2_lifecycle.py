"""ec2_host against moto: create → inspect → rerun changed=0 → change a CIDR → repair → inventory
→ destroy → nothing left. The steps share one deployment and run in file order."""

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TAGS = {"Name": "dockhand-ci", "Project": "dockhand", "ManagedBy": "ansible/ec2_host",
        "Deployment": "ci"}


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def ingress(group):
    """The group's ingress as a set of (protocol, from, to, cidr)."""
    rules = set()
    for perm in group["IpPermissions"]:
        key = (perm["IpProtocol"], perm.get("FromPort"), perm.get("ToPort"))
        for cidr in perm.get("IpRanges", []):
            rules.add((*key, cidr["CidrIp"]))
        for cidr in perm.get("Ipv6Ranges", []):
            rules.add((*key, cidr["CidrIpv6"]))
        assert not perm.get("UserIdGroupPairs") and not perm.get("PrefixListIds")
    return rules


def plain(value):
    """ansible-inventory --list marks templated values as {"__ansible_unsafe": value}."""
    if isinstance(value, dict) and set(value) == {"__ansible_unsafe"}:
        return value["__ansible_unsafe"]
    return value


def expected_ingress(admin_cidrs, app_ports=(80, 443)):
    rules = {("tcp", 22, 22, cidr) for cidr in admin_cidrs}
    rules |= {("tcp", p, p, c) for p in app_ports for c in ("0.0.0.0/0", "::/0")}
    return rules


@pytest.fixture(scope="module")
def created(module_aws, module_ansible):
    """One deployment created from a clean account; later tests in this file build on it."""
    run = module_ansible.playbook("provision", label="create")
    assert run.rc == 0, run.out[-4000:]
    return module_aws, run


def test_create_reports_changes(created):
    _, run = created
    assert run.recap["failed"] == 0
    assert run.recap["changed"] >= 3  # key pair, security group, instance


def test_exactly_one_instance_hardened(created, newest_image):
    aws, _ = created
    instances = aws.instances()
    assert len(instances) == 1
    instance = instances[0]
    assert instance["State"]["Name"] == "running"
    assert instance["InstanceType"] == "t3.micro"
    assert instance["KeyName"] == "dockhand-ci"
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    assert instance["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert instance["MetadataOptions"]["HttpEndpoint"] == "enabled"
    assert instance.get("PublicIpAddress")
    assert tags(instance) == {**TAGS, "SshUser": "admin"}
    # The newest official Debian 12 amd64 image, not an older one, a backports build or an impostor.
    image = newest_image("debian-12", "x86_64")
    assert instance["ImageId"] == image["ami_id"]
    assert instance["RootDeviceName"] == image["root_device_name"] == "/dev/xvda"


def test_root_volume_encrypted_gp3(created):
    aws, _ = created
    instance = aws.instances()[0]
    [mapping] = instance["BlockDeviceMappings"]
    assert mapping["DeviceName"] == "/dev/xvda"
    assert mapping["Ebs"]["DeleteOnTermination"] is True
    [volume] = aws.ec2.describe_volumes(VolumeIds=[mapping["Ebs"]["VolumeId"]])["Volumes"]
    assert volume["Encrypted"] is True
    assert volume["VolumeType"] == "gp3"
    assert volume["Size"] == 16
    assert {k: v for k, v in tags(volume).items() if k != "SshUser"} == TAGS


def test_security_group_exactly_as_configured(created):
    aws, _ = created
    [group] = aws.security_groups()
    assert group["GroupName"] == "dockhand-ci"
    assert tags(group) == TAGS
    assert ingress(group) == expected_ingress(["203.0.113.0/24", "2001:db8:1234::/48"])
    ports = {rule[1] for rule in ingress(group)}
    assert not ports & {2375, 2376}
    instance = aws.instances()[0]
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [group["GroupId"]]


def test_key_pair_imported_and_tagged(created, home):
    aws, _ = created
    [key] = aws.key_pairs()
    assert key["KeyName"] == "dockhand-ci"
    assert key["KeyType"] == "ed25519"
    assert tags(key) == TAGS
    described = aws.ec2.describe_key_pairs(KeyNames=["dockhand-ci"], IncludePublicKey=True)
    public = (home / ".ssh" / "id_ed25519.pub").read_text().split()[1]
    assert public in described["KeyPairs"][0]["PublicKey"]


def test_rerun_changes_nothing(created, module_ansible):
    aws, _ = created
    run = module_ansible.playbook("provision", label="rerun")
    assert run.rc == 0, run.out[-4000:]
    assert run.recap["changed"] == 0, run.out[-4000:]
    assert len(aws.instances()) == 1


def test_changed_admin_cidr_repairs_exactly_that_rule(created, module_ansible):
    aws, _ = created
    [before] = aws.security_groups()
    new_cidrs = ["198.51.100.0/24", "2001:db8:1234::/48"]
    run = module_ansible.playbook("provision", {"ec2_host_admin_cidrs": new_cidrs},
                                  label="repair")
    assert run.rc == 0, run.out[-4000:]
    assert run.recap["changed"] == 1, run.out[-4000:]
    [after] = aws.security_groups()
    assert after["GroupId"] == before["GroupId"]
    assert ingress(before) - ingress(after) == {("tcp", 22, 22, "203.0.113.0/24")}
    assert ingress(after) - ingress(before) == {("tcp", 22, 22, "198.51.100.0/24")}
    assert ingress(after) == expected_ingress(new_cidrs)
    assert len(aws.instances()) == 1
    # and back, so later steps see the configured state again
    run = module_ansible.playbook("provision")
    assert run.rc == 0 and run.recap["changed"] == 1, run.out[-4000:]


def test_dynamic_inventory_lists_the_instance_in_its_tag_groups(created, module_ansible):
    aws, _ = created
    config = module_ansible.tmp_path / "test.aws_ec2.yml"
    shutil.copy(ROOT / "inventory" / "aws_ec2.yml", config)
    with config.open("a") as out:
        out.write(f"endpoint_url: {module_ansible.moto_url}\nregions: [{aws.region}]\n")
    run = module_ansible.inventory(config)
    assert run.rc == 0, run.out[-4000:]
    inventory = json.loads(run.stdout)
    for group in ("app_hosts", "project_dockhand", "deployment_ci"):
        assert inventory[group]["hosts"] == ["dockhand-ci"], group
    hostvars = {k: plain(v) for k, v in inventory["_meta"]["hostvars"]["dockhand-ci"].items()}
    instance = aws.instances()[0]
    assert hostvars["ansible_host"] == instance["PublicIpAddress"]
    assert hostvars["ansible_user"] == "admin"
    assert "StrictHostKeyChecking=accept-new" in hostvars["ansible_ssh_common_args"]


def test_generated_key_deployment_and_destroy_removes_only_its_own(created, module_ansible, home):
    """A second deployment with a generated key lives beside the first; destroying it leaves the
    first deployment untouched and removes the local private key."""
    aws, _ = created
    before = aws.leftovers()
    gen = {"ec2_host_deployment": "gen", "ec2_host_generate_key": True}
    run = module_ansible.playbook("provision", gen, label="create-generated-key")
    assert run.rc == 0, run.out[-4000:]
    private = home / ".ssh" / "dockhand-gen"
    assert private.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE KEY" not in run.out  # the secret is never printed
    public = (home / ".ssh" / "dockhand-gen.pub").read_text().split()[1]
    described = aws.ec2.describe_key_pairs(KeyNames=["dockhand-gen"], IncludePublicKey=True)
    assert public in described["KeyPairs"][0]["PublicKey"]
    assert tags(described["KeyPairs"][0])["Deployment"] == "gen"
    [instance] = [i for i in aws.instances() if tags(i)["Deployment"] == "gen"]
    assert instance["KeyName"] == "dockhand-gen"
    assert len(aws.instances()) == 2

    run = module_ansible.playbook("destroy", gen)
    assert run.rc == 0, run.out[-4000:]
    assert aws.leftovers() == before
    assert not private.exists()


def test_destroy_leaves_nothing(created, module_ansible):
    aws, _ = created
    [instance] = aws.instances()
    before = aws.leftovers()
    # --check shows what would go (instance, group, key) and removes nothing
    dry = module_ansible.playbook("destroy", check=True, label="destroy-check")
    assert dry.rc == 0 and dry.recap["changed"] == 3, dry.out[-4000:]
    assert aws.leftovers() == before
    run = module_ansible.playbook("destroy", label="destroy")
    assert run.rc == 0, run.out[-4000:]
    assert "nothing left" in run.out
    assert aws.leftovers() == {}
    terminated = [i["InstanceId"] for i in aws.instances(states=("terminated",))]
    assert instance["InstanceId"] in terminated  # terminated, as EC2 keeps it listed for a while
