"""The netns lab's router as a customer's NAT router: masquerading, a SIP ALG, short UDP timeouts.

Built on the `netlab` fixture (lab/netns.py): the router masquerades what the customer sends
to the platform behind its platform-side address (10.231.2.1), as a home router does behind
its WAN address. All of it is rules and sysctls inside the router namespace, gone with it.

- SIP ALG: the kernel's SIP conntrack helper with its NAT part (nf_conntrack_sip and
  nf_nat_sip, built into this kernel; elsewhere `modprobe nf_conntrack_sip`), attached to
  UDP and TCP port 5060 by a `CT --helper sip` rule in the raw table. The helper looks at
  5060 only, so the platform's mirror listens there.
- UDP timeout: `nf_conntrack_udp_timeout` (a mapping that saw a reply within 2 s of its
  creation) and `nf_conntrack_udp_timeout_stream` (one still active after 2 s: every
  mapping the binding measurement refreshes) are per network namespace since Linux 4.x, so
  the router namespace sets both without touching the host.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from lab.netns import CUSTOMER_SUBNET, PLATFORM_SUBNET, Netlab

NAT_CHECK_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class NatCheckRun:
    returncode: int
    report: dict[str, Any]
    stderr: str
    wall_s: float

    def codes(self) -> list[str]:
        return [finding["code"] for finding in self.report["findings"]]


def _wan_device(lab: Netlab) -> str:
    token = lab.router.rsplit("-", 1)[1]
    return f"spr2-{token}"  # the router's platform-side veth (see lab.netns.build)


def masquerade(lab: Netlab) -> None:
    """NAT the customer's subnet behind the router's platform-side address."""
    rule = ["-s", CUSTOMER_SUBNET, "-o", _wan_device(lab), "-j", "MASQUERADE"]
    lab.run_in(lab.router, ["iptables", "-w", "-t", "nat", "-A", "POSTROUTING", *rule])


def attach_sip_alg(lab: Netlab) -> None:
    """The kernel's SIP helper (and so its NAT rewriting) on SIP to port 5060, UDP and TCP."""
    for protocol in ("udp", "tcp"):
        rule = ["-p", protocol, "-d", PLATFORM_SUBNET, "--dport", "5060"]
        helper = ["-j", "CT", "--helper", "sip"]
        lab.run_in(lab.router, ["iptables", "-w", "-t", "raw", "-A", "PREROUTING", *rule, *helper])


def set_udp_timeout(lab: Netlab, seconds: int) -> None:
    """The router forgets an idle UDP mapping after `seconds` (both conntrack UDP timeouts)."""
    for name in ("nf_conntrack_udp_timeout", "nf_conntrack_udp_timeout_stream"):
        lab.run_in(lab.router, ["sysctl", "-qw", f"net.netfilter.{name}={seconds}"])


def nat_check(lab: Netlab, uri: str, *args: str) -> NatCheckRun:
    """`sipprobe nat-check URI --format json ARGS` in the customer namespace."""
    argv = [
        *("ip", "netns", "exec", lab.customer, sys.executable, "-m", "sipprobe"),
        *("nat-check", uri, "--format", "json", *args),
    ]
    return _probe(argv, NatCheckRun)


def run_scenario(lab: Netlab, path: str) -> NatCheckRun:
    """`sipprobe run SCENARIO --format json --no-history` in the customer namespace."""
    argv = [
        *("ip", "netns", "exec", lab.customer, sys.executable, "-m", "sipprobe"),
        *("run", path, "--format", "json", "--no-history", "-q"),
    ]
    return _probe(argv, NatCheckRun)


def _probe(argv: list[str], kind: type[NatCheckRun]) -> NatCheckRun:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")}
    started = time.monotonic()
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=NAT_CHECK_TIMEOUT_S,
        env=environment,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout, f"no report (exit {result.returncode}): {result.stderr}"
    wall = time.monotonic() - started
    return kind(result.returncode, json.loads(result.stdout), result.stderr, wall)
