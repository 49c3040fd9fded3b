"""The responder's UAS driven with messages and a hand-moved clock, its answers read back:
digest challenge, the 200's headers, Timer G and H, CANCEL, BYE, refusals at the limits."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest

from sipprobe.responder.limits import Counters, Limits, SourceTable
from sipprobe.responder.loop import Loop
from sipprobe.responder.transport import Channel
from sipprobe.responder.uas import Uas, UasSettings
from sipprobe.sip import digest
from sipprobe.sip.message import SipMessage, parse_message

CALLER = ("127.0.0.1", 40000)
SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
)


class FakeChannel(Channel):
    transport = "udp"
    local = ("127.0.0.1", 5062)

    def __init__(self) -> None:
        self.sent: list[tuple[SipMessage, tuple[str, int]]] = []

    def send(self, data: bytes, destination: tuple[str, int]) -> None:
        self.sent.append((parse_message(data.decode()), destination))

    def take(self) -> list[SipMessage]:
        messages = [m for m, _ in self.sent]
        self.sent.clear()
        return messages


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(
    method: str,
    *,
    branch: str = "z9hG4bKa",
    cseq: int = 1,
    to_tag: str = "",
    body: str = "",
    extra: str = "",
) -> bytes:
    to = "<sip:echo@127.0.0.1:5062>" + (f";tag={to_tag}" if to_tag else "")
    text = (
        f"{method} sip:echo@127.0.0.1:5062 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:40000;rport;branch={branch}\r\n"
        "From: <sip:probe@127.0.0.1>;tag=caller\r\n"
        f"To: {to}\r\nCall-ID: call-1\r\nCSeq: {cseq} {method}\r\n"
        "Contact: <sip:probe@127.0.0.1:40000>\r\n"
        f"{extra}"
        + (
            f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
            if body
            else "Content-Length: 0\r\n\r\n"
        )
    )
    return text.encode()


@pytest.fixture
def uas_factory() -> Iterator[object]:
    made: list[tuple[Uas, Loop]] = []

    def make(**kwargs: object) -> tuple[Uas, Loop, FakeChannel, Clock]:
        clock = Clock()
        loop = Loop(clock)
        settings = UasSettings(**kwargs)  # type: ignore[arg-type]
        counters = Counters()
        uas = Uas(
            loop, settings, SourceTable(settings.limits), counters, lambda _: None, lambda: 1.8e9
        )
        made.append((uas, loop))
        return uas, loop, FakeChannel(), clock

    yield make
    for uas, loop in made:
        uas.shutdown()
        loop.close()


def run_timers(loop: Loop, clock: Clock, seconds: float) -> None:
    clock.now += seconds
    loop.run_once()


def statuses(messages: list[SipMessage]) -> list[int | None]:
    return [m.status_code for m in messages]


def test_responder_uas_digest_then_answer_with_evidence_headers(uas_factory) -> None:  # type: ignore[no-untyped-def]
    uas, _loop, channel, _clock = uas_factory(user="alice", password="pw")
    uas.handle(request("INVITE", body=SDP), CALLER, channel)
    (challenge,) = channel.take()
    assert challenge.status_code == 401
    params = digest.parse_params(challenge.header("www-authenticate") or "")
    ha1 = hashlib.md5(b"alice:sipprobe:pw").hexdigest()
    ha2 = hashlib.md5(b"INVITE:sip:echo@127.0.0.1:5062").hexdigest()
    answer = hashlib.md5(f"{ha1}:{params['nonce']}:00000001:c:auth:{ha2}".encode()).hexdigest()
    authorization = (
        f'Authorization: Digest username="alice", realm="sipprobe", nonce="{params["nonce"]}", '
        f'uri="sip:echo@127.0.0.1:5062", response="{answer}", qop=auth, nc=00000001, cnonce="c"\r\n'
    )
    raw = request("INVITE", branch="z9hG4bKb", cseq=2, body=SDP, extra=authorization)
    uas.handle(raw, CALLER, channel)
    trying, ok = channel.take()
    assert (trying.status_code, ok.status_code) == (100, 200)
    assert ok.header("x-sipprobe-rtp-dscp") == "46"
    assert ok.header("x-sipprobe-source") == "127.0.0.1:40000"
    received = base64.b64decode(ok.header("x-sipprobe-received") or "").decode()
    assert received.split("\r\n")[:2] == [
        "Via: SIP/2.0/UDP 127.0.0.1:40000;rport;branch=z9hG4bKb",
        "Contact: <sip:probe@127.0.0.1:40000>",
    ]
    assert received.endswith("a=rtpmap:101 telephone-event/8000")
    assert "received=127.0.0.1;rport=40000" in (ok.header("via") or "")
    assert "m=audio " in ok.body and " RTP/AVP 0 101" in ok.body
    # A wrong password is challenged again.
    bad = raw.replace(answer.encode(), b"0" * 32).replace(b"z9hG4bKb", b"z9hG4bKc")
    uas.handle(bad, CALLER, channel)
    assert statuses(channel.take()) == [401]


def test_responder_uas_timer_g_until_ack_then_bye(uas_factory) -> None:  # type: ignore[no-untyped-def]
    uas, loop, channel, clock = uas_factory()
    uas.handle(request("INVITE", body=SDP), CALLER, channel)
    ok = channel.take()[1]
    tag = ok.header("to").split("tag=")[1]  # type: ignore[union-attr]
    run_timers(loop, clock, 0.5)
    run_timers(loop, clock, 1.0)
    assert statuses(channel.take()) == [200, 200]  # 0.5 s, then 1 s later
    uas.handle(request("INVITE", body=SDP), CALLER, channel)  # a retransmitted INVITE
    assert statuses(channel.take()) == [200]
    uas.handle(request("ACK", to_tag=tag), CALLER, channel)
    run_timers(loop, clock, 4.0)
    assert channel.take() == []
    assert uas._sources.unconfirmed("127.0.0.1") == 0
    uas.handle(request("BYE", cseq=2, to_tag=tag), CALLER, channel)
    assert statuses(channel.take()) == [200]
    assert uas.calls == {}
    uas.handle(request("BYE", cseq=3, to_tag=tag), CALLER, channel)
    assert statuses(channel.take()) == [481]


def test_responder_uas_no_ack_ends_with_bye_after_timer_h(uas_factory) -> None:  # type: ignore[no-untyped-def]
    uas, loop, channel, clock = uas_factory()
    uas.handle(request("INVITE", body=SDP), CALLER, channel)
    channel.take()
    for _ in range(12):
        run_timers(loop, clock, 4.0)
    sent = channel.take()
    assert sent[-1].method == "BYE" and sent[-1].status_code is None
    assert sent[-1].first_line == "BYE sip:probe@127.0.0.1:40000 SIP/2.0"
    assert uas.calls == {} and uas.counters.unacked == 1


def test_responder_uas_cancel_while_ringing(uas_factory) -> None:  # type: ignore[no-untyped-def]
    uas, _loop, channel, _clock = uas_factory(ring_ms=5000)
    uas.handle(request("INVITE", body=SDP), CALLER, channel)
    assert statuses(channel.take()) == [100, 180]
    uas.handle(request("CANCEL"), CALLER, channel)
    cancel_ok, terminated = channel.take()
    assert (cancel_ok.status_code, cancel_ok.method, terminated.status_code) == (200, "CANCEL", 487)
    assert uas.calls == {}
    uas.handle(request("CANCEL", branch="z9hG4bKzz"), CALLER, channel)
    assert statuses(channel.take()) == [481]


def test_responder_uas_refusals(uas_factory) -> None:  # type: ignore[no-untyped-def]
    limits = Limits(max_calls=1, unconfirmed_per_source=5, call_burst_per_source=3)
    uas, _loop, channel, _clock = uas_factory(limits=limits)
    uas.handle(request("INVITE", body=SDP), CALLER, channel)
    uas.handle(request("INVITE", branch="z9hG4bK2", body=SDP), ("127.0.0.1", 40002), channel)
    busy = channel.take()[-1]
    assert (busy.status_code, busy.header("retry-after")) == (486, "5")
    uas.handle(request("INVITE", branch="z9hG4bK3", body=SDP), CALLER, channel)
    uas.handle(request("INVITE", branch="z9hG4bK4", body=SDP), CALLER, channel)
    assert statuses(channel.take()) == [486, 503]  # the burst of 3 is spent
    other, _, other_channel, _ = uas_factory()
    other.handle(request("INVITE", body="v=0\r\n"), CALLER, other_channel)
    assert statuses(other_channel.take()) == [488]
    uas.handle(request("REGISTER"), CALLER, channel)
    uas.handle(request("OPTIONS"), CALLER, channel)
    refused, options = channel.take()
    assert refused.status_code == 405 and options.status_code == 200
    assert options.header("x-sipprobe-source") == "127.0.0.1:40000"
    uas.handle(b"\x00\x01garbage", CALLER, channel)
    uas.handle(b"INVITE sip:x SIP/2.0\r\n\r\n", CALLER, channel)  # no Via: not answerable
    assert channel.take() == [] and uas.counters.not_sip == 2


def test_responder_uas_shutdown_sends_bye_and_480(uas_factory) -> None:  # type: ignore[no-untyped-def]
    uas, loop, channel, clock = uas_factory(ring_ms=5000, limits=Limits(unconfirmed_per_source=8))
    uas.handle(request("INVITE", body=SDP), CALLER, channel)
    uas.handle(
        request("INVITE", branch="z9hG4bKq", body=SDP).replace(b"call-1", b"call-2"),
        CALLER,
        channel,
    )
    run_timers(loop, clock, 0.0)
    channel.take()
    clock.now += 6
    loop.run_once()  # both answered now
    answered = [m for m in channel.take() if m.status_code == 200]
    tag = answered[0].header("to").split("tag=")[1]  # type: ignore[union-attr]
    uas.handle(request("ACK", to_tag=tag), CALLER, channel)
    uas.shutdown()
    assert [m.method for m in channel.take()].count("BYE") == 2
    uas.handle(request("INVITE", branch="z9hG4bKn", body=SDP), CALLER, channel)
    assert statuses(channel.take()) == [503]


def test_responder_uas_reinvite_hold_and_resume_directions(uas_factory) -> None:  # type: ignore[no-untyped-def]
    uas, _loop, channel, _clock = uas_factory()
    uas.handle(request("INVITE", body=SDP), CALLER, channel)
    ok = channel.take()[1]
    tag = ok.header("to").split("tag=")[1]  # type: ignore[union-attr]
    uas.handle(request("ACK", to_tag=tag), CALLER, channel)
    (call,) = uas.calls.values()
    assert call.media is not None and call.media.sending
    version = int(ok.body.splitlines()[1].split(" ")[2])
    answers = []
    for cseq, offered in ((2, "sendonly"), (3, "inactive"), (4, "sendrecv")):
        body = SDP + f"a={offered}\r\n"
        uas.handle(request("INVITE", cseq=cseq, to_tag=tag, body=body), CALLER, channel)
        (answer,) = channel.take()
        assert answer.status_code == 200
        answers.append((answer.body.split("a=")[-1].strip(), call.media.sending))
        assert int(answer.body.splitlines()[1].split(" ")[2]) == version + cseq - 1
    assert answers == [("recvonly", False), ("inactive", False), ("sendrecv", True)]
    # A refresh without an offer keeps the answer as it was.
    uas.handle(request("INVITE", cseq=5, to_tag=tag), CALLER, channel)
    (refresh,) = channel.take()
    assert refresh.body.splitlines()[-1] == "a=sendrecv" and call.media.sending


def test_responder_uas_dtmf_received_named_in_the_200_to_bye(uas_factory) -> None:  # type: ignore[no-untyped-def]
    import socket
    import struct

    from sipprobe.sip.telephone_event import TelephoneEvent

    uas, _loop, channel, clock = uas_factory()
    uas.handle(request("INVITE", body=SDP), CALLER, channel)
    tag = channel.take()[1].header("to").split("tag=")[1]  # type: ignore[union-attr]
    uas.handle(request("ACK", to_tag=tag), CALLER, channel)
    (call,) = uas.calls.values()
    assert call.media is not None
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.bind(("127.0.0.1", 0))
        for seq, (code, timestamp, end) in enumerate(
            [(1, 800, False), (1, 800, True), (1, 800, True), (11, 2400, False), (11, 2400, True)]
        ):
            header = struct.pack("!BBHII", 0x80, 101, seq, timestamp, 7)
            sender.sendto(
                header + bytes(TelephoneEvent(code, end, 10, 160)), call.media.rtp.getsockname()
            )
        sender.sendto(
            struct.pack("!BBHII", 0x80, 0, 9, 4000, 7) + bytes(160), call.media.rtp.getsockname()
        )
        clock.now += 0.1
        for _ in range(20):  # the datagrams are on loopback: read until all six are in
            call.media.rtp_readable(clock.now)
            if call.media.stats.received >= 6:
                break
    finally:
        sender.close()
    body = "Signal=5\r\nDuration=160\r\n"
    info = f"Content-Type: application/dtmf-relay\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    raw = request("INFO", cseq=2, to_tag=tag).replace(b"Content-Length: 0\r\n\r\n", info.encode())
    uas.handle(raw, CALLER, channel)
    assert statuses(channel.take()) == [200]
    uas.handle(request("BYE", cseq=3, to_tag=tag), CALLER, channel)
    (ok,) = channel.take()
    assert ok.header("x-sipprobe-dtmf") == "rfc4733=1#, sip-info=5"
    assert uas.counters.dtmf_digits == 3


def _call_with_audio(uas_factory, audio_packets: list[bytes], **settings: object):  # type: ignore[no-untyped-def]
    """A call answered and ACKed, the given RTP packets sent to its media port, then BYE:
    the 200 to the BYE."""
    import socket

    uas, _loop, channel, clock = uas_factory(**settings)
    uas.handle(request("INVITE", body=SDP), CALLER, channel)
    tag = channel.take()[1].header("to").split("tag=")[1]  # type: ignore[union-attr]
    uas.handle(request("ACK", to_tag=tag), CALLER, channel)
    (call,) = uas.calls.values()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.bind(("127.0.0.1", 0))
        for number, packet in enumerate(audio_packets):
            sender.sendto(packet, call.media.rtp.getsockname())
            if number % 8 == 7:  # the socket's buffer holds them; read as the loop would
                clock.now += 8 * 0.02  # at the pace they were sent
                for _ in range(20):
                    call.media.rtp_readable(clock.now)
                    if call.media.stats.received > number:
                        break
        for _ in range(20):
            call.media.rtp_readable(clock.now)
            if call.media.stats.received >= len(audio_packets):
                break
    finally:
        sender.close()
    listening = uas.listening
    uas.handle(request("BYE", cseq=3, to_tag=tag), CALLER, channel)
    (ok,) = channel.take()
    return ok, uas, listening


def _pcmu_packets(sequence: str) -> list[bytes]:
    import struct

    from test_dsp_dtmf import g711, tones

    from sipprobe.dsp.g711 import ulaw_table

    coded = g711(tones(sequence), ulaw_table())
    return [
        struct.pack("!BBHII", 0x80, 0, i // 160, 5000 + i, 7) + coded[i : i + 160].tobytes()
        for i in range(0, len(coded) - 159, 160)
    ]


def test_responder_uas_inband_dtmf_named_in_the_200_to_bye(uas_factory) -> None:  # type: ignore[no-untyped-def]
    ok, uas, listening = _call_with_audio(uas_factory, _pcmu_packets("159#"))
    assert ok.header("x-sipprobe-dtmf") == "inband=159#"
    assert (listening, uas.listening, uas.counters.dtmf_digits) == (1, 0, 4)


def test_responder_uas_inband_unchecked_when_disabled_or_past_its_limit(uas_factory) -> None:  # type: ignore[no-untyped-def]
    from sipprobe.responder.limits import Limits

    ok, uas, listening = _call_with_audio(
        uas_factory, _pcmu_packets("159#"), limits=Limits(inband_calls=0)
    )
    assert ok.header("x-sipprobe-dtmf") == "inband-unchecked"
    assert (listening, uas.counters.dtmf_digits) == (0, 0)
    uas, _loop, channel, _clock = uas_factory(limits=Limits(inband_calls=1))
    uas.handle(request("INVITE", body=SDP, branch="z9hG4bKone"), CALLER, channel)
    uas.handle(request("INVITE", body=SDP, branch="z9hG4bKtwo"), CALLER, channel)
    assert len(uas.calls) == 2
    assert (uas.listening, uas.counters.inband_unchecked) == (1, 1)


TIMER = "Supported: timer\r\nSession-Expires: {}\r\nMin-SE: 90\r\n"


def test_responder_uas_session_timer_answered_refreshed_and_enforced(uas_factory) -> None:  # type: ignore[no-untyped-def]
    uas, loop, channel, clock = uas_factory()
    uas.handle(request("INVITE", body=SDP, extra=TIMER.format(120)), CALLER, channel)
    ok = channel.take()[1]
    assert ok.header("session-expires") == "120;refresher=uac"
    assert ok.header("require") == "timer"
    assert "UPDATE" in (ok.header("allow") or "")
    tag = ok.header("to").split("tag=")[1]  # type: ignore[union-attr]
    uas.handle(request("ACK", to_tag=tag), CALLER, channel)
    # An UPDATE without SDP refreshes (200 without SDP), 60 s in: the next deadline is 60 s
    # plus 120 s less min(32, 40) = 148 s after the answer.
    run_timers(loop, clock, 60.0)
    uas.handle(request("UPDATE", cseq=2, to_tag=tag, extra=TIMER.format(120)), CALLER, channel)
    (updated,) = channel.take()
    assert (updated.status_code, updated.body, updated.header("content-type")) == (200, "", None)
    assert updated.header("session-expires") == "120;refresher=uac"
    run_timers(loop, clock, 87.9)  # 147.9 s after the answer
    uas.housekeeping()
    assert channel.take() == [] and len(uas.calls) == 1
    run_timers(loop, clock, 0.2)
    uas.housekeeping()
    (bye,) = channel.take()
    assert bye.method == "BYE" and bye.status_code is None
    assert uas.calls == {} and uas.counters.session_expired == 1


def test_responder_uas_session_timer_too_small_and_declined(uas_factory) -> None:  # type: ignore[no-untyped-def]
    uas, _loop, channel, _clock = uas_factory()
    uas.handle(request("INVITE", body=SDP, extra=TIMER.format(60)), CALLER, channel)
    (too_small,) = channel.take()
    assert (too_small.status_code, too_small.header("min-se")) == (422, "90")
    assert uas.calls == {}
    # The caller asks the responder to refresh: it never does, so it answers without timers.
    extra = TIMER.format("90;refresher=uas")
    uas.handle(request("INVITE", branch="z9hG4bKr", cseq=2, body=SDP, extra=extra), CALLER, channel)
    ok = channel.take()[1]
    assert ok.status_code == 200
    assert (ok.header("session-expires"), ok.header("require")) == (None, None)
    # A caller without Supported: timer (a proxy added Session-Expires) likewise.
    other, _, other_channel, _ = uas_factory()
    other.handle(
        request("INVITE", body=SDP, extra="Session-Expires: 1800\r\n"), CALLER, other_channel
    )
    assert other_channel.take()[1].header("session-expires") is None
