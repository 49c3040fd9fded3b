"""The responder facing hostile peers, on loopback: floods, unACKed INVITEs, an SDP naming a
third party, idle TCP connections, garbage, SIGTERM mid-call, memory under OPTIONS.

Every loop here is bounded and every peer is stopped by its pid (lab.process).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lab.environment import require_lab
from lab.ports import free_port
from lab.probe import run_probe
from lab.process import start_peer
from lab.responder import Responder
from lab.sipclient import SipClient
from lab.sipmsg import SipRequest, SipResponse, in_dialog, new_request

pytestmark = pytest.mark.lab

THIRD_PARTY = "127.0.0.3"
ATTACKER = "127.0.0.5"


def offer(host: str, port: int) -> str:
    return (
        f"v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )


def invite(responder: Responder, local: tuple[str, int], body: str) -> SipRequest:
    return new_request(
        "INVITE",
        responder.uri(),
        transport="udp",
        local=local,
        from_uri=f"sip:hostile@{local[0]}",
        to_uri=responder.uri(),
        extra=(("Contact", f"<sip:hostile@{local[0]}:{local[1]}>"),),
        body=body,
    )


def options(responder: Responder, client: SipClient) -> list[SipResponse]:
    request = new_request(
        "OPTIONS",
        responder.uri(),
        transport=client.transport,
        local=client.local,
        from_uri="sip:lab@127.0.0.1",
        to_uri=responder.uri(),
    )
    return client.transaction(request, timeout=3.0)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def assert_alive_and_calls_work(responder: Responder) -> None:
    assert responder.process.popen.poll() is None, "the responder died"
    with SipClient("udp", (responder.host, responder.port)) as client:
        # As a UAC would retransmit: the backlog of a flood may still be in the socket buffer.
        answers: list[int] = []
        for _ in range(5):
            answers = [r.status for r in options(responder, client)]
            if answers:
                break
        assert answers == [200]
    run = run_probe("call", responder.uri(), "--duration", "2", "--no-history")
    assert run.returncode == 0, run.report["verdict"]
    assert run.report["calls"][0]["status_code"] == 200


def test_responder_hostile_invite_flood_then_options_and_a_call(
    responder_factory: Callable[..., Responder], tmp_path: Path
) -> None:
    require_lab("sipp", root=True)
    responder = responder_factory()
    argv = [
        "sipp", f"{responder.host}:{responder.port}", "-sn", "uac", "-nostdin",
        "-i", "127.0.0.1", "-p", str(free_port()), "-bind_local",
        "-r", "200", "-m", "2000", "-l", "2000", "-d", "1000", "-timeout", "20s",
    ]  # fmt: skip
    flood = start_peer("sipp flood", argv, tmp_path / "sipp.log", tmp_path)
    started = time.monotonic()
    try:
        flood.popen.wait(timeout=25)
    except subprocess.TimeoutExpired:
        pass
    finally:
        flood.stop()
    assert time.monotonic() - started >= 9.5  # the flood ran its 10 s
    assert_alive_and_calls_work(responder)
    # Every INVITE was answered one way or another: the log holds counters, not per-message lines.
    responder.stop()
    text = responder.log_path.read_text()
    counters = dict(field.split("=") for field in text.split("counters: ")[-1].split())
    assert int(counters["refused_rate"]) > 1000


def test_responder_hostile_unacked_invites_do_not_block_another_caller(
    responder: Responder,
) -> None:
    require_lab(root=True)
    codes: dict[int, int] = {}
    answered: set[str] = set()
    # The attacker reads only after its burst: its socket holds all 200 answers (the default
    # buffer holds about 90 on loopback, and the kernel would drop the rest at the attacker).
    with SipClient(
        "udp", (responder.host, responder.port), local_host=ATTACKER, receive_buffer=4 << 20
    ) as attacker:
        for _ in range(200):
            attacker.send(invite(responder, attacker.local, offer(ATTACKER, 4000)))
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            response = attacker.receive(0.5)
            if response is None:
                break
            codes[response.status] = codes.get(response.status, 0) + 1
            if response.status == 200:
                answered.add(response.header("Call-ID") or "")
        # At most the per-source limit (8) got an answer that holds state; the rest 503.
        assert 1 <= len(answered) <= 8
        assert codes.get(503, 0) >= 190
        run = run_probe("call", responder.uri(), "--duration", "2", "--no-history")
    assert run.returncode == 0, run.report["verdict"]
    assert run.report["calls"][0]["status_code"] == 200


@pytest.mark.parametrize("mode", ["echo", "tone"])
def test_responder_hostile_sdp_naming_a_third_address_gets_nothing(
    responder_factory: Callable[..., Responder], mode: str
) -> None:
    require_lab(root=True)
    responder = responder_factory(mode=mode)
    victim_rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    victim_rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        port = free_port((THIRD_PARTY,), span=2)
        victim_rtp.bind((THIRD_PARTY, port))
        victim_rtcp.bind((THIRD_PARTY, port + 1))
        with SipClient("udp", (responder.host, responder.port)) as caller:
            request = invite(responder, caller.local, offer(THIRD_PARTY, port))
            final = caller.transaction(request)[-1]
            assert final.status == 200
            caller.send(in_dialog("ACK", request, final))
            time.sleep(6.0)  # past the first RTCP interval and 300 tone frames
            caller.send(in_dialog("BYE", request, final))
        for victim in (victim_rtp, victim_rtcp):
            victim.setblocking(False)
            with pytest.raises(BlockingIOError):
                victim.recv(2048)
    finally:
        victim_rtp.close()
        victim_rtcp.close()


def test_responder_hostile_sigterm_with_calls_up_sends_bye_and_exits_0(
    responder: Responder,
) -> None:
    require_lab(root=True)
    callers = [SipClient("udp", (responder.host, responder.port)) for _ in range(3)]
    try:
        for caller in callers:
            request = invite(responder, caller.local, offer("127.0.0.1", 4000))
            final = caller.transaction(request)[-1]
            assert final.status == 200
            caller.send(in_dialog("ACK", request, final))
        started = time.monotonic()
        responder.process.popen.send_signal(signal.SIGTERM)
        code = responder.process.popen.wait(timeout=5)
        assert code == 0
        assert time.monotonic() - started < 4.0
        for caller in callers:
            raw = caller._sock  # the BYE is a request: read it as bytes
            raw.settimeout(1.0)
            assert raw.recv(65535).startswith(b"BYE sip:hostile@127.0.0.1:")
    finally:
        for caller in callers:
            caller.close()


def test_responder_hostile_idle_tcp_connections_are_limited_and_closed(
    responder_factory: Callable[..., Responder],
) -> None:
    require_lab(root=True)
    responder = responder_factory(extra=("--max-tcp-per-source", "4", "--tcp-idle-s", "2"))
    peer = (responder.host, responder.port)
    idle = [socket.create_connection(peer, timeout=3) for _ in range(10)]
    try:
        time.sleep(0.5)
        closed = 0
        for sock in idle:
            sock.settimeout(0.2)
            try:
                closed += sock.recv(1) == b""
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed += 1
        assert closed == 6  # beyond the 4 allowed from this address
        with SipClient("tcp", peer, local_host="127.0.0.2") as other:  # another source
            assert [r.status for r in options(responder, other)] == [200]
        time.sleep(2.5)  # the idle ones are closed now, and this source may connect again
        with SipClient("tcp", peer) as again:
            assert [r.status for r in options(responder, again)] == [200]
    finally:
        for sock in idle:
            sock.close()


def test_responder_hostile_garbage_then_a_normal_call(responder: Responder) -> None:
    require_lab(root=True)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as junk:
        for n in range(20000):
            size = (n * 7919) % 1400 + 1
            junk.sendto(os.urandom(size), (responder.host, responder.port))
        junk.sendto(
            b"INVITE sip:x SIP/2.0\r\n" + b"X: y\r\n" * 3000 + b"\r\n",
            (responder.host, responder.port),
        )
        junk.sendto(
            b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\r\n",
            (responder.host, responder.port),
        )
    assert_alive_and_calls_work(responder)


def test_responder_hostile_memory_flat_under_options(responder: Responder) -> None:
    require_lab(root=True)
    pid = responder.process.pid
    with SipClient("udp", (responder.host, responder.port)) as client:

        def burst(count: int) -> None:
            for _ in range(count):
                assert [r.status for r in options(responder, client)] == [200]

        burst(1000)  # warm up: allocator arenas, caches
        before = rss_kib(pid)
        burst(5000)
        after = rss_kib(pid)
    assert after - before < 512, (before, after)  # pjsua2's responder grew ~2.1 kB per OPTIONS
