"""The fault-matrix lab: a customer site, its internet access and the platform as namespaces.

    lan ---- veth1 ---- link ---- veth2 ---- router ---- veth3 ---- isp ---- veth4 ---- platform
    probe A             (the LAN)             (NAT)                 |
    10.S.1.2       10.S.1.1  10.S.2.2   10.S.2.1  10.S.3.2   10.S.3.1  10.S.4.1   10.S.4.2
                                                                     | 10.S.5.1
                                                                   veth5
                                                                     | 10.S.5.2
                                                                   outside (probe B)

Every address is 10.232.(8*slot + k).h (written 10.S.k.h above), with k the number of the
veth link (1 the LAN, 2 the router's LAN port, 3 the customer's access line, 4 the
platform's, 5 the outside probe's), so labs running in parallel (one slot each) have
subnets of their own.

- `lan` holds probe A (location customer-lan); its default route is the LAN.
- `link` is the customer's LAN between the probe and the router (cabling, switch, Wi-Fi):
  a routed hop of its own, so that a fault "on the LAN" is a rule in a namespace that is
  neither the probe's (whose capture sees a packet before its own netfilter drops it) nor
  the router's.
- `router` masquerades the LAN behind 10.S.3.2 (the customer's public address); the SIP ALG
  and short UDP timeouts are switched on here per cell.
- `isp` routes between the customer's access line (veth3), the platform (veth4) and the
  outside probe (veth5); it knows no private customer subnet, as the internet does not.
  Faults "on the internet" act on veth3 only, so probe B's path (outside-isp-platform) never
  crosses them.
- `platform` holds the platform peer on 10.S.4.2:5060: sipprobe's responder (echo), SIPp
  (503, silent) or Kamailio (digest authentication) in front of a responder on port 5070.
- `outside` holds probe B (location internet).

RTP is told from RTCP and SIP by the platform's port (even, not 5060), as in lab/netns.py:
"downstream" is RTP from the platform towards a probe, "upstream" is RTP to the platform.

Each fault injector below is one small function: which rule, in which namespace, on which
link. Everything lives in namespaces the lab created; `FaultLab.close` stops the processes
the lab started (by pid) and deletes the namespaces, which takes every veth, TUN device,
rule and sysctl with them.
"""

import contextlib
import functools
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lab.environment import lab_unavailable
from lab.kamailio import Kamailio, KamailioOptions, render_config
from lab.netns import NetlabError, run_in, teardown
from lab.ports import wait_listening
from lab.process import PeerProcess, read_tail, start_peer

Segment = Literal["platform", "internet", "router", "lan"]
Vantage = Literal["lan", "outside"]
Direction = Literal["upstream", "downstream"]

SEGMENTS: tuple[Segment, ...] = ("platform", "internet", "router", "lan")
LOCATION: dict[Vantage, str] = {"lan": "customer-lan", "outside": "internet"}
SIP_PORT = 5060
UAS_PORT = 5070  # the responder behind Kamailio, in the credentials cell
SIPP_DIR = Path(__file__).with_name("sipp")
RELAY_SCRIPT = Path(__file__).with_name("delayrelay.py")
PROBE_TIMEOUT_S = 90.0
PEER_START_S = 15.0
LOSS_PROBABILITY = 0.10
RELAY_MAX_DELAY_MS = 80
RELAY_LIFETIME_S = 120
SHORT_UDP_TIMEOUT_S = 4
RELAY_MARK = "0x5d"
RELAY_TABLE = "93"
KAMAILIO_USER = "alice"
KAMAILIO_PASSWORD = "right-password"
WRONG_PASSWORD = "wrong-password"
PASSWORD_ENV = "FAULTLAB_PASSWORD"

# u32 on the L4 header: the low bit of the source / destination port is 0 (an RTP port).
_EVEN_SOURCE_PORT = "0>>22&0x3C@0>>16&0x1=0"
_EVEN_DESTINATION_PORT = "0>>22&0x3C@0&0x1=0"
_ROLES = ("lan", "link", "router", "isp", "platform", "outside")
_LINKS = {1: ("lan", "link"), 2: ("link", "router"), 3: ("router", "isp")}
_LINKS |= {4: ("isp", "platform"), 5: ("isp", "outside")}
_MAX_SLOTS = 31


def _run(argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    if check and result.returncode != 0:
        raise NetlabError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
    return result


@dataclass(frozen=True, slots=True)
class AddressPlan:
    """The addresses of lab `slot`: 10.232.(8*slot + link).host."""

    slot: int

    def address(self, link: int, host: int) -> str:
        return f"10.232.{8 * self.slot + link}.{host}"

    def subnet(self, link: int) -> str:
        return f"10.232.{8 * self.slot + link}.0/24"

    @property
    def probe_a(self) -> str:
        return self.address(1, 2)

    @property
    def public(self) -> str:
        """The router's address on the customer's access line: the customer's public IP."""
        return self.address(3, 2)

    @property
    def platform(self) -> str:
        return self.address(4, 2)

    @property
    def probe_b(self) -> str:
        return self.address(5, 2)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One `sipprobe run --format json` in a namespace."""

    vantage: str
    returncode: int | None
    report: dict[str, Any] | None
    stderr: str
    wall_s: float
    path: Path  # where the report's JSON was written


@dataclass(frozen=True, slots=True)
class LocalizeResult:
    """`sipprobe localize A B --format json`."""

    returncode: int
    report: dict[str, Any] | None
    stderr: str


@dataclass
class FaultLab:
    """One instance of the topology; build with `open_lab`."""

    plan: AddressPlan
    token: str
    workdir: Path
    processes: list[PeerProcess] = field(default_factory=list)
    _count: int = 0

    def ns(self, role: str) -> str:
        return f"fl{self.token}-{role}"

    def dev(self, link: int, role: str) -> str:
        """The veth of link `link` inside namespace `role` (15 characters at most)."""
        first, _second = _LINKS[link]
        return f"fl{self.token}{link}{'a' if role == first else 'b'}"

    def run_in(self, role: str, argv: list[str]) -> None:
        run_in(self.ns(role), argv)

    def iptables(self, role: str, table: str, *rule: str) -> None:
        self.run_in(role, ["iptables", "-w", "-t", table, *rule])

    def directory(self, kind: str) -> Path:
        self._count += 1
        path = self.workdir / f"{self._count:02d}-{kind}"
        path.mkdir(parents=True)
        return path

    # -- platform peers ---------------------------------------------------------------------

    def start_responder(self, port: int = SIP_PORT, *extra: str) -> PeerProcess:
        """`sipprobe responder --mode echo` on the platform address (UDP)."""
        directory = self.directory("responder")
        argv = [
            *("ip", "netns", "exec", self.ns("platform"), sys.executable, "-m", "sipprobe"),
            *("responder", "--listen", f"{self.plan.platform}:{port}", "--transports", "udp"),
            *("--mode", "echo", *extra),
        ]
        return self._start("responder", argv, directory / "responder.log", directory, port)

    def start_sipp(self, kind: Literal["unavailable", "mute"]) -> PeerProcess:
        """SIPp with tests/lab/sipp/`kind`.xml on the platform address, UDP port 5060."""
        directory = self.directory(f"sipp-{kind}")
        host = self.plan.platform
        argv = [
            "ip", "netns", "exec", self.ns("platform"),
            "sipp", "-sf", str(SIPP_DIR / f"{kind}.xml"), "-nostdin", "-t", "u1",
            "-i", host, "-p", str(SIP_PORT), "-bind_local", "-mi", host, "-mp", "16000",
            "-ci", "127.0.0.1", "-cp", "8888", "-m", "10000",
            "-trace_msg", "-message_file", str(directory / "messages.log"),
            "-trace_err", "-error_file", str(directory / "errors.log"),
        ]  # fmt: skip
        return self._start(f"sipp {kind}", argv, directory / "screen.log", directory, SIP_PORT)

    def start_kamailio(self) -> PeerProcess:
        """Kamailio (tests/lab/kamailio/lab.cfg) on 10.S.4.2:5060 with digest auth for `alice`.

        REGISTER with a wrong password gets a fresh 401 (Kamailio's default); INVITEs to
        user `uas` are relayed to a responder on port 5070 (started here too). The config is
        lab.cfg as tests/lab/kamailio.py renders it, with its listen lines moved from the
        loopback to the platform address and TLS left out (the cell needs UDP only)."""
        self.start_responder(UAS_PORT)
        directory = self.directory("kamailio")
        host = self.plan.platform
        kamailio = Kamailio(
            host=host, udp_port=SIP_PORT, tcp_port=SIP_PORT, tls_port=5061, udp6_port=None,
            ca_file=directory / "unused", domain=host, user=KAMAILIO_USER,
            password=KAMAILIO_PASSWORD, log_path=directory / "kamailio.log",
            config_path=directory / "kamailio.cfg",
        )  # fmt: skip
        options = KamailioOptions(
            user=KAMAILIO_USER, password=KAMAILIO_PASSWORD, domain=host, uas=(host, UAS_PORT)
        )
        config = render_config(options, kamailio, directory / "tls.cfg")
        lines = []
        for line in config.splitlines():
            if "tls" in line.lower() and not line.startswith("#"):
                continue  # enable_tls, listen=tls:, loadmodule tls.so, modparam("tls", ...)
            lines.append(line.replace("127.0.0.1", host) if line.startswith("listen=") else line)
        kamailio.config_path.write_text("\n".join(lines) + "\n")
        argv = [
            "ip", "netns", "exec", self.ns("platform"),
            "kamailio", "-f", str(kamailio.config_path), "-DD", "-E",
            "-w", str(directory), "-Y", str(directory), "-P", str(directory / "kamailio.pid"),
            "-n", "1", "-N", "1", "-m", "64", "-M", "8",
        ]  # fmt: skip
        return self._start("kamailio", argv, kamailio.log_path, directory, SIP_PORT)

    def _start(
        self, name: str, argv: list[str], log: Path, directory: Path, port: int
    ) -> PeerProcess:
        process = start_peer(name, argv, log, directory)
        self.processes.append(process)
        try:
            # `ip netns exec` execs the peer: its pid reads the platform's socket table.
            wait_listening("udp", self.plan.platform, port, PEER_START_S, process=process.popen)
        except Exception as exc:
            raise NetlabError(f"{name} did not start ({exc}); its log:\n{read_tail(log)}") from exc
        return process

    # -- probes -----------------------------------------------------------------------------

    def run_probes(
        self, runs: list[tuple[Vantage, str]], env: dict[str, str] | None = None
    ) -> list[ProbeResult]:
        """`sipprobe run SCENARIO --format json` from each (vantage, scenario text), at once.

        Probe A runs in `lan` with location customer-lan, probe B in `outside` with location
        internet (`--location`, when this sipprobe has it). Returns when all have ended (each
        bounded by PROBE_TIMEOUT_S, then stopped by its pid)."""
        started = []
        for vantage, scenario in runs:
            directory = self.directory(f"probe-{vantage}")
            (directory / "scenario.yaml").write_text(scenario)
            argv = [
                *("ip", "netns", "exec", self.ns(vantage), sys.executable, "-m", "sipprobe"),
                *("run", str(directory / "scenario.yaml"), "--format", "json"),
                *("--no-history", "-q"),
            ]
            if supports_location():
                argv += ["--location", LOCATION[vantage]]
            environment = {k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")}
            environment.update(env or {})
            report_path, stderr_path = directory / "report.json", directory / "stderr.txt"
            with report_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
                popen = subprocess.Popen(
                    argv,
                    cwd=directory,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    env=environment,
                    start_new_session=True,  # its tcpdump is stopped with it, by session id
                )
            process = PeerProcess(f"probe {vantage}", popen, stderr_path)
            self.processes.append(process)
            started.append((vantage, process, report_path, time.monotonic()))
        results = []
        for vantage, process, report_path, begun in started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=max(1.0, begun + PROBE_TIMEOUT_S - time.monotonic()))
            timed_out = process.popen.poll() is None
            process.stop()
            text = report_path.read_text()
            try:
                report = json.loads(text) if text.strip() else None
            except json.JSONDecodeError:
                report = None
            errors = read_tail(process.log_path, 4000)
            if timed_out:
                errors = f"(stopped after {PROBE_TIMEOUT_S:g} s) {errors}"
            wall = time.monotonic() - begun
            code = None if timed_out else process.popen.returncode
            results.append(ProbeResult(vantage, code, report, errors, wall, report_path))
        return results

    # -- teardown ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop what the lab started (by pid, last first), then delete its namespaces."""
        teardown(self.processes, [self.ns(role) for role in _ROLES])


def require_namespaces() -> None:
    """Skip (fail in CI) when this machine cannot create network namespaces at all."""
    name = f"fl-check-{os.getpid()}-{secrets.token_hex(2)}"
    result = _run(["ip", "netns", "add", name], check=False)
    if result.returncode != 0:
        lab_unavailable(f"lab test needs network namespaces: ip netns add: {result.stderr.strip()}")
    _run(["ip", "netns", "delete", name])
    if not Path("/dev/net/tun").exists():
        lab_unavailable("lab test needs /dev/net/tun (the delay relay's TUN device)")


def build(lab: FaultLab) -> None:
    """Namespaces, veths, addresses, routes, forwarding and the router's masquerade."""
    plan = lab.plan
    for role in _ROLES:
        _run(["ip", "netns", "add", lab.ns(role)])
        _run(["ip", "-n", lab.ns(role), "link", "set", "lo", "up"])
        for setting in (
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
        ):
            lab.run_in(role, ["sysctl", "-qw", setting])
        # Forwarding everywhere: also the probes' and the platform's namespaces, where the
        # delay relay's TUN device hands packets back to be routed on.
        lab.run_in(role, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
    for link, (first, second) in _LINKS.items():
        peer = ["type", "veth", "peer", "name", lab.dev(link, second), "netns", lab.ns(second)]
        _run(["ip", "link", "add", lab.dev(link, first), "netns", lab.ns(first), *peer])
    addresses = {
        "lan": [(1, 2)],
        "link": [(1, 1), (2, 2)],
        "router": [(2, 1), (3, 2)],
        "isp": [(3, 1), (4, 1), (5, 1)],
        "platform": [(4, 2)],
        "outside": [(5, 2)],
    }
    for role, entries in addresses.items():
        for link, host in entries:
            device = lab.dev(link, role)
            _run(["ip", "-n", lab.ns(role), "address", "add", f"{plan.address(link, host)}/24",
                  "dev", device])  # fmt: skip
            _run(["ip", "-n", lab.ns(role), "link", "set", device, "up"])
    routes = {
        "lan": ["default", "via", plan.address(1, 1)],
        "link": ["default", "via", plan.address(2, 1)],
        "router": ["default", "via", plan.address(3, 1)],
        "platform": ["default", "via", plan.address(4, 1)],
        "outside": ["default", "via", plan.address(5, 1)],
    }
    for role, route in routes.items():
        _run(["ip", "-n", lab.ns(role), "route", "add", *route])
    _run(["ip", "-n", lab.ns("router"), "route", "add", plan.subnet(1), "via", plan.address(2, 2)])
    lab.iptables("router", "nat", "-A", "POSTROUTING", "-s", plan.subnet(1),
                 "-o", lab.dev(3, "router"), "-j", "MASQUERADE")  # fmt: skip


@contextlib.contextmanager
def open_lab(slot: int, workdir: Path) -> Iterator[FaultLab]:
    """A fresh lab in address slot `slot` (0-30); stopped and deleted on exit, also on error."""
    if not 0 <= slot < _MAX_SLOTS:
        raise ValueError(f"slot {slot} out of 0..{_MAX_SLOTS - 1}")
    lab = FaultLab(AddressPlan(slot), secrets.token_hex(3), workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        build(lab)
        yield lab
    finally:
        lab.close()


# -- fault injectors ------------------------------------------------------------------------
#
# Where a fault on a segment acts (namespace, chain, link):
#   platform  `platform` namespace, OUTPUT (downstream: the platform's own packets leaving
#             on veth4) or INPUT (upstream: arriving on veth4): both probes are affected.
#   internet  `isp` namespace, FORWARD, only packets out of (downstream) or in from
#             (upstream) veth3, the customer's access line: probe B is never affected.
#   router    `router` namespace, FORWARD (veth3 -> veth2 downstream, veth2 -> veth3 up).
#   lan       `link` namespace, FORWARD, out of (downstream) or in from (upstream) veth1.


def _where(lab: FaultLab, segment: Segment, direction: Direction) -> tuple[str, list[str]]:
    """(namespace role, chain and interface match) for `segment` and `direction`."""
    down = direction == "downstream"
    if segment == "platform":
        dev = lab.dev(4, "platform")
        return "platform", ["OUTPUT", "-o", dev] if down else ["INPUT", "-i", dev]
    if segment == "internet":
        dev = lab.dev(3, "isp")
        return "isp", ["FORWARD", "-o" if down else "-i", dev]
    if segment == "router":
        wan, lan = lab.dev(3, "router"), lab.dev(2, "router")
        return "router", ["FORWARD", "-i", wan, "-o", lan] if down else ["FORWARD", "-i", lan,
                                                                          "-o", wan]  # fmt: skip
    dev = lab.dev(1, "link")
    return "link", ["FORWARD", "-o" if down else "-i", dev]


def rtp_match(lab: FaultLab, direction: Direction) -> list[str]:
    """RTP to or from the platform: UDP on an even platform port other than SIP's."""
    platform = lab.plan.platform
    if direction == "downstream":
        return ["-p", "udp", "-s", platform, "!", "--sport", str(SIP_PORT),
                "-m", "u32", "--u32", _EVEN_SOURCE_PORT]  # fmt: skip
    return ["-p", "udp", "-d", platform, "!", "--dport", str(SIP_PORT),
            "-m", "u32", "--u32", _EVEN_DESTINATION_PORT]  # fmt: skip


def _rtp_rule(
    lab: FaultLab, segment: Segment, direction: Direction, table: str, action: list[str]
) -> None:
    role, chain = _where(lab, segment, direction)
    lab.iptables(role, table, "-A", *chain, *rtp_match(lab, direction), *action)


def rtp_loss(lab: FaultLab, segment: Segment, direction: Direction) -> None:
    """Drop each RTP packet going `direction` with probability 0.10 (iptables `statistic`,
    filter table, in the segment's namespace and chain)."""
    chance = ["-m", "statistic", "--mode", "random", "--probability", f"{LOSS_PROBABILITY}"]
    _rtp_rule(lab, segment, direction, "filter", [*chance, "-j", "DROP"])


def one_way_rtp(lab: FaultLab, segment: Segment) -> None:
    """Drop all downstream RTP (platform -> probe); RTCP and SIP pass: one-way audio."""
    _rtp_rule(lab, segment, "downstream", "filter", ["-j", "DROP"])


def dscp_remark(lab: FaultLab, segment: Segment) -> None:
    """Re-mark downstream RTP from EF (46, what the responder sends) to 0 (mangle `DSCP`)."""
    _rtp_rule(lab, segment, "downstream", "mangle", ["-j", "DSCP", "--set-dscp", "0"])


def sip_blocked(lab: FaultLab, segment: Segment) -> None:
    """Drop every UDP packet to the platform's SIP port (filter, the segment's upstream
    chain): requests never arrive, nothing is answered."""
    role, chain = _where(lab, segment, "upstream")
    match = ["-p", "udp", "-d", lab.plan.platform, "--dport", str(SIP_PORT)]
    lab.iptables(role, "filter", "-A", *chain, *match, "-j", "DROP")


def delay_variation(lab: FaultLab, segment: Segment) -> PeerProcess:
    """Downstream RTP through the delay relay (delayrelay.py): each packet 0-80 ms late.

    In the segment's namespace: a TUN device `fl<token>dly`, an iptables MARK on downstream
    RTP (mangle OUTPUT on the platform, where the responder's own packets start; mangle
    PREROUTING from the upstream link elsewhere), `ip rule fwmark 0x5d lookup 93` and
    `default dev <tun> table 93`: marked packets go into the TUN device, the relay writes
    them back after the delay and they are routed on unmarked. They come back untracked
    (raw `CT --notrack`), so the router's NAT state is not confused by seeing a packet it
    already translated a second time; the platform accepts them with its own source
    address on the TUN device (accept_local)."""
    role = {"platform": "platform", "internet": "isp", "router": "router", "lan": "link"}[segment]
    tun = f"fl{lab.token}dly"
    lab.run_in(role, ["ip", "tuntap", "add", "dev", tun, "mode", "tun"])
    lab.run_in(role, ["sysctl", "-qw", f"net.ipv4.conf.{tun}.accept_local=1"])
    lab.run_in(role, ["sysctl", "-qw", f"net.ipv4.conf.{tun}.rp_filter=0"])
    lab.run_in(role, ["ip", "link", "set", tun, "up"])
    directory = lab.directory("delay-relay")
    argv = [
        "ip", "netns", "exec", lab.ns(role), sys.executable, str(RELAY_SCRIPT),
        "--tun", tun, "--max-delay-ms", str(RELAY_MAX_DELAY_MS),
        "--lifetime-s", str(RELAY_LIFETIME_S),
    ]  # fmt: skip
    log = directory / "relay.log"
    relay = start_peer("delay relay", argv, log, directory)
    lab.processes.append(relay)
    deadline = time.monotonic() + PEER_START_S
    while "ready" not in read_tail(log):
        if relay.popen.poll() is not None or time.monotonic() > deadline:
            raise NetlabError(f"delay relay did not start: {read_tail(log)}")
        time.sleep(0.05)
    lab.run_in(role, ["ip", "route", "add", "default", "dev", tun, "table", RELAY_TABLE])
    lab.run_in(role, ["ip", "rule", "add", "fwmark", RELAY_MARK, "lookup", RELAY_TABLE])
    lab.iptables(role, "raw", "-A", "PREROUTING", "-i", tun, "-j", "CT", "--notrack")
    mark = ["-j", "MARK", "--set-mark", RELAY_MARK]
    if segment == "platform":
        chain = ["OUTPUT", "-o", lab.dev(4, "platform")]
    else:
        upstream_link = {"internet": (4, "isp"), "router": (3, "router"), "lan": (2, "link")}
        chain = ["PREROUTING", "-i", lab.dev(*upstream_link[segment])]
        if segment == "internet":  # towards the customer only, never to probe B
            chain += ["-d", lab.plan.public]
    lab.iptables(role, "mangle", "-A", *chain, *rtp_match(lab, "downstream"), *mark)
    return relay


def sip_alg(lab: FaultLab) -> None:
    """The router's SIP ALG: the kernel's SIP conntrack helper with its NAT part on UDP to
    the platform's port 5060 (raw PREROUTING `CT --helper sip` in `router`): it rewrites
    the private address in Via, Contact and the SDP of what the LAN sends."""
    match = ["-p", "udp", "-d", lab.plan.platform, "--dport", str(SIP_PORT)]
    lab.iptables("router", "raw", "-A", "PREROUTING", *match, "-j", "CT", "--helper", "sip")


def short_nat_binding(lab: FaultLab, seconds: int = SHORT_UDP_TIMEOUT_S) -> None:
    """The router forgets an idle UDP mapping after `seconds` (both conntrack UDP timeouts,
    per-namespace sysctls in `router`)."""
    for name in ("nf_conntrack_udp_timeout", "nf_conntrack_udp_timeout_stream"):
        lab.run_in("router", ["sysctl", "-qw", f"net.netfilter.{name}={seconds}"])


# -- sipprobe commands run on the host ------------------------------------------------------


@functools.cache
def supports_location() -> bool:
    """Whether this sipprobe's `run` takes `--location` (another engineer is adding it)."""
    result = subprocess.run(
        [sys.executable, "-m", "sipprobe", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return "--location" in result.stdout


def localize(paths: list[Path]) -> LocalizeResult:
    """`sipprobe localize PATH... --format json` (no namespace: it reads files only)."""
    result = subprocess.run(
        [sys.executable, "-m", "sipprobe", "localize", *map(str, paths), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")},
    )
    try:
        report = json.loads(result.stdout) if result.stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    return LocalizeResult(result.returncode, report, result.stderr[-2000:])
