"""Findings of the post-deploy security check (GUIDE §7 items 2-11 and 13).

The role's tasks only read raw facts (files from /proc and /etc, `docker inspect` output, AWS
descriptions); every judgement is made here, in pure Python, so each rule is unit-tested
(tests/security_check/). Each finding is one line that names the §7 item, a topic, what is wrong
and where: "§7.3 Docker API port: something listens on tcp/2376 (0.0.0.0) on web-1".
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import posixpath
import re

DEFAULT_ITEMS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13)
DEFAULT_OPTIONS = {
    "items": list(DEFAULT_ITEMS),
    "project": "flask_app",
    "forbidden_ports": [2375, 2376],
    "keyring_dir": "/etc/apt/keyrings",
    "docker_package": "docker-ce",
    "admin_cidrs": [],
    "allow_ssh_from_anywhere": False,
    "ssh_port": 22,
    "app_ports": [80],
    "required_tags": ["Project", "ManagedBy", "Deployment"],
    "expected_tags": {},
    "ami_owners": {"debian": "136693071363", "ubuntu": "099720109477"},
    "distribution": "",
}
TCP_LISTEN = "0A"
LOCAL_DAEMON_SCHEMES = ("unix://", "fd://")
ROTATING_LOG_DRIVERS = ("json-file", "local")
ROOT_USERS = ("", "root", "0")
DEV_SERVER_MARKERS = ("werkzeug", "flask run", "flask --app")
DOCKER_SOCKET_DIRS = ("/", "/run", "/var/run", "/run/docker", "/var/run/docker")
ICMP_PROTOCOLS = ("icmp", "icmpv6", "1", "58")
TCP_PROTOCOLS = ("tcp", "6")
SHOWN_PORTS = 5


def _options(options):
    merged = dict(DEFAULT_OPTIONS)
    merged.update({k: v for k, v in (options or {}).items() if v is not None})
    merged["items"] = {int(item) for item in merged["items"]}
    merged["forbidden_ports"] = {int(port) for port in merged["forbidden_ports"]}
    merged["app_ports"] = {int(port) for port in merged["app_ports"]}
    merged["ssh_port"] = int(merged["ssh_port"])
    return merged


def _line(item, topic, detail, host):
    return f"§7.{item} {topic}: {detail} on {host}"


def _b64(text):
    try:
        return base64.b64decode(text or "")
    except (binascii.Error, ValueError):
        return b""


def _json(text):
    """Parsed JSON, or None when text is empty or not JSON."""
    if isinstance(text, (dict, list)):
        return text
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


# --- listening sockets (/proc/net/tcp, /proc/net/tcp6) ----------------------------------------


def _hex_address(text):
    """/proc/net/tcp{,6} writes addresses as 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(text)
    swapped = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(swapped))


def parse_listeners(texts):
    """(address, port) of every listening TCP socket in the given /proc/net/tcp{,6} texts."""
    found = set()
    for text in texts or []:
        for line in (text or "").splitlines()[1:]:
            fields = line.split()
            if len(fields) < 4 or fields[3] != TCP_LISTEN or ":" not in fields[1]:
                continue
            address, port = fields[1].rsplit(":", 1)
            try:
                found.add((_hex_address(address), int(port, 16)))
            except ValueError:
                continue
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


def _listener_findings(raw, host, opts):
    if "proc_net_tcp" not in raw:
        return []
    if not any(raw["proc_net_tcp"] or []):
        return [_line(3, "Docker API port", "could not read /proc/net/tcp", host)]
    return [
        _line(3, "Docker API port", f"something listens on tcp/{port} ({address})", host)
        for address, port in parse_listeners(raw["proc_net_tcp"])
        if port in opts["forbidden_ports"]
    ]


# --- Docker daemon (item 9) ---------------------------------------------------------------------


def _network_hosts(values):
    return [v for v in values if not str(v).startswith(LOCAL_DAEMON_SCHEMES)]


def dockerd_cmdline_hosts(argv):
    """The -H/--host values of a dockerd command line."""
    hosts, args = [], list(argv or [])
    for index, arg in enumerate(args):
        if arg in ("-H", "--host") and index + 1 < len(args):
            hosts.append(args[index + 1])
        elif arg.startswith("--host="):
            hosts.append(arg.split("=", 1)[1])
        elif arg.startswith("-H") and len(arg) > 2:
            hosts.append(arg[2:].lstrip("="))
    return hosts


def _daemon_json_findings(text, host):
    topic, path = "Docker daemon", "/etc/docker/daemon.json"
    if text is None:
        return [_line(9, topic, f"{path} is missing (no log rotation, live-restore or "
                                "no-new-privileges configured)", host)], {}
    config = _json(text)
    if not isinstance(config, dict):
        return [_line(9, topic, f"{path} is not a JSON object", host)], {}
    out = []
    driver = config.get("log-driver", "json-file")
    max_size = (config.get("log-opts") or {}).get("max-size")
    if driver not in ROTATING_LOG_DRIVERS:
        out.append(_line(9, topic, f"log-driver {driver!r} in {path} is not json-file or local "
                                   "(no local log rotation)", host))
    elif driver == "json-file" and not max_size:
        out.append(_line(9, topic, f"json-file logs without log-opts max-size in {path} "
                                   "(logs grow until the disk is full)", host))
    for key in ("live-restore", "no-new-privileges"):
        if config.get(key) is not True:
            out.append(_line(9, topic, f"{key} is not true in {path}", host))
    hosts = config.get("hosts") or []
    hosts = [hosts] if isinstance(hosts, str) else hosts
    for value in _network_hosts(hosts):
        out.append(_line(9, topic, f"{path} puts the API on the network (hosts: {value})", host))
    return out, config


def _daemon_findings(raw, host):
    topic = "Docker daemon"
    out, config = _daemon_json_findings(raw.get("daemon_json"), host)
    info_result = raw.get("docker_info") or {}
    info = _json(info_result.get("stdout"))
    if info_result.get("rc", 0) != 0 or not isinstance(info, dict):
        why = (info_result.get("stderr") or "no output").strip().splitlines()[-1:] or ["?"]
        out.append(_line(9, topic, f"`docker info` failed ({why[0]}): the running daemon "
                                   "cannot be checked", host))
        info = {}
    if info:
        driver = info.get("LoggingDriver", "")
        if driver not in ROTATING_LOG_DRIVERS:
            out.append(_line(9, topic, f"the running daemon logs with {driver!r}, not json-file "
                                       "or local", host))
        elif config and driver != config.get("log-driver", "json-file"):
            out.append(_line(9, topic, f"the running daemon logs with {driver!r}, daemon.json "
                                       "says otherwise (restart pending?)", host))
        if info.get("LiveRestoreEnabled") is not True:
            out.append(_line(9, topic, "live-restore is off in the running daemon", host))
        options = " ".join(info.get("SecurityOptions") or [])
        if config.get("no-new-privileges") is True and "no-new-privileges" not in options:
            out.append(_line(9, topic, "no-new-privileges is not active in the running daemon "
                                       "(restart pending?)", host))
    argv = _b64(raw.get("dockerd_cmdline_b64")).rstrip(b"\0").split(b"\0")
    argv = [word.decode("utf-8", "replace") for word in argv if word]
    for value in _network_hosts(dockerd_cmdline_hosts(argv)):
        out.append(_line(9, topic, f"dockerd runs with -H {value} (API on the network)", host))
    return out


# --- Docker's apt source (item 8) ---------------------------------------------------------------


def parse_apt_sources(files):
    """Every entry of the given apt source files: {file, format, uris, signed_by, enabled}."""
    entries = []
    for path, text in sorted((files or {}).items()):
        if path.endswith(".sources"):
            entries.extend(_deb822_entries(path, text or ""))
        else:
            entries.extend(_one_line_entries(path, text or ""))
    return entries


def _deb822_entries(path, text):
    entries, fields, key = [], {}, None
    for line in [*text.splitlines(), ""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                entries.append(fields)
            fields, key = {}, None
        elif line[0] in " \t" and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            fields[key] = value.strip()
    return [
        {
            "file": path,
            "format": "deb822",
            "uris": fields.get("uris", "").split(),
            "signed_by": fields.get("signed-by", ""),
            "enabled": fields.get("enabled", "yes").lower() != "no",
        }
        for fields in entries
        if "deb" in fields.get("types", "").split()
    ]


ONE_LINE = re.compile(r"^(deb)\s+(?:\[(?P<options>[^\]]*)\]\s+)?(?P<uri>\S+)")


def _one_line_entries(path, text):
    entries = []
    for line in text.splitlines():
        match = ONE_LINE.match(line.strip())
        if not match:
            continue
        options = dict(
            option.split("=", 1) for option in (match["options"] or "").split() if "=" in option
        )
        entries.append({"file": path, "format": "one-line", "uris": [match["uri"]],
                        "signed_by": options.get("signed-by", ""), "enabled": True})
    return entries


def parse_policy_origins(text):
    """The repositories offering the installed version (`LC_ALL=C apt-cache policy <pkg>`);
    None when the package is not installed."""
    installed = re.search(r"^\s+Installed: (.+)$", text or "", re.MULTILINE)
    if not installed or installed[1].strip() == "(none)":
        return None
    origins, current = [], False
    for line in (text or "").splitlines():
        version = re.match(r"^ (\*\*\*| {3}) (\S+) -?\d+$", line)
        if version:
            current = version[1] == "***"
            continue
        source = re.match(r"^\s+-?\d+ (\S+)", line)
        # /var/lib/dpkg/status says what is installed, not where it came from.
        if current and source and not source[1].startswith("/"):
            origins.append(source[1].rstrip("/"))
    return origins


def _armored_packets(data):
    """The packets of ASCII-armoured key blocks, or the data itself when it is binary."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return data
    if "-----BEGIN PGP" not in text:
        return data
    packets = b""
    for block in re.findall(r"-----BEGIN PGP[^\n]*\n(.*?)-----END PGP", text, re.DOTALL):
        body = block.split("\n\n", 1)[-1] if re.match(r"^\S+: ", block) else block
        lines = [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.startswith("=")]
        try:
            packets += base64.b64decode("".join(lines))
        except (binascii.Error, ValueError):
            continue
    return packets


def keyring_mentions_docker(data):
    """True when a keyring (binary or ASCII-armoured bytes) holds a key with "docker" in it."""
    return b"docker" in _armored_packets(data).lower()


def classify_apt_files(files, keyring_dir):
    """{path: base64} of apt's files → (sources {path: text}, trusted {path: bytes}, keyrings)."""
    sources, trusted, keyrings = {}, {}, []
    for path, content in (files or {}).items():
        directory, name = posixpath.split(path)
        if path == "/etc/apt/sources.list" or (
            directory == "/etc/apt/sources.list.d" and name.endswith((".list", ".sources"))
        ):
            sources[path] = _b64(content).decode("utf-8", "replace")
        elif path == "/etc/apt/trusted.gpg" or directory == "/etc/apt/trusted.gpg.d":
            trusted[path] = _b64(content)
        elif directory == keyring_dir.rstrip("/"):
            keyrings.append(path)
    return sources, trusted, keyrings


def _apt_findings(raw, host, opts):
    topic, out = "Docker apt source", []
    package, keyring_dir = opts["docker_package"], opts["keyring_dir"].rstrip("/") + "/"
    origins = parse_policy_origins(raw.get("docker_policy"))
    if origins is None:
        out.append(_line(8, topic, f"{package} is not installed: the engine does not come from "
                                   "Docker's repository", host))
        origins = []
    elif not origins:
        out.append(_line(8, topic, f"the installed {package} is offered by no configured "
                                   "repository (installed by hand?)", host))
    sources, trusted, keyrings = classify_apt_files(raw.get("apt_files"), opts["keyring_dir"])
    entries = parse_apt_sources(sources)
    docker_entries = [
        entry for entry in entries
        if entry["enabled"] and (
            any(uri.rstrip("/") in origins or "docker.com" in uri for uri in entry["uris"])
            or "docker" in posixpath.basename(entry["file"]).lower())
    ]
    for entry in docker_entries:
        where = f"{entry['file']} ({' '.join(entry['uris'])})"
        signed_by = entry["signed_by"]
        if entry["format"] != "deb822":
            out.append(_line(8, topic, f"{where} is a one-line source; use a deb822 .sources "
                                       "file with Signed-By", host))
        elif not signed_by:
            out.append(_line(8, topic, f"{where} has no Signed-By: any trusted key could sign "
                                       "Docker's packages", host))
        elif "BEGIN PGP" in signed_by:
            out.append(_line(8, topic, f"{where} embeds its key; use a keyring under "
                                       f"{keyring_dir}", host))
        elif not all(path.startswith(keyring_dir) for path in signed_by.split()):
            out.append(_line(8, topic, f"{where} is signed by {signed_by}, not a keyring under "
                                       f"{keyring_dir}", host))
        elif any(path not in keyrings for path in signed_by.split()):
            out.append(_line(8, topic, f"{where} is signed by {signed_by}, which does not "
                                       "exist", host))
    if origins and not any(
        uri.rstrip("/") in origins for entry in docker_entries for uri in entry["uris"]
    ):
        out.append(_line(8, topic, f"no apt source file defines {', '.join(origins)}", host))
    for path, content in sorted(trusted.items()):
        if "docker" in posixpath.basename(path).lower() or keyring_mentions_docker(content):
            out.append(_line(8, topic, f"a Docker key is trusted globally in {path} (apt-key "
                                       "style): every repository may use it", host))
    return out


# --- the app's containers (items 10 and 11) -----------------------------------------------------


def _is_root_user(user):
    name = str(user or "").split(":", 1)[0].strip()
    return name in ROOT_USERS


def _healthcheck(config):
    test = ((config or {}).get("Healthcheck") or {}).get("Test") or []
    return bool(test) and test[0] != "NONE"


def _is_gunicorn(cmdline):
    words = [posixpath.basename(word) for word in (cmdline or [])[:3]]
    return any(word.startswith("gunicorn") for word in words)


def _process_findings(container, image, procs):
    """Item 10: running, healthy, HEALTHCHECK, non-root, gunicorn and not the dev server."""
    config, state = container.get("Config") or {}, container.get("State") or {}
    image_name = config.get("Image") or container.get("Image", "?")
    out = []
    if not state.get("Running"):
        out.append(f"is not running ({state.get('Status', 'unknown')})")
    if not _healthcheck(image.get("Config")):
        out.append(f"image {image_name} has no HEALTHCHECK")
    health = (state.get("Health") or {}).get("Status")
    if not health:
        out.append("has no health check (disabled for the container)")
    elif health != "healthy":
        out.append(f"health status is {health!r}, not 'healthy'")
    if _is_root_user(config.get("User")):
        out.append(f"runs as root (user {config.get('User') or 'not set'!r})")
    if image and _is_root_user((image.get("Config") or {}).get("User")):
        out.append(f"image {image_name} has no non-root USER")
    if state.get("Running") and not procs:
        out.append("its processes cannot be read")
    main = next((p for p in procs if p.get("pid") == state.get("Pid")), procs[0] if procs else {})
    if procs and not _is_gunicorn(main.get("cmdline")):
        out.append(f"the main process is {' '.join(main.get('cmdline') or ['?'])!r}, not gunicorn")
    for proc in procs:
        text = " ".join(proc.get("cmdline") or [])
        if any(marker in text.lower() for marker in DEV_SERVER_MARKERS):
            out.append(f"Flask's development server runs ({text!r})")
        if proc.get("uid") == 0:
            out.append(f"process {text!r} (pid {proc.get('pid')}) runs as uid 0")
    return out


def _socket_mount(container):
    hostcfg, mounts = container.get("HostConfig") or {}, container.get("Mounts") or []
    paths = [bind.split(":", 1)[0] for bind in hostcfg.get("Binds") or []]
    paths += [m.get("Source", "") for m in mounts] + [m.get("Destination", "") for m in mounts]
    return next((path for path in paths if path and (
        posixpath.normpath(path).endswith("docker.sock")
        or posixpath.normpath(path) in DOCKER_SOCKET_DIRS)), None)


def _confinement_findings(container):
    """Item 11: read-only with a tmpfs, no capabilities, no new privileges, limits, no socket."""
    hostcfg, mounts = container.get("HostConfig") or {}, container.get("Mounts") or []
    nnp = [option.replace("=", ":") for option in hostcfg.get("SecurityOpt") or []]
    socket = _socket_mount(container)
    checks = [
        (hostcfg.get("ReadonlyRootfs"), "root filesystem is writable (read_only: true missing)"),
        (hostcfg.get("Tmpfs") or any(m.get("Type") == "tmpfs" for m in mounts),
         "no tmpfs for scratch space"),
        ("ALL" in [str(cap).upper() for cap in hostcfg.get("CapDrop") or []],
         f"capabilities not all dropped (cap_drop: {hostcfg.get('CapDrop') or []})"),
        (not hostcfg.get("CapAdd"),
         f"capabilities added: {', '.join(hostcfg.get('CapAdd') or [])}"),
        (any(o in ("no-new-privileges", "no-new-privileges:true") for o in nnp),
         "no-new-privileges is not set"),
        ((hostcfg.get("Memory") or 0) > 0, "no memory limit"),
        ((hostcfg.get("PidsLimit") or 0) > 0, "no pids limit"),
        (not hostcfg.get("Privileged"), "is privileged"),
        (socket is None, f"mounts {socket} (the Docker socket: root on the host)"),
    ]
    return [problem for ok, problem in checks if not ok]


def _container_findings(container, images, processes, host, items):
    name = (container.get("Name") or container.get("Id", "?")[:12]).lstrip("/")
    out = []
    if 10 in items:
        pid = (container.get("State") or {}).get("Pid")
        procs = processes.get(str(pid), []) if pid else []
        image = images.get(container.get("Image"), {})
        out += [_line(10, "app process", f"container {name}: {detail}", host)
                for detail in _process_findings(container, image, procs)]
    if 11 in items:
        out += [_line(11, "app container", f"container {name}: {detail}", host)
                for detail in _confinement_findings(container)]
    return out


def _containers_findings(raw, host, opts):
    items, out = opts["items"], []
    containers = raw.get("containers")
    if not containers:
        why = "" if containers is not None else " (containers cannot be listed)"
        line = f"no container of Compose project {opts['project']!r}{why}"
        out += [_line(item, topic, line, host)
                for item, topic in ((10, "app process"), (11, "app container")) if item in items]
        return out
    images = {image.get("Id"): image for image in raw.get("images") or []}
    processes = {str(key): value for key, value in (raw.get("processes") or {}).items()}
    for container in containers:
        out += _container_findings(container, images, processes, host, items)
    return out


# --- host hardening (items 7 and 13) ------------------------------------------------------------


def _apt_config_value(text, key):
    match = re.search(rf'^{re.escape(key)} "([^"]*)";', text or "", re.MULTILINE)
    return match[1] if match else None


def _unattended_findings(raw, host):
    out, topic = [], "unattended upgrades"
    if "install ok installed" not in (raw.get("unattended_upgrades_status") or ""):
        out.append(_line(7, topic, "unattended-upgrades is not installed", host))
    value = _apt_config_value(raw.get("apt_config"), "APT::Periodic::Unattended-Upgrade")
    if value in (None, "", "0"):
        out.append(_line(7, topic, f'APT::Periodic::Unattended-Upgrade is {value or "unset"!r}, '
                                   'not "1"', host))
    return out


def parse_sshd_config(text):
    """`sshd -T` output as {keyword: value} (keywords are lowercase there)."""
    config = {}
    for line in (text or "").splitlines():
        key, _, value = line.strip().partition(" ")
        config.setdefault(key.lower(), value.strip())
    return config


def _sshd_findings(raw, host):
    sshd = raw.get("sshd")
    topic = "SSH hardening"
    if not sshd:
        return []  # no sshd on the host: nothing listens for passwords or root
    if sshd.get("rc", 0) != 0:
        why = (sshd.get("stderr") or "").strip().splitlines()[-1:] or ["no output"]
        return [_line(13, topic, f"`sshd -T` failed ({why[0]}): cannot prove the settings", host)]
    config = parse_sshd_config(sshd.get("stdout"))
    return [
        _line(13, topic, f"{key} is {config.get(key, 'unset')!r}, not 'no'", host)
        for key in ("passwordauthentication", "kbdinteractiveauthentication", "permitrootlogin")
        if config.get(key) != "no"
    ]


def host_findings(raw, host, options=None):
    """Findings about the live host: items 3 (listening), 7, 8, 9, 10, 11 and 13."""
    opts, raw = _options(options), raw or {}
    items, out = opts["items"], []
    if 3 in items:
        out += _listener_findings(raw, host, opts)
    if 7 in items:
        out += _unattended_findings(raw, host)
    if 8 in items:
        out += _apt_findings(raw, host, opts)
    if 9 in items:
        out += _daemon_findings(raw, host)
    if items & {10, 11}:
        out += _containers_findings(raw, host, opts)
    if 13 in items:
        out += _sshd_findings(raw, host)
    return out


# --- AWS (items 2-7) ----------------------------------------------------------------------------


def _sources(permission):
    for entry in permission.get("ip_ranges") or []:
        yield entry.get("cidr_ip", "")
    for entry in permission.get("ipv6_ranges") or []:
        yield entry.get("cidr_ipv6", "")
    for entry in permission.get("user_id_group_pairs") or []:
        yield f"security group {entry.get('group_id', '?')}"
    for entry in permission.get("prefix_list_ids") or []:
        yield f"prefix list {entry.get('prefix_list_id', '?')}"


def _network(text):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _is_admin_source(source, admin_networks, allow_anywhere):
    network = _network(source)
    if network is None:
        return False
    if network.prefixlen == 0:
        return allow_anywhere
    return any(
        network.version == admin.version and network.subnet_of(admin) for admin in admin_networks
    )


def _port_range(permission):
    """(protocol, first, last) of a rule; every port for protocol -1."""
    protocol = str(permission.get("ip_protocol", "")).lower()
    if protocol == "-1":
        return "all", 0, 65535
    first, last = permission.get("from_port"), permission.get("to_port")
    first = 0 if first in (None, -1) else int(first)
    last = 65535 if last in (None, -1) else int(last)
    return ("tcp" if protocol in TCP_PROTOCOLS else protocol), first, last


def _show_ports(ports):
    shown = ", ".join(str(p) for p in ports[:SHOWN_PORTS])
    return shown + (f" and {len(ports) - SHOWN_PORTS} more" if len(ports) > SHOWN_PORTS else "")


def _group_findings(group, host, opts):
    items, out = opts["items"], []
    label = f"security group {group.get('group_id', '?')} ({group.get('group_name', '?')})"
    admins = [n for n in (_network(c) for c in opts["admin_cidrs"]) if n is not None]
    ssh, app_ports = opts["ssh_port"], opts["app_ports"]
    for permission in group.get("ip_permissions") or []:
        protocol, first, last = _port_range(permission)
        if protocol in ICMP_PROTOCOLS:
            continue
        sources = list(_sources(permission))
        what = "all traffic" if protocol == "all" else (
            f"{protocol}/{first}" if first == last else f"{protocol}/{first}-{last}")
        from_text = ", ".join(sources)
        if 2 in items and protocol in ("all", "tcp") and first <= ssh <= last:
            for source in sources:
                if not _is_admin_source(source, admins, opts["allow_ssh_from_anywhere"]):
                    out.append(_line(2, "SSH ingress", (
                        f"{label} allows SSH ({what}) from {source}, not an admin network "
                        f"({', '.join(opts['admin_cidrs']) or 'none configured'})"), host))
        if 3 not in items:
            continue
        forbidden = sorted(p for p in opts["forbidden_ports"] if first <= p <= last)
        if forbidden and protocol in ("all", "tcp"):
            ports = "tcp/" + "/".join(str(p) for p in forbidden)
            rule = "" if ports == what else f" (rule: {what})"
            out.append(_line(3, "Docker API port", f"{label} opens {ports}{rule} to {from_text}",
                             host))
            continue
        allowed = app_ports | {ssh} if protocol == "tcp" else set()
        if protocol == "all" or last - first + 1 > len(allowed) or any(
            port not in allowed for port in range(first, last + 1)
        ):
            extra = [p for p in range(first, min(last, first + 1000) + 1) if p not in allowed]
            ports = "" if first == last else f" (port {_show_ports(extra)})"
            out.append(_line(3, "public ports", (
                f"{label} opens {what}{ports} to {from_text}; only the app's ports "
                f"({', '.join(str(p) for p in sorted(app_ports))}) may be public"), host))
    return out


def _metadata_findings(instance, host):
    label, topic = f"instance {instance.get('instance_id', '?')}", "instance metadata"
    metadata = instance.get("metadata_options") or {}
    if metadata.get("http_endpoint") == "disabled":
        return []
    out = []
    if metadata.get("http_tokens") != "required":
        out.append(_line(4, topic, f"{label} allows IMDSv1 (http_tokens "
                                   f"{metadata.get('http_tokens', 'unset')!r}, not 'required')",
                         host))
    hops = metadata.get("http_put_response_hop_limit")
    if hops != 1:
        out.append(_line(4, topic, f"{label} has a metadata hop limit of {hops}, not 1 "
                                   "(containers could reach the instance's credentials)", host))
    return out


def _root_volume_findings(instance, volumes, host):
    label, topic = f"instance {instance.get('instance_id', '?')}", "root volume"
    root = instance.get("root_device_name")
    mapping = next((m for m in instance.get("block_device_mappings") or []
                    if m.get("device_name") == root), None)
    if not mapping or not (mapping.get("ebs") or {}).get("volume_id"):
        return [_line(5, topic, f"{label} has no EBS root volume at {root}", host)]
    ebs = mapping["ebs"]
    volume_id = ebs["volume_id"]
    out = []
    if ebs.get("delete_on_termination") is not True:
        out.append(_line(5, topic, f"{volume_id} of {label} is kept when the instance "
                                   "terminates (DeleteOnTermination false)", host))
    volume = next((v for v in volumes if v.get("id") == volume_id), None)
    if volume is None:
        return [*out, _line(5, topic, f"{volume_id} of {label} cannot be described", host)]
    if volume.get("encrypted") is not True:
        out.append(_line(5, topic, f"{volume_id} of {label} is not encrypted", host))
    if volume.get("type") != "gp3":
        out.append(_line(5, topic, f"{volume_id} of {label} is {volume.get('type')!r}, not gp3",
                         host))
    return out


def _tag_findings(raw, instance, host, opts):
    topic, out = "tags", []
    own = instance.get("tags") or {}
    expected = {key: (opts["expected_tags"].get(key) or own.get(key))
                for key in opts["required_tags"]}
    resources = [(f"instance {instance.get('instance_id', '?')}", own)]
    resources += [(f"security group {g.get('group_id', '?')}", g.get("tags") or {})
                  for g in raw.get("security_groups") or []]
    resources += [(f"volume {v.get('id', '?')}", v.get("tags") or {})
                  for v in raw.get("volumes") or []]
    key_name = instance.get("key_name")
    keys = {k.get("key_name"): k for k in raw.get("key_pairs") or []}
    if key_name and key_name not in keys:
        out.append(_line(6, topic, f"key pair {key_name} cannot be described", host))
    elif key_name:
        resources.append((f"key pair {key_name}", keys[key_name].get("tags") or {}))
    for label, tags in resources:
        missing = [key for key in opts["required_tags"] if not tags.get(key)]
        if missing:
            out.append(_line(6, topic, f"{label} lacks {', '.join(missing)}", host))
        wrong = [f"{key}={tags[key]!r} (expected {expected[key]!r})"
                 for key in opts["required_tags"]
                 if tags.get(key) and expected.get(key) and tags[key] != expected[key]]
        if wrong:
            out.append(_line(6, topic, f"{label} is tagged {', '.join(wrong)}", host))
    return out


def _ami_findings(raw, instance, host, opts):
    topic, image_id = "official image", instance.get("image_id", "?")
    image = next((i for i in raw.get("images") or [] if i.get("image_id") == image_id), None)
    owners = {str(k): str(v) for k, v in (opts["ami_owners"] or {}).items()}
    if image is None:
        return [_line(7, topic, f"image {image_id} cannot be described (deregistered or "
                                "private): cannot prove it is an official image", host)]
    owner = str(image.get("owner_id", ""))
    family = str(opts["distribution"] or "").split("-", 1)[0]
    known = ", ".join(f"{name} {number}" for name, number in sorted(owners.items()))
    if family in owners and owner != owners[family]:
        return [_line(7, topic, f"image {image_id} ({image.get('name', '?')}) is owned by "
                                f"{owner}, not {family}'s {owners[family]}", host)]
    if owner not in owners.values():
        return [_line(7, topic, f"image {image_id} ({image.get('name', '?')}) is owned by "
                                f"{owner}, not an official publisher ({known})", host)]
    return []


def aws_findings(raw, host, options=None):
    """Findings about the host's EC2 instance and what surrounds it: items 2-7."""
    opts, raw = _options(options), raw or {}
    items, out = opts["items"], []
    instance = raw.get("instance")
    if not instance:
        if items & {2, 3, 4, 5, 6, 7}:
            out.append(_line(min(items & {2, 3, 4, 5, 6, 7}), "instance",
                             f"instance {raw.get('instance_id', '?')} was not found", host))
        return out
    groups = raw.get("security_groups") or []
    if items & {2, 3} and not groups:
        out.append(_line(3, "public ports", "no security group could be described", host))
    for group in groups:
        out += _group_findings(group, host, opts)
    if 4 in items:
        out += _metadata_findings(instance, host)
    if 5 in items:
        out += _root_volume_findings(instance, raw.get("volumes") or [], host)
    if 6 in items:
        out += _tag_findings(raw, instance, host, opts)
    if 7 in items:
        out += _ami_findings(raw, instance, host, opts)
    return out


class FilterModule:
    """security_check_host_findings, security_check_aws_findings."""

    def filters(self):
        return {
            "security_check_host_findings": host_findings,
            "security_check_aws_findings": aws_findings,
        }
