#!/usr/bin/python
"""Look up one EC2 instance type (read-only) for the ec2_host role's input validation."""

import contextlib

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore


DOCUMENTATION = r"""
---
module: ec2_host_instance_type_info
short_description: Tell whether an EC2 instance type exists in a region and what it supports
description:
  - Calls C(DescribeInstanceTypes) for one instance type. Read-only; supports check mode.
  - amazon.aws has no module for this. The ec2_host role uses it so that an unknown instance
    type is refused before anything is created (otherwise the key pair and security group would
    already exist when RunInstances fails).
options:
  instance_type:
    description: The instance type, for example C(t3.micro).
    type: str
    required: true
author: dockhand
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Look up t3.micro
  ec2_host_instance_type_info:
    instance_type: t3.micro
    region: eu-central-1
  register: type_info
"""

RETURN = r"""
exists:
  description: Whether the region offers the instance type.
  returned: always
  type: bool
architectures:
  description: The processor architectures the type supports (C(x86_64), C(arm64), ...).
  returned: always
  type: list
  elements: str
"""


def main():
    module = AnsibleAWSModule(
        argument_spec={"instance_type": {"type": "str", "required": True}},
        supports_check_mode=True,
    )
    client = module.client("ec2")
    wanted = module.params["instance_type"]
    try:
        found = client.describe_instance_types(InstanceTypes=[wanted])["InstanceTypes"]
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "InvalidInstanceType":
            module.exit_json(changed=False, exists=False, architectures=[])
        module.fail_json_aws(exc, msg=f"Could not describe instance type {wanted}")
    except botocore.exceptions.BotoCoreError as exc:
        module.fail_json_aws(exc, msg=f"Could not describe instance type {wanted}")
    processor = found[0].get("ProcessorInfo", {}) if found else {}
    architectures = processor.get("SupportedArchitectures", [])
    module.exit_json(changed=False, exists=bool(found), architectures=architectures)


if __name__ == "__main__":
    main()
