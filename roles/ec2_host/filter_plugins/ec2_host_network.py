"""Strict network checks for the ec2_host role.

amazon.aws silently rewrites a CIDR with host bits (10.0.0.5/24 becomes 10.0.0.0/24), so the
role refuses anything that is not already a network written in its canonical form.
"""

import ipaddress


def cidr_problem(value):
    """Return '' when value is a canonical IPv4/IPv6 network, else why it is not."""
    text = str(value)
    if "/" not in text:
        return "has no prefix length (write e.g. 203.0.113.7/32 for a single address)"
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        return f"is not an IPv4 or IPv6 network ({exc})"
    if network.network_address != ipaddress.ip_interface(text).ip:
        host = ipaddress.ip_interface(text).ip
        single = f"{host}/{network.max_prefixlen}"
        return f"has host bits set (did you mean {network} or {single}?)"
    if str(network) != text:
        return f"is not in canonical form (write {network})"
    return ""


def cidr_is_anywhere(value):
    """True for 0.0.0.0/0 and ::/0 (any network with prefix length 0)."""
    try:
        return ipaddress.ip_network(str(value), strict=False).prefixlen == 0
    except ValueError:
        return False


def cidr_is_ipv6(value):
    """True when value is an IPv6 network."""
    return ipaddress.ip_network(str(value), strict=False).version == 6


class FilterModule:
    """Filters used by roles/ec2_host/tasks/validate.yml and security_group.yml."""

    def filters(self):
        return {
            "ec2_host_cidr_problem": cidr_problem,
            "ec2_host_cidr_is_anywhere": cidr_is_anywhere,
            "ec2_host_cidr_is_ipv6": cidr_is_ipv6,
        }
