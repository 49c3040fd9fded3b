"""Fixture: a customer, a router and a platform as three network namespaces, with a real path.

    customer (the probe)           router (iptables)              platform (the responder)
    10.231.1.2/24 --- veth --- 10.231.1.1 | 10.231.2.1 --- veth --- 10.231.2.2/24

The customer and the platform route everything through the router, which forwards between
its two veths (ip_forward=1, no NAT). The subnets exist only inside these namespaces, so
nothing a test sends can leave them. Impairments are iptables rules in the router's FORWARD
chain (filter or mangle table), each preceded by a rule that only counts the same packets:
what reached the router and what the impairment did to it are exact kernel counters, the
truth a test compares the probe's report with.

RTP is told from RTCP and SIP by the platform's port: RTP uses an even port and RTCP the odd
port above it (RFC 3550), the SIP port is excluded by number. So a "downstream RTP" rule
matches UDP from the platform whose source port is even and not the SIP port, and leaves the
platform's RTCP receiver reports (the only evidence of the upstream direction) alone.

Each test gets fresh namespaces with unique names (no rule survives a test); the teardown
stops the processes the test started in them, by pid, then deletes the namespaces, which
takes their veths and rules with them. Setting up takes a fraction of a second.
"""

import itertools
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from lab.environment import lab_unavailable, require_lab
from lab.logs import attach_log
from lab.ports import wait_listening
from lab.probe import PROBE_TIMEOUT_S, ProbeRun
from lab.process import PeerProcess, read_tail, start_peer

CUSTOMER_SUBNET = "10.231.1.0/24"
PLATFORM_SUBNET = "10.231.2.0/24"
CUSTOMER_ADDRESS = "10.231.1.2"
CUSTOMER_GATEWAY = "10.231.1.1"
PLATFORM_ADDRESS = "10.231.2.2"
PLATFORM_GATEWAY = "10.231.2.1"
SIP_PORT = 5060  # free by construction: the platform namespace holds nothing else
COMMAND_TIMEOUT_S = 10.0
NETLAB_BINARIES = ("ip", "iptables", "tcpdump")  # iptables-save comes with iptables

Direction = Literal["upstream", "downstream"]
_DOWNSTREAM: Direction = "downstream"

# u32 match on the L4 header (its offset from the IP header length): the low bit of the
# source port (first 16 bits) or of the destination port (next 16 bits) is 0.
_EVEN_SOURCE_PORT = "0>>22&0x3C@0>>16&0x1=0"
_EVEN_DESTINATION_PORT = "0>>22&0x3C@0&0x1=0"
_SAVED_COUNTER = re.compile(r'^\[(\d+):\d+\] -A FORWARD .*--comment "?([\w-]+)"?(?: |$)')


class NetlabError(RuntimeError):
    """A command that builds or inspects the lab failed."""


def run_in(
    namespace: str, argv: list[str], *, check: bool = True, timeout: float = COMMAND_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """`argv` inside `namespace` (`ip netns exec`); raises NetlabError on failure with `check`."""
    return _run(["ip", "netns", "exec", namespace, *argv], check=check, timeout=timeout)


def _run(
    argv: list[str], *, check: bool = True, timeout: float = COMMAND_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise NetlabError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
    return result


@dataclass(frozen=True, slots=True)
class RtpCounter:
    """A rule on the router that only counts the RTP going one direction."""

    router: str
    table: str
    tag: str

    def seen(self) -> int:
        """RTP packets that reached the router so far."""
        return _counters(self.router, self.table)[f"{self.tag}-seen"]


@dataclass(frozen=True, slots=True)
class Impairment:
    """An iptables rule acting on RTP one direction, behind the counter of that RTP."""

    counter: RtpCounter

    def seen(self) -> int:
        """RTP packets that reached the router so far (before the impairment)."""
        return self.counter.seen()

    def hits(self) -> int:
        """Packets the impairment acted on so far (dropped or re-marked)."""
        return _counters(self.counter.router, self.counter.table)[self.counter.tag]


def _counters(router: str, table: str) -> dict[str, int]:
    """Packet counters of the router's tagged FORWARD rules in `table`, by comment."""
    saved = run_in(router, ["iptables-save", "-c", "-t", table]).stdout
    found = {}
    for line in saved.splitlines():
        match = _SAVED_COUNTER.match(line)
        if match:
            found[match.group(2)] = int(match.group(1))
    return found


@dataclass(frozen=True, slots=True)
class NetnsResponder:
    """sipprobe's responder running in the platform namespace."""

    host: str
    port: int
    log_path: Path
    process: PeerProcess

    def uri(self, user: str = "echo") -> str:
        return f"sip:{user}@{self.host}:{self.port}"


@dataclass
class Netlab:
    """Three namespaces and the helpers a test drives them with; built by the `netlab` fixture."""

    customer: str
    router: str
    platform: str
    workdir: Path
    node: pytest.Item
    _processes: list[PeerProcess] = field(default_factory=list)
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def run_in(
        self, namespace: str, argv: list[str], *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run_in(namespace, argv, check=check)

    def start_responder(self, mode: str = "echo", *extra: str) -> NetnsResponder:
        """`sipprobe responder` on the platform's address; returns once its SIP port is bound.

        `extra` goes on its command line (e.g. `--mirror`)."""
        directory = self._directory("responder")
        log = directory / "responder.log"
        attach_log(self.node, f"responder log ({directory.name}, netns {self.platform})", log)
        argv = [
            *("ip", "netns", "exec", self.platform, sys.executable, "-m", "sipprobe"),
            *("responder", "--listen", f"{PLATFORM_ADDRESS}:{SIP_PORT}", "--transports", "udp"),
            *("--mode", mode, *extra),
        ]
        process = start_peer("responder", argv, log, directory)
        self._processes.append(process)
        # `ip netns exec` execs the command, so the pid is the responder's and /proc/PID/net
        # is the platform namespace's socket table.
        wait_listening("udp", PLATFORM_ADDRESS, SIP_PORT, 15.0, process=process.popen)
        return NetnsResponder(PLATFORM_ADDRESS, SIP_PORT, log, process)

    def call(self, uri: str, duration_s: float, *args: str) -> ProbeRun:
        """`sipprobe call URI --duration D --format json ARGS` in the customer namespace."""
        directory = self._directory("probe")
        stdout_path, stderr_path = directory / "report.json", directory / "stderr.txt"
        attach_log(self.node, f"probe stderr ({directory.name})", stderr_path)
        argv = [
            *("ip", "netns", "exec", self.customer, sys.executable, "-m", "sipprobe", "call"),
            *(uri, "--duration", f"{duration_s:g}", "--format", "json", *args),
        ]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")}
        started = time.monotonic()
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            popen = subprocess.Popen(
                argv,
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                env=environment,
                start_new_session=True,  # its tcpdump is then stopped with it, by session id
            )
        process = PeerProcess("probe", popen, stderr_path)
        self._processes.append(process)
        try:
            popen.wait(timeout=duration_s + PROBE_TIMEOUT_S)
        finally:
            process.stop()
        wall = time.monotonic() - started
        stderr_text = read_tail(stderr_path)
        assert "Traceback" not in stderr_text, stderr_text
        report = stdout_path.read_text()
        assert report, f"no report on stdout (exit {popen.returncode}): {stderr_text}"
        return ProbeRun(popen.returncode, json.loads(report), stderr_text, wall)

    def count_rtp(self, direction: Direction, table: str = "filter") -> RtpCounter:
        """Count the RTP going `direction` through the router, changing nothing."""
        tag = f"sp-{direction}-{next(self._numbers)}"
        self._rule(table, [*_rtp_match(direction), "-m", "comment", "--comment", f"{tag}-seen"])
        return RtpCounter(self.router, table, tag)

    def drop_random(self, direction: Direction, probability: float) -> Impairment:
        """Drop each RTP packet going `direction` with `probability` (statistic match)."""
        chance = ["-m", "statistic", "--mode", "random", "--probability", f"{probability}"]
        return self._impair("filter", direction, [*chance, "-j", "DROP"])

    def drop_rtp(self, direction: Direction) -> Impairment:
        """Drop every RTP packet going `direction`; RTCP and SIP still pass."""
        return self._impair("filter", direction, ["-j", "DROP"])

    def clear_dscp(self, direction: Direction) -> Impairment:
        """Re-mark RTP going `direction` with DSCP 0, as a bleaching customer router does."""
        return self._impair("mangle", direction, ["-j", "DSCP", "--set-dscp", "0"])

    def _impair(self, table: str, direction: Direction, action: list[str]) -> Impairment:
        counter = self.count_rtp(direction, table)
        comment = ["-m", "comment", "--comment", counter.tag]
        self._rule(table, [*_rtp_match(direction), *comment, *action])
        return Impairment(counter)

    def _rule(self, table: str, rule: list[str]) -> None:
        self.run_in(self.router, ["iptables", "-w", "-t", table, "-A", "FORWARD", *rule])

    def _directory(self, kind: str) -> Path:
        directory = self.workdir / f"{kind}-{next(self._numbers)}"
        directory.mkdir(parents=True)
        return directory

    def close(self) -> None:
        """Stop what the test started (by pid), then delete the namespaces."""
        teardown(self._processes, (self.customer, self.platform, self.router))


def teardown(processes: list[PeerProcess], namespaces: Iterable[str]) -> None:
    """Stop ``processes`` by pid, last started first, then delete ``namespaces`` (which takes
    their veths and rules with them); one ``NetlabError`` names whatever could not be undone.
    A namespace that was never made is not an error."""
    errors = []
    for process in reversed(processes):
        try:
            process.stop()
        except RuntimeError as exc:
            errors.append(str(exc))
    for namespace in namespaces:
        result = _run(["ip", "netns", "delete", namespace], check=False)
        if result.returncode != 0 and namespace in _namespaces():
            errors.append(f"ip netns delete {namespace}: {result.stderr.strip()}")
    if errors:
        raise NetlabError("; ".join(errors))


def _rtp_match(direction: Direction) -> list[str]:
    """iptables match for RTP going `direction`, told apart by the platform's even port."""
    if direction == _DOWNSTREAM:
        addresses = ["-s", PLATFORM_SUBNET, "-d", CUSTOMER_SUBNET]
        ports = ["!", "--sport", str(SIP_PORT), "-m", "u32", "--u32", _EVEN_SOURCE_PORT]
    else:
        addresses = ["-s", CUSTOMER_SUBNET, "-d", PLATFORM_SUBNET]
        ports = ["!", "--dport", str(SIP_PORT), "-m", "u32", "--u32", _EVEN_DESTINATION_PORT]
    return [*addresses, "-p", "udp", *ports]


def _namespaces() -> set[str]:
    listing = _run(["ip", "-j", "netns", "list"], check=False).stdout
    return {entry["name"] for entry in json.loads(listing or "[]")}


def _link(namespace: str, name: str, peer_namespace: str, peer: str) -> None:
    veth = ["type", "veth", "peer", "name", peer, "netns", peer_namespace]
    _run(["ip", "link", "add", name, "netns", namespace, *veth])


def _address(namespace: str, device: str, cidr: str) -> None:
    _run(["ip", "-n", namespace, "address", "add", cidr, "dev", device])
    _run(["ip", "-n", namespace, "link", "set", device, "up"])


def build(lab: Netlab, token: str) -> None:
    """Create the namespaces, veths, addresses, routes and forwarding of `lab`."""
    for namespace in (lab.customer, lab.router, lab.platform):
        _run(["ip", "netns", "add", namespace])
        _run(["ip", "-n", namespace, "link", "set", "lo", "up"])
        # No IPv6 router solicitations or DAD on the veths: the capture holds only the test.
        run_in(namespace, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
        run_in(namespace, ["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"])
    # veth names: at most 15 characters, unique per lab.
    _link(lab.customer, f"spc-{token}", lab.router, f"spr1-{token}")
    _link(lab.platform, f"spp-{token}", lab.router, f"spr2-{token}")
    _address(lab.customer, f"spc-{token}", f"{CUSTOMER_ADDRESS}/24")
    _address(lab.router, f"spr1-{token}", f"{CUSTOMER_GATEWAY}/24")
    _address(lab.router, f"spr2-{token}", f"{PLATFORM_GATEWAY}/24")
    _address(lab.platform, f"spp-{token}", f"{PLATFORM_ADDRESS}/24")
    _run(["ip", "-n", lab.customer, "route", "add", "default", "via", CUSTOMER_GATEWAY])
    _run(["ip", "-n", lab.platform, "route", "add", "default", "via", PLATFORM_GATEWAY])
    run_in(lab.router, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])


def _require_namespaces(token: str) -> None:
    """Skip (fail in CI) when this machine cannot create network namespaces at all."""
    name = f"sp-check-{token}"
    result = _run(["ip", "netns", "add", name], check=False)
    if result.returncode == 0:
        _run(["ip", "netns", "delete", name])
        return
    lab_unavailable(f"lab test needs network namespaces: ip netns add: {result.stderr.strip()}")


@pytest.fixture
def netlab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Netlab]:
    """Fresh customer/router/platform namespaces (names `sp-{cust,rtr,plat}-<random>`)."""
    require_lab(*NETLAB_BINARIES, root=True)
    token = secrets.token_hex(4)
    _require_namespaces(token)
    lab = Netlab(
        customer=f"sp-cust-{token}",
        router=f"sp-rtr-{token}",
        platform=f"sp-plat-{token}",
        workdir=tmp_path / "netlab",
        node=request.node,
    )
    try:
        build(lab, token)
        yield lab
    finally:
        lab.close()
