#!/usr/bin/python
"""Describe EBS volumes by id (read-only) for the security_check role."""

import contextlib

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore


DOCUMENTATION = r"""
---
module: security_check_volume_info
short_description: Encryption, type and tags of EBS volumes, by id
description:
  - Calls C(DescribeVolumes) for the given volume ids. Read-only; supports check mode.
  - amazon.aws's C(ec2_vol_info) fails with C(KeyError 'snapshot_id') on a volume described
    without a C(SnapshotId) (an emulator's root volume, for one); this module reads only what the
    check needs.
options:
  volume_ids:
    description: The volume ids. An empty list returns no volumes.
    type: list
    elements: str
    required: true
author: dockhand
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Describe the root volume
  security_check_volume_info:
    volume_ids: [vol-0123456789abcdef0]
    region: eu-central-1
  register: volumes
"""

RETURN = r"""
volumes:
  description: One entry per volume found.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The volume id.
      type: str
    encrypted:
      description: Whether the volume is encrypted.
      type: bool
    type:
      description: The volume type (gp3, gp2, io1, ...).
      type: str
    tags:
      description: The volume's tags as a dict.
      type: dict
"""


def main():
    module = AnsibleAWSModule(
        argument_spec={"volume_ids": {"type": "list", "elements": "str", "required": True}},
        supports_check_mode=True,
    )
    wanted = module.params["volume_ids"]
    if not wanted:
        module.exit_json(changed=False, volumes=[])
    client = module.client("ec2")
    try:
        found = client.describe_volumes(VolumeIds=wanted)["Volumes"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg=f"Could not describe volumes {', '.join(wanted)}")
    volumes = [
        {
            "id": volume["VolumeId"],
            "encrypted": bool(volume.get("Encrypted")),
            "type": volume.get("VolumeType", ""),
            "tags": {tag["Key"]: tag["Value"] for tag in volume.get("Tags", [])},
        }
        for volume in found
    ]
    module.exit_json(changed=False, volumes=volumes)


if __name__ == "__main__":
    main()
