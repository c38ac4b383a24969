"""The AWS half of the check (items 2-7): a deployment as ec2_host makes it has no finding;
each broken item gives a finding that names it."""

from __future__ import annotations

import pytest

from .conftest import AWS_OPTIONS, HOST, permission, the_one_finding


def findings(filters, raw, **options):
    return filters.aws_findings(raw, HOST, {**AWS_OPTIONS, **options})


def only(filters, raw, item, *words, **options):
    return the_one_finding(findings(filters, raw, **options), item, *words)


def rules(raw):
    return raw["security_groups"][0]["ip_permissions"]


def test_a_deployment_as_the_role_makes_it_has_no_finding(filters, aws_raw):
    assert findings(filters, aws_raw) == []


def test_a_missing_instance(filters, aws_raw):
    aws_raw["instance"] = {}
    only(filters, aws_raw, 2, "instance i-0123456789abcdef0 was not found")


# --- item 2: SSH only from the admins


@pytest.mark.parametrize("source", [["0.0.0.0/0"], ["198.51.100.0/24"], ["203.0.112.0/23"]])
def test_ssh_from_outside_the_admin_networks(filters, aws_raw, source):
    rules(aws_raw).append(permission(22, source))
    line = only(filters, aws_raw, 2, f"allows SSH (tcp/22) from {source[0]}",
                "not an admin network")
    assert line.startswith("§7.2 SSH ingress: security group sg-1 (dockhand-prod) ")


def test_ssh_from_ipv6_anywhere(filters, aws_raw):
    rules(aws_raw).append(permission(22, cidrs6=["::/0"]))
    only(filters, aws_raw, 2, "from ::/0")


def test_ssh_from_anywhere_with_the_opt_in(filters, aws_raw):
    rules(aws_raw).append(permission(22, ["0.0.0.0/0"], ["::/0"]))
    assert findings(filters, aws_raw, allow_ssh_from_anywhere=True) == []


def test_a_narrower_network_inside_an_admin_network_is_fine(filters, aws_raw):
    rules(aws_raw).append(permission(22, ["203.0.113.7/32"]))
    assert findings(filters, aws_raw) == []


def test_ssh_from_another_security_group(filters, aws_raw):
    rules(aws_raw).append(permission(22, groups=["sg-bastion"]))
    only(filters, aws_raw, 2, "from security group sg-bastion")


def test_ssh_on_a_custom_port(filters, aws_raw):
    rules(aws_raw)[2] = permission(2222, ["0.0.0.0/0"])
    found = findings(filters, aws_raw, ssh_port=2222)
    assert found == ["§7.2 SSH ingress: security group sg-1 (dockhand-prod) allows SSH (tcp/2222) "
                     "from 0.0.0.0/0, not an admin network (203.0.113.0/24, 2001:db8:1234::/48) "
                     "on web-1"]


# --- item 3: only the app's ports, never 2375/2376


@pytest.mark.parametrize(("port", "to_port"), [(2376, None), (2375, None), (2000, 3000)])
def test_docker_api_ports_open(filters, aws_raw, port, to_port):
    rules(aws_raw).append(permission(port, ["0.0.0.0/0"], to_port=to_port))
    line = only(filters, aws_raw, 3, "Docker API port", "to 0.0.0.0/0")
    assert line.startswith("§7.3 Docker API port: security group sg-1 (dockhand-prod) opens tcp/")


def test_the_exact_message_for_2376(filters, aws_raw):
    rules(aws_raw).append(permission(2376, ["0.0.0.0/0"]))
    assert findings(filters, aws_raw) == [
        "§7.3 Docker API port: security group sg-1 (dockhand-prod) opens tcp/2376 to 0.0.0.0/0 "
        "on web-1"]


def test_a_port_that_is_not_the_apps(filters, aws_raw):
    rules(aws_raw).append(permission(8080, ["10.0.0.0/8"]))
    only(filters, aws_raw, 3, "opens tcp/8080 to 10.0.0.0/8",
         "only the app's ports (80, 443) may be public")


def test_a_range_over_the_app_ports(filters, aws_raw):
    rules(aws_raw).append(permission(80, ["0.0.0.0/0"], to_port=90))
    only(filters, aws_raw, 3, "tcp/80-90", "port 81, 82, 83, 84, 85 and 5 more")


def test_all_traffic_from_anywhere_breaks_2_and_3(filters, aws_raw):
    rules(aws_raw).append({**permission(None, ["0.0.0.0/0"]), "ip_protocol": "-1"})
    found = findings(filters, aws_raw)
    assert [line[:4] for line in found] == ["§7.2", "§7.3"], found
    assert "allows SSH (all traffic) from 0.0.0.0/0" in found[0]
    assert "opens tcp/2375/2376 (rule: all traffic) to 0.0.0.0/0" in found[1]


def test_udp_is_never_an_app_port(filters, aws_raw):
    rules(aws_raw).append(permission(53, ["0.0.0.0/0"], protocol="udp"))
    only(filters, aws_raw, 3, "opens udp/53")


def test_icmp_is_not_a_port(filters, aws_raw):
    rules(aws_raw).append(permission(8, ["0.0.0.0/0"], protocol="icmp", to_port=-1))
    assert findings(filters, aws_raw) == []


def test_no_security_group_described(filters, aws_raw):
    aws_raw["security_groups"] = []
    only(filters, aws_raw, 3, "no security group could be described")


# --- item 4: IMDSv2, hop limit 1


def metadata(raw):
    return raw["instance"]["metadata_options"]


def test_imdsv1_allowed(filters, aws_raw):
    metadata(aws_raw)["http_tokens"] = "optional"
    only(filters, aws_raw, 4, "allows IMDSv1 (http_tokens 'optional', not 'required')")


def test_hop_limit_above_1(filters, aws_raw):
    metadata(aws_raw)["http_put_response_hop_limit"] = 2
    only(filters, aws_raw, 4, "hop limit of 2, not 1")


def test_metadata_endpoint_off_is_fine(filters, aws_raw):
    aws_raw["instance"]["metadata_options"] = {"http_endpoint": "disabled",
                                               "http_tokens": "optional"}
    assert findings(filters, aws_raw) == []


# --- item 5: root volume


def test_root_volume_unencrypted(filters, aws_raw):
    aws_raw["volumes"][0]["encrypted"] = False
    only(filters, aws_raw, 5, "vol-root of instance i-0123456789abcdef0 is not encrypted")


def test_root_volume_gp2(filters, aws_raw):
    aws_raw["volumes"][0]["type"] = "gp2"
    only(filters, aws_raw, 5, "is 'gp2', not gp3")


def test_root_volume_kept_on_termination(filters, aws_raw):
    aws_raw["instance"]["block_device_mappings"][0]["ebs"]["delete_on_termination"] = False
    only(filters, aws_raw, 5, "kept when the instance terminates")


def test_root_volume_not_described(filters, aws_raw):
    aws_raw["volumes"] = []
    only(filters, aws_raw, 5, "cannot be described")


def test_no_ebs_root_volume(filters, aws_raw):
    aws_raw["instance"]["root_device_name"] = "/dev/sda1"
    only(filters, aws_raw, 5, "has no EBS root volume at /dev/sda1")


# --- item 6: tags


@pytest.mark.parametrize(("where", "label"), [
    (lambda raw: raw["instance"]["tags"], "instance i-0123456789abcdef0"),
    (lambda raw: raw["security_groups"][0]["tags"], "security group sg-1"),
    (lambda raw: raw["volumes"][0]["tags"], "volume vol-root"),
    (lambda raw: raw["key_pairs"][0]["tags"], "key pair dockhand-prod"),
])
def test_a_resource_without_its_tags(filters, aws_raw, where, label):
    del where(aws_raw)["ManagedBy"]
    only(filters, aws_raw, 6, f"{label} lacks ManagedBy")


def test_a_resource_of_another_deployment(filters, aws_raw):
    aws_raw["volumes"][0]["tags"]["Deployment"] = "staging"
    only(filters, aws_raw, 6, "volume vol-root is tagged Deployment='staging' (expected 'prod')")


def test_without_expected_values_the_instance_sets_them(filters, aws_raw):
    aws_raw["instance"]["tags"]["Deployment"] = "staging"
    found = findings(filters, aws_raw, expected_tags={})
    assert len(found) == 3, found  # the group, the volume and the key pair differ from it
    assert all("Deployment='prod' (expected 'staging')" in line for line in found)


def test_key_pair_not_found(filters, aws_raw):
    aws_raw["key_pairs"] = []
    only(filters, aws_raw, 6, "key pair dockhand-prod cannot be described")


# --- item 7: official image


def test_an_image_of_another_owner(filters, aws_raw):
    aws_raw["images"][0]["owner_id"] = "111122223333"
    only(filters, aws_raw, 7, "is owned by 111122223333, not debian's 136693071363")


def test_an_image_of_the_wrong_publisher_for_the_distribution(filters, aws_raw):
    aws_raw["images"][0]["owner_id"] = "099720109477"
    only(filters, aws_raw, 7, "not debian's 136693071363")


def test_any_official_publisher_without_a_distribution(filters, aws_raw):
    aws_raw["images"][0]["owner_id"] = "099720109477"
    assert findings(filters, aws_raw, distribution="") == []
    aws_raw["images"][0]["owner_id"] = "111122223333"
    only(filters, aws_raw, 7,
         "not an official publisher (debian 136693071363, ubuntu 099720109477)", distribution="")


def test_an_image_that_cannot_be_described(filters, aws_raw):
    aws_raw["images"] = []
    only(filters, aws_raw, 7, "image ami-0debian13 cannot be described")


def test_narrowing_the_items(filters, aws_raw):
    metadata(aws_raw)["http_tokens"] = "optional"
    aws_raw["volumes"][0]["encrypted"] = False
    rules(aws_raw).append(permission(2376, ["0.0.0.0/0"]))
    assert len(findings(filters, aws_raw)) == 3
    assert [line[:4] for line in findings(filters, aws_raw, items=[4])] == ["§7.4"]
    assert findings(filters, aws_raw, items=[6, 7]) == []


def test_ports_given_as_strings(filters, aws_raw):
    # inventory/group_vars/all.yml writes ec2_host_app_ports: ["{{ flask_app_port }}"]
    assert findings(filters, aws_raw, app_ports=["80", "443"], ssh_port="22") == []
