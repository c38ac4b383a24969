#!/usr/bin/python
"""Read the process trees under given pids from /proc (read-only)."""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: security_check_processes
short_description: The process trees under given pids, read from /proc
description:
  - For each pid, the process itself and all its descendants with their real uid and command
    line, read from C(/proc) on the host. Used by the security_check role to see what runs in a
    container (the container's main pid from C(docker inspect)).
  - Unlike C(docker top), it needs no C(ps) on the host (minimal images have no procps).
  - Read-only; supports check mode.
options:
  pids:
    description:
      - Root pids (for example C(State.Pid) of containers). Unknown pids give an empty list.
    type: list
    elements: int
    required: true
  proc:
    description: Where procfs is mounted.
    type: path
    default: /proc
author: dockhand
"""

EXAMPLES = r"""
- name: Read the processes of a container
  security_check_processes:
    pids: [4242]
  register: procs
"""

RETURN = r"""
processes:
  description: Root pid (as a string) to the list of processes in its tree, the root first.
  returned: always
  type: dict
  sample: {"4242": [{"pid": 4242, "ppid": 4220, "uid": 10001, "cmdline": ["gunicorn", "wsgi:app"]}]}
"""

def _read(path, mode="r"):
    try:
        with open(path, mode) as handle:
            return handle.read()
    except OSError:
        return None


def read_process(proc, pid):
    """{pid, ppid, uid, cmdline} of one process, or None when it is gone."""
    stat = _read(os.path.join(proc, str(pid), "stat"))
    status = _read(os.path.join(proc, str(pid), "status"))
    cmdline = _read(os.path.join(proc, str(pid), "cmdline"), "rb")
    if stat is None or status is None:
        return None
    # The command name in parentheses may contain spaces and ')': the fields follow the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    uid = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("Uid:")),
               None)
    words = (cmdline or b"").rstrip(b"\0").split(b"\0") if cmdline else []
    return {"pid": pid, "ppid": int(fields[1]), "uid": uid,
            "cmdline": [word.decode("utf-8", "replace") for word in words]}


def process_trees(proc, roots):
    processes = {}
    for name in os.listdir(proc):
        if name.isdigit():
            found = read_process(proc, int(name))
            if found:
                processes[found["pid"]] = found
    children = {}
    for found in processes.values():
        children.setdefault(found["ppid"], []).append(found["pid"])
    trees = {}
    for root in roots:
        tree, queue = [], [root] if root in processes else []
        while queue:
            pid = queue.pop(0)
            tree.append(processes[pid])
            queue.extend(sorted(children.get(pid, [])))
        trees[str(root)] = tree
    return trees


def main():
    module = AnsibleModule(
        argument_spec={
            "pids": {"type": "list", "elements": "int", "required": True},
            "proc": {"type": "path", "default": "/proc"},
        },
        supports_check_mode=True,
    )
    module.exit_json(changed=False,
                     processes=process_trees(module.params["proc"], module.params["pids"]))


if __name__ == "__main__":
    main()
