#!/usr/bin/python
"""Ansible module compose_policy: a security policy gate for Compose files."""

from __future__ import annotations

import json
import os
import posixpath
import re
import traceback

from ansible.module_utils.basic import AnsibleModule

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with every ansible controller
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    YAML_IMPORT_ERROR = None

DOCUMENTATION = r"""
---
module: compose_policy
short_description: Refuse a Compose file that breaks the container security floor
description:
  - Reads a Compose file (O(path)) or an inline Compose definition (O(definition)), evaluates every
    service against the rules below and reports each finding with its rule id, service, severity,
    a message and a one-line fix.
  - Fails when any finding that is not waived has a severity at or above O(fail_on). Waived findings
    are reported in RV(waived), never dropped.
  - Read-only; it never changes anything, so it runs the same in check mode and always returns
    C(changed=false).
  - Values are interpolated the way Compose does before they are evaluated, so
    C("${APP_PUBLISHED_PORT:-80}:8000") is judged as C("80:8000"). C($$) is a literal C($);
    C(${VAR}) and C($VAR) take the value from O(variables), then from O(env_file), else empty;
    C(${VAR:-default}) and C(${VAR-default}) use the default when unset (or empty, for C(:-));
    C(${VAR:+alt}) and C(${VAR+alt}) are supported; C(${VAR:?message}) and C(${VAR?message})
    fail the task when the variable is missing, as Compose would refuse to start. The environment
    of the process running the module is not read, so a result is the same on the controller and
    on a target.
  - "Rules, as C(id) (default severity): what they flag. Severities are fixed per rule except where
    noted; waive by id."
  - "V(privileged) (critical): C(privileged: true)."
  - "V(host_network) (high), V(host_pid) (critical), V(host_ipc) (high): C(network_mode), C(pid) or
    C(ipc) is C(host)."
  - "V(docker_socket_mount) (critical): a bind mount of a container runtime socket (any
    C(docker.sock), C(containerd.sock), C(podman.sock)) or of a directory holding one (C(/run),
    C(/var/run), C(/run/docker), C(/run/containerd), C(/run/podman)), also through a file-based
    secret or config. Read-only does not help: the API stays usable."
  - "V(sensitive_mount) (critical when writable, high when read-only): a bind mount of C(/),
    C(/etc), C(/root), C(/home), C(/usr), C(/lib), C(/bin), C(/sbin), C(/var), C(/dev); of anything
    under C(/root), C(/boot), C(/proc), C(/sys), C(/var/lib/docker), C(/etc/shadow),
    C(/etc/gshadow), C(/etc/sudoers), C(/etc/sudoers.d), C(/etc/ssh) (host keys), C(/etc/docker)
    (daemon TLS keys); or a writable mount of anything under C(/etc) (read-only files such as
    C(/etc/localtime) are fine). Short and long volume syntax, C(~) read as C(/root) (deploys run
    Compose as root), relative sources resolved against the project directory, named volumes whose
    top-level C(driver_opts) bind a host C(device), and file-based C(secrets) and C(configs)
    (mounted read-only)."
  - "V(cap_add) (high; critical for C(ALL), C(SYS_ADMIN), C(SYS_MODULE)): a capability added outside
    O(allowed_capabilities)."
  - "V(cap_drop_all) (high): C(cap_drop) does not contain C(ALL)."
  - "V(no_new_privileges) (high): C(security_opt) lacks C(no-new-privileges:true)."
  - "V(unconfined_profile) (high): C(security_opt) turns off confinement: C(seccomp:unconfined),
    C(apparmor:unconfined), C(label:disable) or C(systempaths=unconfined)."
  - "V(root_user) (high): C(user) is missing, empty, C(root) or uid 0. The image's C(USER) cannot be
    seen from the Compose file, so a service must say who it runs as."
  - "V(no_healthcheck) (medium): no C(healthcheck), or one with C(disable: true) or test C(NONE).
    An image C(HEALTHCHECK) cannot be seen from the Compose file, so a service must declare it."
  - "V(no_restart) (medium): C(restart) missing or C(no), and no C(deploy.restart_policy)."
  - "V(no_memory_limit) (high): neither C(mem_limit) nor C(deploy.resources.limits.memory)."
  - "V(no_pids_limit) (high): neither C(pids_limit) nor C(deploy.resources.limits.pids)."
  - "V(writable_rootfs) (high): C(read_only) is not true."
  - "V(admin_port) (high; critical for the Docker API and swarm ports 2375, 2376, 2377; low when the
    host side is bound to loopback only): a published host port, or range, covering one of
    O(admin_ports). Short and long port syntax, ranges and host-ip prefixes (IPv6 in brackets). A
    port entry that cannot be read is high: it cannot be proved safe."
  - "V(image_tag) (medium): an image tagged C(:latest) or untagged (a digest C(@sha256:...) is
    fine), or a service with neither image nor build. A service with only C(build) and no C(image)
    is info: it runs what was built from the shipped context, but its releases have no name."
  - Limits. C(extends) and C(include) are not followed; a service is judged on its own entry, so
    settings it would inherit through them count as missing (the gate fails closed). Variables come
    only from O(variables) and O(env_file).
options:
  path:
    description:
      - A Compose file on the host where the module runs. Relative bind-mount sources are resolved
        against its directory.
      - Exactly one of O(path) and O(definition) is required.
    type: path
  definition:
    description:
      - An inline Compose definition (the parsed YAML), for example
        C("{{ lookup('ansible.builtin.file', 'compose.yaml') | from_yaml }}").
      - Quote port strings such as C("22:22") in playbooks; YAML 1.1 reads them as base-60 numbers.
        Files read through O(path) are parsed with YAML 1.2 scalars, as Compose does.
    type: dict
  project_dir:
    description:
      - Directory that relative bind-mount sources are resolved against.
      - Defaults to the directory of O(path); with O(definition) and no O(project_dir) relative
        sources are left relative and cannot match a sensitive host path.
    type: path
  variables:
    description:
      - Values for interpolation of C(${VAR}) expressions. They take precedence over O(env_file).
      - Pass what the deployment will set in Compose's environment, so the gate judges what runs.
        Numbers become their text, booleans C(true)/C(false), null an empty string.
    type: dict
    default: {}
  env_file:
    description:
      - A C(KEY=VALUE) file read for interpolation, like Compose's C(.env).
      - When omitted and O(path) is used, C(.env) beside the Compose file is read if it exists, as
        Compose does.
    type: path
  fail_on:
    description:
      - Fail when any finding that is not waived has this severity or a higher one.
    type: str
    choices: [info, low, medium, high, critical]
    default: high
  waivers:
    description:
      - Accepted findings, as C(rule_id) (every service) or C(rule_id@service) (one service) mapped
        to the reason it is accepted.
      - A waiver without a reason, or naming an unknown rule, is an error. Waived findings are
        returned in RV(waived) with their reason; waivers that matched nothing are returned in
        RV(unused_waivers) and warned about.
    type: dict
    default: {}
  allowed_capabilities:
    description:
      - Capabilities a service may add with C(cap_add), with or without the C(CAP_) prefix.
      - "The default allows only C(NET_BIND_SERVICE): with C(cap_drop: [ALL]) and a non-root user a
        service needs nothing else, except to bind a port below 1024. C(CHOWN), C(SETUID) and
        C(SETGID) serve entrypoints that start as root and drop privileges, which V(root_user)
        already refuses; add them here for a deployment that needs them."
    type: list
    elements: str
    default: [NET_BIND_SERVICE]
  admin_ports:
    description:
      - Host ports that must never be published. The default covers remote administration and
        cluster control planes; C(22) SSH, C(23) telnet, C(2375)/C(2376) Docker API, C(2377) swarm
        management, C(2379)/C(2380) etcd, C(3389) RDP, C(5900) VNC, C(5985)/C(5986) WinRM, C(6443)
        Kubernetes API, C(10250) kubelet.
    type: list
    elements: int
    default: [22, 23, 2375, 2376, 2377, 2379, 2380, 3389, 5900, 5985, 5986, 6443, 10250]
attributes:
  check_mode:
    support: full
    description: Read-only; behaves the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
author:
  - dockhand developers
requirements:
  - PyYAML on the host running the module when O(path) is YAML (every Ansible controller has it;
    a JSON file needs nothing).
"""

EXAMPLES = r"""
- name: Refuse to ship a compose file that breaks the security floor
  compose_policy:
    path: /srv/app/compose.yaml
    variables:
      APP_PUBLISHED_PORT: "80"
  delegate_to: localhost

- name: Gate an inline definition, failing on medium findings, with one reasoned waiver
  compose_policy:
    definition:
      services:
        proxy:
          image: "nginx:1.27"
          ports: ["443:8443"]
    fail_on: medium
    waivers:
      no_healthcheck@proxy: "the image's HEALTHCHECK is checked by the post-deploy verify"
  register: policy

- name: Show what the gate found
  ansible.builtin.debug:
    var: policy.counts
"""

RETURN = r"""
findings:
  description: Findings that are not waived, in service then rule order.
  returned: success and failure
  type: list
  elements: dict
  contains:
    rule:
      description: Rule id (see the module description).
      type: str
      sample: privileged
    service:
      description: The Compose service.
      type: str
      sample: web
    severity:
      description: One of info, low, medium, high, critical.
      type: str
      sample: critical
    message:
      description: What is wrong.
      type: str
      sample: "runs privileged: every capability and every host device"
    fix:
      description: A one-line fix.
      type: str
      sample: "remove privileged: true; add only the capabilities it needs with cap_add"
waived:
  description: Findings matched by a waiver, each with the O(waivers) key and its reason.
  returned: success and failure
  type: list
  elements: dict
  sample: [{"rule": "no_healthcheck", "service": "proxy", "severity": "medium",
            "message": "...", "fix": "...", "waiver": "no_healthcheck@proxy",
            "reason": "checked by the post-deploy verify"}]
counts:
  description: Number of findings that are not waived, by severity (every severity present).
  returned: success and failure
  type: dict
  sample: {"info": 0, "low": 0, "medium": 1, "high": 0, "critical": 0}
failed_reasons:
  description:
    - One line per finding at or above O(fail_on); empty when the gate passes.
    - Named so because C(failed) is reserved by Ansible for the task status.
  returned: success and failure
  type: list
  elements: str
  sample: ["web: privileged (critical): runs privileged: every capability and every host device"]
unused_waivers:
  description: Keys of O(waivers) that matched no finding (stale waivers).
  returned: success and failure
  type: list
  elements: str
  sample: []
services:
  description: The services evaluated.
  returned: success and failure
  type: list
  elements: str
  sample: [web]
"""

SEVERITIES = ("info", "low", "medium", "high", "critical")
RANK = {name: index for index, name in enumerate(SEVERITIES)}

RULES = (
    "privileged",
    "host_network",
    "host_pid",
    "host_ipc",
    "docker_socket_mount",
    "sensitive_mount",
    "cap_add",
    "cap_drop_all",
    "no_new_privileges",
    "unconfined_profile",
    "root_user",
    "no_healthcheck",
    "no_restart",
    "no_memory_limit",
    "no_pids_limit",
    "writable_rootfs",
    "admin_port",
    "image_tag",
)

DOCKER_API_PORTS = frozenset({2375, 2376, 2377})
CRITICAL_CAPS = frozenset({"ALL", "SYS_ADMIN", "SYS_MODULE"})
RUNTIME_SOCKETS = frozenset({"docker.sock", "containerd.sock", "podman.sock"})
SOCKET_DIRS = frozenset(
    {"/run", "/var/run", "/run/docker", "/var/run/docker", "/run/containerd",
     "/var/run/containerd", "/run/podman", "/var/run/podman"}
)
SENSITIVE_EXACT = frozenset(
    {"/", "/etc", "/root", "/home", "/usr", "/lib", "/bin", "/sbin", "/var", "/dev"}
)
SENSITIVE_TREES = (
    "/root", "/boot", "/proc", "/sys", "/var/lib/docker",
    "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d", "/etc/ssh", "/etc/docker",
)
TRUE_STRINGS = frozenset({"true", "1", "t", "yes", "on"})


class PolicyError(Exception):
    """An input the policy cannot evaluate; the message names the cause."""


# --- parsing -------------------------------------------------------------------------------------

if yaml is not None:

    class ComposeLoader(yaml.SafeLoader):
        """SafeLoader with YAML 1.2 core scalars, as Compose reads files.

        YAML 1.1 would read 22:22 as the base-60 number 1342 and `no` as false.
        """

    ComposeLoader.yaml_implicit_resolvers = {
        first: [
            (tag, regexp)
            for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                           "tag:yaml.org,2002:float")
        ]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    ComposeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    ComposeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
        list("-+0123456789"),
    )
    ComposeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )

    def _construct_int(loader, node):
        text = loader.construct_scalar(node)
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text, 10)

    ComposeLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def parse_compose_text(text, source="compose file"):
    """Parse Compose YAML (or JSON when PyYAML is missing) into a dict."""
    if yaml is None:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PolicyError(
                f"{source} is not JSON, and PyYAML is not installed here to read YAML ({exc}); "
                "install python3-yaml on this host, run the module on the controller "
                "(delegate_to: localhost), or pass the parsed file as definition"
            ) from exc
    else:
        try:
            data = yaml.load(text, Loader=ComposeLoader)  # a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise PolicyError(f"{source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{source} is not a Compose mapping (top level is {type(data).__name__})")
    return data


def parse_env_file(text):
    """Read KEY=VALUE lines as Compose's .env: comments, blank lines, `export`, quotes."""
    values = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].strip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        quote = value[:1]
        if quote in ("'", '"') and value.find(quote, 1) > 0:
            value = value[1 : value.find(quote, 1)]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


# --- interpolation -------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", re.DOTALL)


def _closing_brace(text, start):
    """Index just past the `}` that closes the `${` whose body starts at `start`."""
    depth = 1
    index = start
    while index < len(text):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise PolicyError(f"unclosed '${{' in {text!r}")


def _expand_braced(body, variables):
    match = _BRACED.fullmatch(body)
    if not match:
        raise PolicyError(f"invalid interpolation format '${{{body}}}'")
    name, operator, argument = match.groups()
    is_set = name in variables
    value = variables.get(name, "")
    if operator is None:
        return value
    present = is_set and (value != "" or not operator.startswith(":"))
    kind = operator[-1]
    if kind == "-":
        return value if present else interpolate_string(argument, variables)
    if kind == "+":
        return interpolate_string(argument, variables) if present else ""
    if not present:  # kind == "?"
        detail = interpolate_string(argument, variables) or "required"
        raise PolicyError(f"required variable {name} is missing a value: {detail}")
    return value


def interpolate_string(text, variables):
    """Expand `$$`, `$VAR`, `${VAR}` and `${VAR<op>arg}` the way Compose does."""
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        following = text[index + 1] if index + 1 < len(text) else ""
        if char != "$" or following == "":
            out.append(char)
            index += 1
        elif following == "$":
            out.append("$")
            index += 2
        elif following == "{":
            end = _closing_brace(text, index + 2)
            out.append(_expand_braced(text[index + 2 : end - 1], variables))
            index = end
        else:
            match = _NAME.match(text, index + 1)
            if match:
                out.append(variables.get(match.group(), ""))
                index = match.end()
            else:
                out.append("$")
                index += 1
    return "".join(out)


def interpolate(value, variables):
    """Interpolate every string value (not keys) of a Compose tree."""
    if isinstance(value, str):
        return interpolate_string(value, variables)
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    return value


# --- helpers -------------------------------------------------------------------------------------


def _truthy(value):
    if isinstance(value, bool):
        return value
    return isinstance(value, (str, int)) and str(value).strip().lower() in TRUE_STRINGS


def _capability(name):
    """SYS_ADMIN from sys_admin or CAP_SYS_ADMIN (no str.removeprefix: targets may run 3.8)."""
    cap = str(name).strip().upper()
    return cap[len("CAP_"):] if cap.startswith("CAP_") else cap


def _env_text(value):
    """A variable's value as Compose would see it in the environment."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _finding(rule, service, severity, message, fix):
    return {"rule": rule, "service": service, "severity": severity, "message": message, "fix": fix}


def _dig(mapping, *keys):
    for key in keys:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def _unlimited(value):
    return value is None or str(value).strip() in ("", "0", "-1")


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _normalise_host_path(source, project_dir):
    """An absolute, normalised host path for a bind source, or None when it stays relative."""
    if source == "~" or source.startswith("~/"):
        # Compose expands ~ to the home of the user running it; deploys run it as root.
        source = "/root" + source[1:]
    elif source.startswith("~"):
        source = "/home/" + source[1:]  # ~user: that user's home, wherever it is in practice
    if not source.startswith("/"):
        if not project_dir:
            return None
        source = posixpath.join(project_dir, source)
    normal = posixpath.normpath(source)
    return "/" + normal.lstrip("/")


def _bind_mounts(service, ctx):
    """Yield (host_path, read_only, spec) for every bind mount of a service."""
    for entry in _as_list(service.get("volumes")):
        if isinstance(entry, dict):
            kind = entry.get("type", "volume")
            source = str(entry.get("source") or "")
            read_only = _truthy(entry.get("read_only"))
            spec = f"{source}:{entry.get('target', '')}"
        else:
            parts = str(entry).split(":")
            if len(parts) < 2:
                continue  # an anonymous volume
            source = parts[0]
            read_only = len(parts) > 2 and "ro" in parts[2].split(",")
            kind = "bind" if source[:1] in ("/", ".", "~") else "volume"
            spec = str(entry)
        if kind == "volume":
            source = ctx["volume_devices"].get(source, "")
            if not source:
                continue
        elif kind != "bind":
            continue
        host_path = _normalise_host_path(source, ctx["project_dir"])
        if host_path:
            yield host_path, read_only, spec
    # Compose mounts a file-based secret or config read-only: a bind mount by another name.
    for kind in ("secrets", "configs"):
        for ref in _as_list(service.get(kind)):
            name = str(ref.get("source") if isinstance(ref, dict) else ref)
            source = ctx["file_sources"][kind].get(name)
            host_path = _normalise_host_path(source, ctx["project_dir"]) if source else None
            if host_path:
                yield host_path, True, f"{kind} {name} from {source}"


def _file_sources(compose):
    """{'secrets': {name: file}, 'configs': {name: file}} from the top-level definitions."""
    sources = {}
    for kind in ("secrets", "configs"):
        top = compose.get(kind)
        top = top if isinstance(top, dict) else {}
        sources[kind] = {str(name): str(config["file"]) for name, config in top.items()
                         if isinstance(config, dict) and config.get("file")}
    return sources


def _named_volume_devices(compose):
    """Top-level named volumes that bind a host directory through driver_opts."""
    devices = {}
    volumes = compose.get("volumes")
    if not isinstance(volumes, dict):
        return devices
    for name, config in volumes.items():
        opts = _dig(config, "driver_opts") or {}
        options = str(opts.get("o", "")).split(",")
        if opts.get("device") and "bind" in options:
            devices[name] = str(opts["device"])
    return devices


# --- rules ---------------------------------------------------------------------------------------


def rule_privileged(name, service, _ctx):
    if _truthy(service.get("privileged")):
        yield _finding(
            "privileged", name, "critical",
            "runs privileged: every capability and every host device",
            "remove privileged: true; add only the capabilities it needs with cap_add",
        )


def rule_host_namespaces(name, service, _ctx):
    checks = (
        ("host_network", "network_mode", "high", "network"),
        ("host_pid", "pid", "critical", "process"),
        ("host_ipc", "ipc", "high", "IPC"),
    )
    for rule, key, severity, what in checks:
        if str(service.get(key) or "").strip().lower() == "host":
            yield _finding(
                rule, name, severity,
                f"shares the host's {what} namespace ({key}: host)",
                f"remove {key}: host; use a user-defined network and published ports"
                if key == "network_mode" else f"remove {key}: host",
            )


def rule_mounts(name, service, ctx):
    for host_path, read_only, spec in _bind_mounts(service, ctx):
        if posixpath.basename(host_path) in RUNTIME_SOCKETS or host_path in SOCKET_DIRS:
            yield _finding(
                "docker_socket_mount", name, "critical",
                f"mounts the container runtime socket ({spec}): root on the host",
                "remove the socket mount; give the task to a dedicated, audited service",
            )
            continue
        in_tree = any(host_path == tree or host_path.startswith(tree + "/")
                      for tree in SENSITIVE_TREES)
        under_etc = host_path.startswith("/etc/") and not read_only
        if host_path in SENSITIVE_EXACT or in_tree or under_etc:
            mode = "read-only" if read_only else "writable"
            yield _finding(
                "sensitive_mount", name, "high" if read_only else "critical",
                f"bind-mounts the host's {host_path} ({mode}; {spec})",
                "mount only the specific file or directory the service needs, read-only",
            )


def rule_capabilities(name, service, ctx):
    allowed = ctx["allowed_capabilities"]
    for raw in _as_list(service.get("cap_add")):
        cap = _capability(raw)
        if cap and cap not in allowed:
            yield _finding(
                "cap_add", name, "critical" if cap in CRITICAL_CAPS else "high",
                f"adds capability {cap}, outside the allow-list {sorted(allowed)}",
                f"remove {cap} from cap_add, or allow it with allowed_capabilities and a reason",
            )
    dropped = {_capability(cap) for cap in _as_list(service.get("cap_drop"))}
    if "ALL" not in dropped:
        yield _finding(
            "cap_drop_all", name, "high",
            "does not drop every capability (cap_drop lacks ALL)",
            "add cap_drop: [ALL] and cap_add back only what is needed",
        )


def _security_opts(service):
    return [str(opt).strip().lower().replace("=", ":", 1)
            for opt in _as_list(service.get("security_opt"))]


def rule_security_opt(name, service, _ctx):
    opts = _security_opts(service)
    if not any(opt in ("no-new-privileges", "no-new-privileges:true") for opt in opts):
        yield _finding(
            "no_new_privileges", name, "high",
            "processes can gain privileges (no no-new-privileges in security_opt)",
            "add security_opt: [no-new-privileges:true]",
        )
    unconfined = ("seccomp:unconfined", "apparmor:unconfined", "label:disable",
                  "systempaths:unconfined")
    for opt in opts:
        if opt in unconfined:
            yield _finding(
                "unconfined_profile", name, "high",
                f"turns off a kernel confinement profile ({opt})",
                f"remove {opt} from security_opt; write a narrower profile if one is needed",
            )


def rule_user(name, service, _ctx):
    user = str(service.get("user") if service.get("user") is not None else "").strip()
    if not user:
        yield _finding(
            "root_user", name, "high",
            "sets no user: it runs as the image's USER, which the Compose file cannot prove "
            "is not root",
            'set user: "<uid>:<gid>" to a non-root numeric user',
        )
    elif user.split(":", 1)[0] in ("root", "0"):
        yield _finding(
            "root_user", name, "high",
            f"runs as root (user: {user})",
            'set user: "<uid>:<gid>" to a non-root numeric user',
        )


def rule_healthcheck(name, service, _ctx):
    check = service.get("healthcheck")
    test = _as_list(_dig(check, "test"))
    disabled = isinstance(check, dict) and (
        _truthy(check.get("disable")) or (test[:1] == ["NONE"])
    )
    if not isinstance(check, dict) or disabled:
        state = "disables its healthcheck" if disabled else "declares no healthcheck"
        yield _finding(
            "no_healthcheck", name, "medium",
            f"{state} (an image HEALTHCHECK cannot be seen from the Compose file)",
            "add a healthcheck: with a test that proves the service answers",
        )


def rule_restart(name, service, _ctx):
    restart = service.get("restart")
    restart = "no" if restart is False else str(restart or "").strip().lower()
    condition = str(_dig(service, "deploy", "restart_policy", "condition") or "").lower()
    ok = restart in ("always", "unless-stopped") or restart.startswith("on-failure")
    if not ok and condition not in ("any", "on-failure"):
        yield _finding(
            "no_restart", name, "medium",
            "has no restart policy: it stays down after a crash or a reboot",
            "add restart: unless-stopped",
        )


def rule_limits(name, service, _ctx):
    memory = service.get("mem_limit")
    if _unlimited(memory):
        memory = _dig(service, "deploy", "resources", "limits", "memory")
    if _unlimited(memory):
        yield _finding(
            "no_memory_limit", name, "high",
            "has no memory limit: one leak can starve the host",
            "add mem_limit: (or deploy.resources.limits.memory), e.g. 256m",
        )
    pids = service.get("pids_limit")
    if _unlimited(pids):
        pids = _dig(service, "deploy", "resources", "limits", "pids")
    if _unlimited(pids):
        yield _finding(
            "no_pids_limit", name, "high",
            "has no pids limit: a fork bomb can exhaust the host",
            "add pids_limit: (or deploy.resources.limits.pids), e.g. 128",
        )


def rule_read_only(name, service, _ctx):
    if not _truthy(service.get("read_only")):
        yield _finding(
            "writable_rootfs", name, "high",
            "has a writable root filesystem (read_only is not true)",
            "add read_only: true and tmpfs: for the paths it must write",
        )


def _port_range(text):
    low, _, high = text.partition("-")
    start = int(low)
    end = int(high) if high else start
    if not 0 < start <= end <= 65535:
        raise ValueError(text)
    return start, end


def parse_published(entry):
    """(host_ip, first, last) of the host side of a ports entry, or None when none is published.

    Raises ValueError for an entry that cannot be read.
    """
    if isinstance(entry, dict):
        published = str(entry.get("published") if entry.get("published") is not None else "")
        if not published.strip():
            return None
        return (str(entry.get("host_ip") or ""), *_port_range(published.strip()))
    if isinstance(entry, int) and not isinstance(entry, bool):
        return None  # container port only: a random host port
    text = str(entry).strip().split("/", 1)[0]
    host_ip = ""
    if text.startswith("["):
        host_ip, _, text = text[1:].partition("]")
        parts = text.lstrip(":").split(":")
        parts = ["", *parts] if len(parts) == 2 else parts
    else:
        parts = text.rsplit(":", 2)
    if len(parts) == 3:
        host_ip = host_ip or parts[0]
        host = parts[1]
    elif len(parts) == 2:
        host = parts[0]
    else:
        _port_range(parts[0])  # validate the container side
        return None
    if not host:
        return None
    return (host_ip, *_port_range(host))


def _loopback(host_ip):
    return host_ip.startswith("127.") or host_ip in ("::1", "localhost")


def rule_ports(name, service, ctx):
    for entry in _as_list(service.get("ports")):
        try:
            published = parse_published(entry)
        except ValueError:
            yield _finding(
                "admin_port", name, "high",
                f"publishes a port that cannot be read ({entry!r}), so it cannot be proved safe",
                'write ports as "[HOST_IP:]HOST_PORT:CONTAINER_PORT"',
            )
            continue
        if published is None:
            continue
        host_ip, first, last = published
        for port in sorted(p for p in ctx["admin_ports"] if first <= p <= last):
            severity = "critical" if port in DOCKER_API_PORTS else "high"
            if _loopback(host_ip):
                severity = "low"
            yield _finding(
                "admin_port", name, severity,
                f"publishes admin port {port} on the host ({entry!r})",
                f"do not publish {port}; reach administration through SSH from admin CIDRs",
            )


def _image_problem(image):
    reference = image.split("@", 1)
    if len(reference) == 2:
        return None  # pinned by digest
    last = reference[0].rsplit("/", 1)[-1]
    if ":" not in last:
        return "is untagged (pulls :latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return "uses the mutable :latest tag"
    return None


def rule_image(name, service, _ctx):
    image = str(service.get("image") or "").strip()
    if not image:
        if service.get("build") is not None:
            yield _finding(
                "image_tag", name, "info",
                "is built from its context with no image name, so releases cannot be told apart",
                'add image: "<name>:<version>" beside build:',
            )
        else:
            yield _finding(
                "image_tag", name, "medium",
                "has neither an image nor a build",
                'set image: "<name>:<version>"',
            )
        return
    problem = _image_problem(image)
    if problem:
        yield _finding(
            "image_tag", name, "medium",
            f"image {image} {problem}: what runs can change without a deploy",
            "pin a version tag or a digest (name:1.2.3 or name@sha256:...)",
        )


RULE_FUNCTIONS = (
    rule_privileged,
    rule_host_namespaces,
    rule_mounts,
    rule_capabilities,
    rule_security_opt,
    rule_user,
    rule_healthcheck,
    rule_restart,
    rule_limits,
    rule_read_only,
    rule_ports,
    rule_image,
)


# --- evaluation ----------------------------------------------------------------------------------


def evaluate(compose, allowed_capabilities=("NET_BIND_SERVICE",), admin_ports=(22, 2375, 2376),
             project_dir=None):
    """Every finding of every service of an (interpolated) Compose mapping."""
    services = compose.get("services")
    if not isinstance(services, dict) or not services:
        raise PolicyError("the Compose definition has no services (a non-empty 'services:' map)")
    ctx = {
        "allowed_capabilities": {_capability(c) for c in allowed_capabilities},
        "admin_ports": set(admin_ports),
        "project_dir": project_dir,
        "volume_devices": _named_volume_devices(compose),
        "file_sources": _file_sources(compose),
    }
    findings = []
    for name in sorted(services, key=str):
        service = services[name] if services[name] is not None else {}
        if not isinstance(service, dict):
            raise PolicyError(f"service {name!r} is not a mapping")
        for function in RULE_FUNCTIONS:
            findings.extend(function(str(name), service, ctx))
    return findings


def check_waivers(waivers):
    """Validate waivers: known rule ids, a reason for each. Returns a list of errors."""
    errors = []
    for key, reason in waivers.items():
        rule = str(key).split("@", 1)[0]
        if rule not in RULES:
            errors.append(f"waiver {key!r} names an unknown rule (known: {', '.join(RULES)})")
        if reason is None or not str(reason).strip():
            errors.append(f"waiver {key!r} has no reason; say why the finding is accepted")
    return errors


def apply_policy(findings, waivers, fail_on):
    """Split findings into kept and waived, count them and list what fails the gate."""
    kept, waived, used = [], [], set()
    for finding in findings:
        scoped = f"{finding['rule']}@{finding['service']}"
        key = next((k for k in (scoped, finding["rule"]) if k in waivers), None)
        if key is None:
            kept.append(finding)
        else:
            used.add(key)
            waived.append({**finding, "waiver": key, "reason": str(waivers[key])})
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in kept:
        counts[finding["severity"]] += 1
    threshold = RANK[fail_on]
    failed_reasons = [
        f"{f['service']}: {f['rule']} ({f['severity']}): {f['message']}"
        for f in kept
        if RANK[f["severity"]] >= threshold
    ]
    return {
        "findings": kept,
        "waived": waived,
        "counts": counts,
        "failed_reasons": failed_reasons,
        "unused_waivers": sorted(set(waivers) - used),
    }


def _read(path, what):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise PolicyError(f"{what} {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read {what} {path}: {exc}") from exc


def load(params):
    """The interpolated Compose mapping and the project directory, from module params."""
    path = params.get("path")
    env_file = params.get("env_file")
    project_dir = params.get("project_dir")
    variables = {}
    if path:
        project_dir = project_dir or os.path.dirname(os.path.abspath(path))
        if env_file is None and os.path.isfile(os.path.join(project_dir, ".env")):
            env_file = os.path.join(project_dir, ".env")
    if env_file:
        variables.update(parse_env_file(_read(env_file, "env file")))
    variables.update({str(k): _env_text(v) for k, v in (params.get("variables") or {}).items()})
    if path:
        compose = parse_compose_text(_read(path, "compose file"), f"compose file {path}")
    else:
        compose = params["definition"]
    try:
        return interpolate(compose, variables), project_dir
    except PolicyError as exc:
        raise PolicyError(f"interpolation failed: {exc}") from exc


def run(params):
    """Evaluate module params; returns (result, error message or None)."""
    errors = check_waivers(params.get("waivers") or {})
    if errors:
        raise PolicyError("; ".join(errors))
    compose, project_dir = load(params)
    findings = evaluate(
        compose,
        allowed_capabilities=params["allowed_capabilities"],
        admin_ports=params["admin_ports"],
        project_dir=project_dir,
    )
    result = apply_policy(findings, params.get("waivers") or {}, params["fail_on"])
    result["services"] = sorted(str(name) for name in compose["services"])
    return result


ARGUMENT_SPEC = {
    "path": {"type": "path"},
    "definition": {"type": "dict"},
    "project_dir": {"type": "path"},
    "variables": {"type": "dict", "default": {}},
    "env_file": {"type": "path"},
    "fail_on": {"type": "str", "choices": list(SEVERITIES), "default": "high"},
    "waivers": {"type": "dict", "default": {}},
    "allowed_capabilities": {"type": "list", "elements": "str", "default": ["NET_BIND_SERVICE"]},
    "admin_ports": {
        "type": "list",
        "elements": "int",
        "default": [22, 23, 2375, 2376, 2377, 2379, 2380, 3389, 5900, 5985, 5986, 6443, 10250],
    },
}


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("path", "definition")],
        required_one_of=[("path", "definition")],
        supports_check_mode=True,
    )
    try:
        result = run(module.params)
    except PolicyError as exc:
        module.fail_json(msg=f"compose_policy: {exc}", changed=False)
    for key in result["unused_waivers"]:
        module.warn(f"compose_policy: waiver {key!r} matched no finding; remove it if stale")
    if result["failed_reasons"]:
        count = len(result["failed_reasons"])
        module.fail_json(
            msg=f"compose_policy: {count} finding(s) at or above '{module.params['fail_on']}': "
            + "; ".join(result["failed_reasons"]),
            changed=False,
            **result,
        )
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
