"""What the lab needs from the machine, and what to do when it is missing.

Outside CI a missing piece skips the test with the reason; in CI (environment variable CI set
to anything but "", "0", "false" or "no") it fails the test, because CI must run every lab test.
"""

import os
import shutil
from pathlib import Path

import pytest

from lab.ports import ipv6_loopback_available

KAMAILIO_MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")
LAB_BINARIES = ("kamailio", "sipp", "openssl")
_DEBIAN_PACKAGE = {
    "kamailio": "kamailio",
    "sipp": "sip-tester",
    "openssl": "openssl",
    "tshark": "tshark",
    "ip": "iproute2",
    "nft": "nftables",
    "chromium": "chromium",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "baresip": "baresip",
    "rtpengine": "rtpengine-daemon",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_requirements(binaries: tuple[str, ...], *, root: bool, ipv6: bool) -> list[str]:
    """Human-readable names of what is missing, empty when everything is there."""
    missing = [
        f"{name} (Debian package {_DEBIAN_PACKAGE.get(name, name)})"
        for name in binaries
        if shutil.which(name) is None
    ]
    if "kamailio" in binaries:
        missing += [
            f"{KAMAILIO_MODULES / module} (Debian package {package})"
            for module, package in (("tm.so", "kamailio"), ("tls.so", "kamailio-tls-modules"))
            if not (KAMAILIO_MODULES / module).is_file()
        ]
    if root and os.geteuid() != 0:
        missing.append("root (euid 0)")
    if ipv6 and not ipv6_loopback_available():
        missing.append("IPv6 on the loopback (::1)")
    return missing


def require_lab(*binaries: str, root: bool = False, ipv6: bool = False) -> None:
    """Skip outside CI, or fail in CI, unless the lab can run on this machine.

    Checks `binaries` (default: all lab binaries), and root and an IPv6 loopback if asked to.
    """
    missing = missing_requirements(binaries or LAB_BINARIES, root=root, ipv6=ipv6)
    if not missing:
        return
    lab_unavailable("lab test needs " + ", ".join(missing))


def lab_unavailable(message: str) -> None:
    """Skip outside CI; in CI fail, since CI must run every lab test."""
    if in_ci():
        pytest.fail(message + " (CI must run every lab test)", pytrace=False)
    pytest.skip(message)
