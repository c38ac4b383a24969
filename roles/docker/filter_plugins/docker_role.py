"""Filters of the docker role: OpenPGP key inspection, daemon.json checks, version pins.

Pure Python, no gpg needed: the role reads the fingerprints of a key *before* apt trusts it,
on the controller, also in check mode and on hosts without gnupg.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from ansible.errors import AnsibleFilterError

ARMOR_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
ARMOR_END = "-----END PGP PUBLIC KEY BLOCK-----"
TAG_SECRET_KEY = 5
TAG_PUBLIC_KEY = 6
TAG_SECRET_SUBKEY = 7
PRIVATE_KEY_REFUSED = "this is a SECRET key: never hand a private key to apt (or to this role)"
CRC24_INIT = 0xB704CE
CRC24_POLY = 0x1864CFB
# Where dockerd listens only on this machine; anything else (tcp://, or no scheme, which dockerd
# reads as tcp) is the network.
LOCAL_HOST_SCHEMES = ("unix://", "fd://")
TLS_FILES = ("tlscacert", "tlscert", "tlskey")


def _crc24(data: bytes) -> int:
    crc = CRC24_INIT
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= CRC24_POLY
    return crc & 0xFFFFFF


ARMOR_RE = re.compile(re.escape(ARMOR_BEGIN) + r"(.*?)" + re.escape(ARMOR_END), re.DOTALL)


def _dearmor_block(block: str) -> bytes:
    lines = [line.strip() for line in block.strip("\r\n").replace("\r\n", "\n").split("\n")]
    # Armour headers ("Comment: ...") come first and end at the first empty line.
    if "" in lines and all(": " in line for line in lines[: lines.index("")]):
        lines = lines[lines.index("") + 1 :]
    checksum = next((line[1:] for line in lines if line.startswith("=")), None)
    body = "".join(line for line in lines if line and not line.startswith("="))
    try:
        packets = base64.b64decode(body, validate=True)
        crc = None if checksum is None else int.from_bytes(base64.b64decode(checksum), "big")
    except (binascii.Error, ValueError) as err:
        raise AnsibleFilterError(f"OpenPGP armour: bad base64 ({err})") from err
    if crc is not None and _crc24(packets) != crc:
        raise AnsibleFilterError("OpenPGP armour: CRC24 checksum mismatch (damaged key file)")
    return packets


def _dearmor(text: str) -> bytes:
    """Concatenate the packets of every public key block in ASCII-armoured text."""
    if "-----BEGIN PGP PRIVATE KEY BLOCK-----" in text:
        raise AnsibleFilterError(PRIVATE_KEY_REFUSED)
    blocks = ARMOR_RE.findall(text)
    if not blocks:
        raise AnsibleFilterError(f"no complete '{ARMOR_BEGIN}' block: not an armoured public key")
    return b"".join(_dearmor_block(block) for block in blocks)


def _packets(data: bytes):
    """Yield (tag, body) for each OpenPGP packet (RFC 9580 section 4.2)."""
    pos = 0
    while pos < len(data):
        first = data[pos]
        pos += 1
        if not first & 0x80:
            raise AnsibleFilterError(f"not OpenPGP data (byte {pos - 1} is not a packet header)")
        if first & 0x40:  # new format
            tag = first & 0x3F
            if pos >= len(data):
                raise AnsibleFilterError("OpenPGP packet truncated")
            o1 = data[pos]
            if o1 < 192:
                length, pos = o1, pos + 1
            elif o1 < 224:
                length, pos = ((o1 - 192) << 8) + data[pos + 1] + 192, pos + 2
            elif o1 == 255:
                length, pos = int.from_bytes(data[pos + 1 : pos + 5], "big"), pos + 5
            else:
                raise AnsibleFilterError("OpenPGP partial body lengths are not valid in a key")
        else:  # old format
            tag = (first >> 2) & 0x0F
            size = {0: 1, 1: 2, 2: 4}.get(first & 0x03)
            if size is None:
                length = len(data) - pos
            else:
                length, pos = int.from_bytes(data[pos : pos + size], "big"), pos + size
        body = data[pos : pos + length]
        if len(body) != length:
            raise AnsibleFilterError("OpenPGP packet truncated")
        pos += length
        yield tag, body


def _fingerprint(body: bytes) -> str:
    version = body[0] if body else None
    if version == 4:
        return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()  # noqa: S324 (v4 fingerprints are SHA-1 by definition)
    if version == 6:
        return hashlib.sha256(b"\x9b" + len(body).to_bytes(4, "big") + body).hexdigest().upper()
    raise AnsibleFilterError(f"OpenPGP key version {version} is not supported (only v4 and v6)")


def _armor(packets: bytes) -> str:
    b64 = base64.b64encode(packets).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    crc = base64.b64encode(_crc24(packets).to_bytes(3, "big")).decode()
    return "\n".join([ARMOR_BEGIN, "", *lines, f"={crc}", ARMOR_END, ""])


def openpgp_key_info(data: str, encoding: str = "text") -> dict:
    """Describe an OpenPGP public key file.

    ``data`` is the file's text, or its base64 (``encoding='base64'``, as ``slurp`` returns
    it), armoured or binary. Returns ``fingerprints`` (of the primary keys, upper-case hex;
    subkeys are bound to them by signatures that apt checks itself), ``armored`` (the input
    was armoured) and ``armored_key``: exactly the parsed packets, ASCII-armoured in a canonical
    form (what the role installs, so apt trusts nothing that was not inspected). A file
    holding a secret key is refused.
    """
    raw = base64.b64decode(data) if encoding == "base64" else data.encode()
    armored = raw.lstrip().startswith(b"-----BEGIN ")
    packets = _dearmor(raw.decode("ascii", "replace")) if armored else raw
    fingerprints = []
    for tag, body in _packets(packets):
        if tag in (TAG_SECRET_KEY, TAG_SECRET_SUBKEY):
            raise AnsibleFilterError(PRIVATE_KEY_REFUSED)
        if tag == TAG_PUBLIC_KEY:
            fingerprints.append(_fingerprint(body))
    if not fingerprints:
        raise AnsibleFilterError("no OpenPGP public key found")
    return {"fingerprints": fingerprints, "armored": armored, "armored_key": _armor(packets)}


def openpgp_fingerprint_normalize(value: str) -> str:
    """'9DC8 5822 9FC7 ...', '0x9dc8...' and '9dc8:...' all become '9DC858229FC7...'."""
    text = re.sub(r"[\s:]", "", str(value)).upper()
    return text.removeprefix("0X")


def docker_daemon_tcp_problems(options: dict, allow_tcp: bool = False) -> list:
    """Why this daemon.json must not be written: the API on the network without mutual TLS.

    Returns a list of messages (empty when the configuration is acceptable).
    """
    if not isinstance(options, dict):
        return [f"docker_daemon_options must be a mapping, got {type(options).__name__}"]
    hosts = options.get("hosts", [])
    hosts = [hosts] if isinstance(hosts, str) else list(hosts or [])
    network = [h for h in hosts if not str(h).strip().lower().startswith(LOCAL_HOST_SCHEMES)]
    if not network:
        return []
    where = ", ".join(str(h) for h in network)
    if not allow_tcp:
        return [
            f"daemon.json 'hosts' would expose the Docker API on the network ({where}). "
            "The API is root on this host: reach it over SSH (DOCKER_HOST=ssh://...) instead, "
            "or set docker_daemon_allow_tcp: true together with tlsverify, tlscacert, tlscert "
            "and tlskey."
        ]
    missing = [k for k in TLS_FILES if not options.get(k)]
    if options.get("tlsverify") is not True:
        missing.insert(0, "tlsverify: true")
    if missing:
        return [
            f"daemon.json 'hosts' listens on the network ({where}) without mutual TLS: "
            f"missing {', '.join(missing)}."
        ]
    return []


def _version_key_boundary(version: str, wanted: str) -> bool:
    """True when ``version`` equals ``wanted`` or extends it at a component boundary."""
    if not version.startswith(wanted):
        return False
    rest = version[len(wanted) :]
    return not rest or not (rest[0].isdigit() and wanted[-1:].isdigit())


def docker_resolve_version(madison: str, wanted: str) -> str:
    """Pick the newest version from ``apt-cache madison`` output that matches ``wanted``.

    ``wanted`` is a full version ('5:27.3.1-1~debian.12~bookworm') or a prefix ('5:27.3',
    '27.3.1'; the epoch may be left out). '27.3' matches 27.3.x, never 27.30. Returns '' when
    nothing matches. madison lists the newest first.
    """
    wanted = str(wanted).strip()
    if not wanted:
        return ""
    for line in str(madison).splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2:
            continue
        version = parts[1]
        bare = version.split(":", 1)[1] if ":" in version else version
        if _version_key_boundary(version, wanted) or _version_key_boundary(bare, wanted):
            return version
    return ""


class FilterModule:
    """Filters for roles/docker."""

    def filters(self):
        return {
            "docker_openpgp_key_info": openpgp_key_info,
            "docker_openpgp_fingerprint_normalize": openpgp_fingerprint_normalize,
            "docker_daemon_tcp_problems": docker_daemon_tcp_problems,
            "docker_resolve_version": docker_resolve_version,
        }
