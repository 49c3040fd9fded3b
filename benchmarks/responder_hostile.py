"""The responder under hostile load: the new one (this checkout) against the old pjsua2 one.

    python benchmarks/responder_hostile.py [--old DIR] [--calls 10000] [--rate 200]

Figures, each measured for both responders in the same run (on loopback):

- INVITE flood: ``--rate`` INVITEs/s for 10 s from one source; final responses per second it
  answered, whether it was still alive afterwards and answered OPTIONS;
- RSS after ``--calls`` complete calls (INVITE, 200, ACK, BYE) from 64 source addresses;
- reflection: packets and bytes sent to a third address named only in an SDP, per byte of
  the INVITE (and 200 RTP packets the caller sent from its own address);
- simultaneous calls held with media: calls set up one per source socket, each sending
  50 packets/s for 5 s; held means at least 99 % of the RTP came back.

The old responder is run from a checkout of the old code given with ``--old`` (``PYTHONPATH=OLD
python -m sipprobe responder``), e.g. ``git worktree add /tmp/old 6c1d412`` (the last commit
with the pjsua2 responder); without ``--old`` only this checkout's is measured. A figure a
responder cannot give (it died) says so.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Responder:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start(code: Path, workdir: Path, *extra: str) -> Responder:
    port = free_port()
    log = workdir / f"responder-{port}.log"
    env = {**os.environ, "PYTHONPATH": str(code)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sipprobe", "responder", "--listen", f"127.0.0.1:{port}",
             "--transports", "udp", *extra],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=workdir,
        )  # fmt: skip
    deadline = time.monotonic() + 20
    while "ready " not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"responder did not start: {log.read_text()[-500:]}")
        time.sleep(0.05)
    return Responder(process, port, log)


def request(method: str, port: int, local: tuple[str, int], call_id: str, **kw: str) -> bytes:
    body = kw.get("body", "")
    to_tag = f";tag={kw['to_tag']}" if kw.get("to_tag") else ""
    lines = [
        f"{method} sip:echo@127.0.0.1:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP {local[0]}:{local[1]};rport;branch=z9hG4bK{secrets.token_hex(6)}",
        "Max-Forwards: 70",
        f"From: <sip:bench@{local[0]}>;tag=b{call_id[:6]}",
        f"To: <sip:echo@127.0.0.1:{port}>{to_tag}",
        f"Call-ID: {call_id}",
        f"CSeq: {kw.get('cseq', '1')} {method}",
        f"Contact: <sip:bench@{local[0]}:{local[1]}>",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def sdp(host: str, port: int) -> str:
    return (
        f"v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )


def read_until(sock: socket.socket, wanted: bytes, timeout_s: float) -> bytes | None:
    """The first datagram starting with ``wanted`` within the timeout."""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except (TimeoutError, OSError):
            return None
        if data.startswith(wanted):
            return data
    return None


def to_tag(response: bytes) -> str:
    for line in response.split(b"\r\n"):
        if line.lower().startswith((b"to:", b"t:")) and b"tag=" in line:
            return line.split(b"tag=")[1].split(b";")[0].decode()
    return ""


def options_ok(responder: Responder) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        local = sock.getsockname()
        sock.sendto(
            request("OPTIONS", responder.port, local, secrets.token_hex(8)),
            ("127.0.0.1", responder.port),
        )
        return read_until(sock, b"SIP/2.0 200", 3.0) is not None


def end_call(sock: socket.socket, port: int, call: tuple[str, str]) -> None:
    local = sock.getsockname()
    sock.sendto(request("BYE", port, local, call[0], to_tag=call[1], cseq="2"), ("127.0.0.1", port))
    read_until(sock, b"SIP/2.0 200", 2.0)


def flood(responder: Responder, rate: int, seconds: float = 10.0) -> str:
    finals = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        local = sock.getsockname()
        started = time.monotonic()
        sent = 0
        while (now := time.monotonic()) - started < seconds:
            while sent < (now - started) * rate:
                packet = request(
                    "INVITE",
                    responder.port,
                    local,
                    secrets.token_hex(8),
                    body=sdp("127.0.0.1", 4000),
                )
                sock.sendto(packet, ("127.0.0.1", responder.port))
                sent += 1
            try:
                while True:
                    data = sock.recv(65535)
                    finals += data[8:9] in (b"2", b"4", b"5")
            except BlockingIOError:
                time.sleep(0.002)
    time.sleep(1.0)
    alive = responder.alive
    answers = alive and options_ok(responder)
    return (
        f"{sent} INVITEs in {seconds:g} s: {finals / seconds:.0f} final responses/s; "
        f"{'alive' if alive else f'DIED (exit {responder.process.returncode})'}"
        f"{', answers OPTIONS' if answers else ''}"
    )


def many_calls(responder: Responder, calls: int) -> str:
    before = responder.rss_kib()
    sockets = []
    for n in range(64):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((f"127.0.1.{n + 1}", 0))
        sockets.append(sock)
    done = 0
    started = time.monotonic()
    try:
        for n in range(calls):
            if not responder.alive:
                break
            sock = sockets[n % 64]
            call = setup_call(sock, responder.port, 4000)
            if call is not None:
                _ANSWER_PORTS.pop(call[0], None)
                end_call(sock, responder.port, call)
                done += 1
    finally:
        for sock in sockets:
            sock.close()
    wall = time.monotonic() - started
    if not responder.alive:
        return f"DIED after {done} calls"
    after = responder.rss_kib()
    rss = f"RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB"
    return f"{done} of {calls} calls in {wall:.0f} s; {rss}"


def reflection(responder: Responder) -> str:
    victim = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    victim.bind(("127.0.0.3", 0))
    victim.setblocking(False)
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    caller.bind(("127.0.0.1", 0))
    try:
        local = caller.getsockname()
        call_id = secrets.token_hex(8)
        invite = request(
            "INVITE", responder.port, local, call_id, body=sdp("127.0.0.3", victim.getsockname()[1])
        )
        caller.sendto(invite, ("127.0.0.1", responder.port))
        ok = read_until(caller, b"SIP/2.0 200", 3.0)
        if ok is None:
            return "no 200"
        caller.sendto(
            request("ACK", responder.port, local, call_id, to_tag=to_tag(ok)),
            ("127.0.0.1", responder.port),
        )
        time.sleep(10.0)
        caller.sendto(
            request("BYE", responder.port, local, call_id, to_tag=to_tag(ok), cseq="2"),
            ("127.0.0.1", responder.port),
        )
        packets = octets = 0
        try:
            while True:
                octets += len(victim.recv(65535))
                packets += 1
        except BlockingIOError:
            pass
        return (
            f"{packets} packets, {octets} bytes to the third address in 10 s after a "
            f"{len(invite)}-byte INVITE (x{octets / len(invite):.1f})"
        )
    finally:
        victim.close()
        caller.close()


def simultaneous(responder: Responder, sizes: list[int]) -> str:
    held = 0
    results = []
    for size in sizes:
        sockets, media, calls = [], [], []
        try:
            for n in range(size):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.bind((f"127.0.2.{n % 250 + 1}", 0))
                rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                rtp.bind((sock.getsockname()[0], 0))
                rtp.setblocking(False)
                sockets.append(sock)
                media.append(rtp)
                call = setup_call(sock, responder.port, rtp.getsockname()[1])
                if call is None:
                    break
                calls.append((sock, call, rtp))
            if len(calls) < size:
                results.append(f"{size}: only {len(calls)} answered")
                break
            # each call's RTP goes to the port its 200 announced; the reflection comes back
            sent = received = 0
            targets = [_media_port(c[1]) for c in calls]
            started = time.monotonic()
            packet_no = 0
            while time.monotonic() - started < 5.0:
                for (_, _, rtp), target in zip(calls, targets, strict=True):
                    header = (
                        bytes([0x80, 0])
                        + packet_no.to_bytes(2, "big")
                        + (packet_no * 160).to_bytes(4, "big")
                        + b"\x01\x02\x03\x04"
                    )
                    rtp.sendto(header + b"\xff" * 160, target)
                    sent += 1
                for _, _, rtp in calls:
                    try:
                        while True:
                            rtp.recv(2048)
                            received += 1
                    except BlockingIOError:
                        pass
                packet_no += 1
                time.sleep(max(0.0, started + packet_no * 0.02 - time.monotonic()))
            time.sleep(0.3)
            for _, _, rtp in calls:
                try:
                    while True:
                        rtp.recv(2048)
                        received += 1
                except BlockingIOError:
                    pass
            ratio = received / sent if sent else 0.0
            results.append(f"{size}: {100 * ratio:.1f} % back")
            if ratio >= 0.99 and responder.alive:
                held = size
            for sock, call, _ in calls:
                end_call(sock, responder.port, call)
            if ratio < 0.99:
                break
        finally:
            for sock in sockets + media:
                sock.close()
    return f"held {held} ({'; '.join(results)})"


_ANSWER_PORTS: dict[str, int] = {}


def _media_port(call: tuple[str, str]) -> tuple[str, int]:
    return ("127.0.0.1", _ANSWER_PORTS.pop(call[0]))


def _remember_answer(call_id: str, answer: bytes) -> None:
    for line in answer.split(b"\r\n"):
        if line.startswith(b"m=audio "):
            _ANSWER_PORTS[call_id] = int(line.split()[1])


def setup_call(sock: socket.socket, port: int, media_port: int) -> tuple[str, str] | None:
    local = sock.getsockname()
    call_id = secrets.token_hex(8)
    sock.sendto(
        request("INVITE", port, local, call_id, body=sdp(local[0], media_port)), ("127.0.0.1", port)
    )
    ok = read_until(sock, b"SIP/2.0 200", 3.0)
    if ok is None:
        return None
    _remember_answer(call_id, ok)
    tag = to_tag(ok)
    sock.sendto(request("ACK", port, local, call_id, to_tag=tag), ("127.0.0.1", port))
    return call_id, tag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, help="a checkout of the old (pjsua2) responder")
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--sizes", default="50,100,200,300")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="responder-bench-") as scratch:
        workdir = Path(scratch)
        responders = [("new", HERE)] + ([("old", args.old)] if args.old else [])
        for name, code in responders:
            print(f"== {name} responder ({code})", flush=True)
            for figure, run in (
                ("reflection", reflection),
                ("calls", lambda r: many_calls(r, args.calls)),
                ("simultaneous calls with media", lambda r: simultaneous(r, sizes)),
                ("INVITE flood", lambda r: flood(r, args.rate)),
            ):
                extra = ("--max-calls", "1000") if name == "new" else ()
                responder = start(code, workdir, *extra)
                try:
                    print(f"{figure}: {run(responder)}", flush=True)
                finally:
                    code_at_exit = responder.stop()
                    if code_at_exit != 0:
                        print(f"  (exit code at SIGTERM: {code_at_exit})", flush=True)


if __name__ == "__main__":
    main()
