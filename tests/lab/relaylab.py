"""A platform that relays media, in the namespace lab: Kamailio and rtpengine in the platform
namespace of lab/netns.py, the probe in the customer's, and a fault on the relay's own side.

    customer (probe a and b)      router             platform
    10.231.1.2  ------------------------------  10.231.2.2  Kamailio :5060, rtpengine side "a"
                                                10.231.2.3  rtpengine side "b"

rtpengine has two interfaces, one per leg (Kamailio's offer says `direction=a direction=b`),
so what the relay sends towards leg b leaves from 10.231.2.3 and a rule in the platform's
OUTPUT chain can impair that direction alone: a fault inside the platform, behind the
customer's access, which carries both legs. As in lab/netns.py, the impairment rule follows
a rule that only counts the same packets, and RTP is told from RTCP by its even port.
"""

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lab.kamailio import Kamailio, KamailioOptions, render_config
from lab.logs import attach_log
from lab.netns import _EVEN_SOURCE_PORT, CUSTOMER_SUBNET, PLATFORM_ADDRESS, SIP_PORT, Netlab
from lab.ports import LOOPBACK_V4, wait_listening
from lab.probe import PROBE_TIMEOUT_S, ProbeRun
from lab.process import PeerProcess, read_tail, start_peer
from lab.rtpengine import rtpengine_argv, wait_ng_ready

RELAY_B_ADDRESS = "10.231.2.3"  # the relay's side towards leg b, on the platform's veth
NG_PORT = 2223  # inside the platform namespace: nothing else is there
RTP_PORTS = (30000, 30099)
USERS = {"a": ("alice", "alice-password"), "b": ("bob", "bob-password")}
_SAVED_COUNTER = re.compile(r'^\[(\d+):\d+\] -A OUTPUT .*--comment "?([\w-]+)"?(?: |$)')


@dataclass(frozen=True, slots=True)
class RelayPlatform:
    kamailio_log: Path
    rtpengine_log: Path


def start_platform(lab: Netlab, processes: list[PeerProcess]) -> RelayPlatform:
    """rtpengine (sides a and b) and Kamailio relaying media through it, in the platform."""
    token = lab.platform.rsplit("-", 1)[1]
    lab.run_in(
        lab.platform, ["ip", "address", "add", f"{RELAY_B_ADDRESS}/24", "dev", f"spp-{token}"]
    )
    directory = lab.workdir / "rtpengine"
    directory.mkdir(parents=True)
    interfaces = (f"a/{PLATFORM_ADDRESS}", f"b/{RELAY_B_ADDRESS}")
    argv = [
        "ip",
        "netns",
        "exec",
        lab.platform,
        *rtpengine_argv(directory, interfaces, NG_PORT, *RTP_PORTS),
    ]
    rtpengine_log = directory / "rtpengine.log"
    attach_log(lab.node, "rtpengine log (platform namespace)", rtpengine_log)
    rtpengine = start_peer("rtpengine", argv, rtpengine_log, directory)
    processes.append(rtpengine)
    # `ip netns exec` execs rtpengine: its pid reads the platform's socket table.
    wait_ng_ready(rtpengine, lambda: _bound(rtpengine))
    kamailio_log = _start_kamailio(lab, processes)
    return RelayPlatform(kamailio_log, rtpengine_log)


def _bound(process: PeerProcess) -> bool:
    try:
        wait_listening("udp", LOOPBACK_V4, NG_PORT, 0.2, process=process.popen)
    except Exception:  # noqa: BLE001 - not yet, or exited: the caller looks at which
        return False
    return True


def _start_kamailio(lab: Netlab, processes: list[PeerProcess]) -> Path:
    """lab.cfg on the platform's address, TLS left out (UDP only), media through rtpengine."""
    directory = lab.workdir / "kamailio"
    directory.mkdir(parents=True)
    (user, password), (user_b, password_b) = USERS["a"], USERS["b"]
    kamailio = Kamailio(
        host=PLATFORM_ADDRESS, udp_port=SIP_PORT, tcp_port=SIP_PORT, tls_port=5061,
        udp6_port=None, ca_file=directory / "unused", domain=PLATFORM_ADDRESS, user=user,
        password=password, log_path=directory / "kamailio.log",
        config_path=directory / "kamailio.cfg", user_b=user_b, password_b=password_b,
    )  # fmt: skip
    options = KamailioOptions(
        user=user, password=password, domain=PLATFORM_ADDRESS, user_b=user_b,
        password_b=password_b, rtpengine=f"udp:{LOOPBACK_V4}:{NG_PORT}",
        rtpengine_directions=("a", "b"),
    )  # fmt: skip
    lines = []
    for line in render_config(options, kamailio, directory / "tls.cfg").splitlines():
        if "tls" in line.lower() and not line.startswith("#"):
            continue  # enable_tls, listen=tls:, loadmodule tls.so, modparam("tls", ...)
        lines.append(
            line.replace(LOOPBACK_V4, PLATFORM_ADDRESS) if line.startswith("listen=") else line
        )
    kamailio.config_path.write_text("\n".join(lines) + "\n")
    attach_log(lab.node, "kamailio log (platform namespace)", kamailio.log_path)
    argv = [
        "ip", "netns", "exec", lab.platform,
        "kamailio", "-f", str(kamailio.config_path), "-DD", "-E",
        "-w", str(directory), "-Y", str(directory), "-P", str(directory / "kamailio.pid"),
        "-n", "1", "-N", "1", "-m", "64", "-M", "8",
    ]  # fmt: skip
    process = start_peer("kamailio", argv, kamailio.log_path, directory)
    processes.append(process)
    wait_listening("udp", PLATFORM_ADDRESS, SIP_PORT, 15.0, process=process.popen)
    return kamailio.log_path


def scenario(duration_s: float) -> str:
    (user, _), (user_b, _) = USERS["a"], USERS["b"]
    return (
        f"name: relay-fault\nservice: hosted-pbx\n"
        f"target: sip:{PLATFORM_ADDRESS}:{SIP_PORT};transport=udp\n"
        "accounts:\n"
        f"  a: {{user: {user}, domain: {PLATFORM_ADDRESS}, password_env: PASSWORD_A}}\n"
        f"  b: {{user: {user_b}, domain: {PLATFORM_ADDRESS}, password_env: PASSWORD_B}}\n"
        "steps:\n"
        "  - register: {account: a, expires_s: 120, timeout_s: 5}\n"
        "  - register: {account: b, expires_s: 120, timeout_s: 5}\n"
        f"  - call: {{from: a, to: b, duration_s: {duration_s}, answer_timeout_s: 10}}\n"
    )


def drop_towards_b(lab: Netlab, every: int) -> None:
    """Drop every `every`th RTP packet the relay sends towards leg b (statistic, nth mode),
    from the 11th on (the first is the stream's start, which no sequence count can miss),
    after a rule that counts them all; RTCP (odd ports) passes."""
    match = ["-s", RELAY_B_ADDRESS, "-d", CUSTOMER_SUBNET, "-p", "udp"]
    match += ["-m", "u32", "--u32", _EVEN_SOURCE_PORT]
    nth = ["-m", "statistic", "--mode", "nth", "--every", str(every), "--packet", "10"]
    for tag, action in (("relay-b-seen", []), ("relay-b-dropped", [*nth, "-j", "DROP"])):
        rule = [*match, "-m", "comment", "--comment", tag, *action]
        lab.run_in(lab.platform, ["iptables", "-w", "-A", "OUTPUT", *rule])


def counters(lab: Netlab) -> dict[str, int]:
    """Packets each counting rule of the platform's OUTPUT chain matched, by its comment."""
    saved = lab.run_in(lab.platform, ["iptables-save", "-c", "-t", "filter"]).stdout
    return {
        match[2]: int(match[1])
        for match in (_SAVED_COUNTER.match(line) for line in saved.splitlines())
        if match
    }


def run_two_leg_call(lab: Netlab, processes: list[PeerProcess], duration_s: float) -> ProbeRun:
    """`sipprobe run` of a two-leg call from the customer namespace, its report read back."""
    directory = lab.workdir / "probe"
    directory.mkdir(parents=True)
    (directory / "scenario.yaml").write_text(scenario(duration_s))
    stdout_path, stderr_path = directory / "report.json", directory / "stderr.txt"
    attach_log(lab.node, "probe stderr", stderr_path)
    argv = [
        "ip", "netns", "exec", lab.customer, sys.executable, "-m", "sipprobe", "run",
        str(directory / "scenario.yaml"), "--format", "json",
    ]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")}
    environment |= {"PASSWORD_A": USERS["a"][1], "PASSWORD_B": USERS["b"][1]}
    started = time.monotonic()
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        popen = subprocess.Popen(
            argv, cwd=directory, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            env=environment, start_new_session=True,
        )  # fmt: skip
    process = PeerProcess("probe", popen, stderr_path)
    processes.append(process)
    try:
        popen.wait(timeout=duration_s + PROBE_TIMEOUT_S)
    finally:
        process.stop()
    stderr_text = read_tail(stderr_path)
    assert "Traceback" not in stderr_text, stderr_text
    report = stdout_path.read_text()
    assert report, f"no report on stdout (exit {popen.returncode}): {stderr_text}"
    return ProbeRun(popen.returncode, json.loads(report), stderr_text, time.monotonic() - started)
