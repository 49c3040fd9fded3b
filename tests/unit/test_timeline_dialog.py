"""Timeline parsing of pjsip message logs, and timings read back from it."""

from __future__ import annotations

import pytest

from sipprobe.model.results import SipEvent
from sipprobe.report.siplog import render_sip_log
from sipprobe.signalling import timeline as timeline_module
from sipprobe.signalling.dialog import invite_timings, unusable_answer
from sipprobe.signalling.timeline import Timeline


class FakeClock:
    """An injected clock: the test decides what time it is."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def msg(first: str, cseq: str, call_id: str = "c1", extra: str = "", body: str = "") -> str:
    length = len(body)
    return (
        f"{first}\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nCall-ID: {call_id}\r\n"
        f"CSeq: {cseq}\r\n{extra}Content-Length: {length}\r\n\r\n{body}"
    )


def test_timeline_reads_pjsip_log_entry() -> None:
    clock = FakeClock()
    timeline = Timeline(clock)
    entry = (
        "TX 512 bytes Request msg INVITE/cseq=7 (tdta0x1) to UDP [::1]:5062:\n"
        + msg("INVITE sip:echo@[::1]:5062 SIP/2.0", "7 INVITE").replace("\r\n", "\n")
        + "\n--end msg--"
    )
    event = timeline.add_pjsip_log(entry, at=100.25)
    assert event is not None
    assert (event.direction, event.transport, event.peer) == ("tx", "UDP", "[::1]:5062")
    assert (event.method, event.cseq, event.call_id, event.t_s) == ("INVITE", 7, "c1", 0.25)
    assert timeline.add_pjsip_log("Call 0 state changed to CALLING", at=100.3) is None
    assert "#0 +0.250000s TX --> UDP [::1]:5062" in render_sip_log(timeline.snapshot())


def test_timeline_counts_unparsable_messages() -> None:
    timeline = Timeline(FakeClock())
    assert timeline.add("rx", "UDP", "1.2.3.4:5060", "garbage") is None
    assert timeline.unparsed == 1
    assert len(timeline) == 0


def build_call(steps: list[tuple[float, str, str]]) -> Timeline:
    clock = FakeClock()
    timeline = Timeline(clock)
    for at, direction, text in steps:
        clock.now = 100.0 + at
        timeline.add(direction, "UDP", "10.0.0.9:5060", text)  # type: ignore[arg-type]
    return timeline


def test_invite_timings_with_challenge_ringing_and_bye() -> None:
    sdp = "v=0\r\nm=audio 4000 RTP/AVP 0 8\r\n"
    timeline = build_call(
        [
            (0.000, "tx", msg("INVITE sip:a@b SIP/2.0", "1 INVITE", body=sdp)),
            (0.500, "tx", msg("INVITE sip:a@b SIP/2.0", "1 INVITE", body=sdp)),  # retransmission
            (0.600, "rx", msg("SIP/2.0 407 Proxy Authentication Required", "1 INVITE")),
            (0.610, "tx", msg("INVITE sip:a@b SIP/2.0", "2 INVITE", body=sdp)),
            (0.650, "rx", msg("SIP/2.0 100 Trying", "2 INVITE")),
            (
                0.900,
                "rx",
                msg(
                    "SIP/2.0 183 Session Progress",
                    "2 INVITE",
                    extra="Content-Type: application/sdp\r\n",
                    body=sdp,
                ),
            ),
            (1.100, "rx", msg("SIP/2.0 180 Ringing", "2 INVITE")),
            (2.000, "rx", msg("SIP/2.0 200 OK", "2 INVITE")),
            (7.000, "tx", msg("BYE sip:a@b SIP/2.0", "3 BYE")),
            (7.020, "rx", msg("SIP/2.0 200 OK", "3 BYE")),
        ]
    )
    timings = invite_timings(list(timeline.snapshot()))
    assert timings.trying_ms == 650.0
    assert timings.pdd_ms == 900.0  # first 18x, counted from the first INVITE
    assert timings.answer_ms == 2000.0
    assert timings.challenge == 407
    assert timings.invite_retransmissions == 1
    assert timings.early_media is True
    assert timings.ringing is True
    assert timings.final is not None and timings.final.status_code == 200
    assert timings.bye_ms == 20.0
    assert timings.hold_s == 5.0
    assert timings.remote_bye is False


def test_invite_timings_remote_bye_and_failure() -> None:
    timeline = build_call(
        [
            (0.0, "tx", msg("INVITE sip:a@b SIP/2.0", "1 INVITE")),
            (0.1, "rx", msg("SIP/2.0 200 OK", "1 INVITE")),
            (3.1, "rx", msg("BYE sip:probe@c SIP/2.0", "9 BYE")),
            (3.2, "tx", msg("SIP/2.0 200 OK", "9 BYE")),
        ]
    )
    timings = invite_timings(list(timeline.snapshot()))
    assert timings.remote_bye is True
    assert timings.hold_s == 3.0
    assert timings.bye_ms == 100.0
    busy = build_call(
        [
            (0.0, "tx", msg("INVITE sip:a@b SIP/2.0", "1 INVITE")),
            (0.2, "rx", msg("SIP/2.0 486 Busy Here", "1 INVITE")),
        ]
    )
    failed = invite_timings(list(busy.snapshot()))
    assert failed.final is not None and failed.final.status_code == 486
    assert failed.answer_ms is None
    assert failed.pdd_ms is None


def test_timeline_keeps_a_bounded_sample_of_a_provisional_flood() -> None:
    timeline = Timeline(FakeClock())
    timeline.add("tx", "UDP", "10.0.0.2:5060", msg("INVITE sip:a@10.0.0.2 SIP/2.0", "1 INVITE"))
    ringing = msg("SIP/2.0 180 Ringing", "1 INVITE")
    for _ in range(10_000):
        timeline.add("rx", "UDP", "10.0.0.2:5060", ringing)
    timeline.add("rx", "UDP", "10.0.0.2:5060", msg("SIP/2.0 183 Session Progress", "1 INVITE"))
    final = timeline.add("rx", "UDP", "10.0.0.2:5060", msg("SIP/2.0 200 OK", "1 INVITE"))
    assert final is not None
    kept = [event.first_line for event in timeline.snapshot()]
    assert kept == [
        "INVITE sip:a@10.0.0.2 SIP/2.0",
        *["SIP/2.0 180 Ringing"] * timeline_module.MAX_REPEATS,
        "SIP/2.0 183 Session Progress",
        "SIP/2.0 200 OK",
    ]
    assert timeline.dropped == {"repeated-provisional": 10_000 - timeline_module.MAX_REPEATS}
    assert final.index == len(kept) - 1
    limits = timeline.limits()
    assert limits.dropped == (("repeated-provisional", 9_997),)
    assert limits.dropped_from == (("10.0.0.2:5060", 9_997),)
    assert limits.dropped_calls == (("c1", 9_997),)
    assert (limits.dropped_provisional, limits.dropped_other) == (9_997, 0)
    assert (limits.max_messages, limits.max_repeats) == (5000, 3)
    assert (limits.truncated, limits.unparsed) == (0, 0)


def test_timeline_stops_keeping_provisionals_at_the_limit_but_not_finals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(timeline_module, "MAX_EVENTS", 4)
    timeline = Timeline(FakeClock())
    for call in range(6):  # each a new call: no repeats, only the limit applies
        timeline.add("rx", "UDP", "p:1", msg("SIP/2.0 180 Ringing", "1 INVITE", f"c{call}"))
    for call in range(6):
        timeline.add("rx", "UDP", "p:1", msg("SIP/2.0 200 OK", "1 INVITE", f"c{call}"))
    statuses = [event.status_code for event in timeline.snapshot()]
    assert statuses == [180] * 4 + [200] * 4  # finals kept up to twice the limit
    assert timeline.dropped == {"provisional-over-limit": 2, "over-limit": 2}
    assert timeline.dropped_total == 4
    limits = timeline.limits()
    assert (limits.dropped_provisional, limits.dropped_other) == (2, 2)
    assert limits.dropped_calls == (("c4", 2), ("c5", 2))


def test_timeline_counts_dropped_messages_of_at_most_max_sources_peers_apart() -> None:
    timeline = Timeline(FakeClock())
    ringing = msg("SIP/2.0 180 Ringing", "1 INVITE")
    for peer in range(timeline_module.MAX_SOURCES + 4):
        for _ in range(timeline_module.MAX_REPEATS + 2):  # 2 dropped from each peer
            timeline.add("rx", "UDP", f"10.0.1.{peer}:5060", ringing)
    limits = timeline.limits()
    # The repeat count is per call, not per peer: the first peer's first 3 are kept.
    assert limits.dropped_provisional == (timeline_module.MAX_SOURCES + 4) * 5 - 3
    assert len(limits.dropped_from) == timeline_module.MAX_SOURCES + 1
    assert dict(limits.dropped_from)["other"] == 4 * 5
    assert limits.dropped_from[0] == ("other", 20)


def test_timeline_cuts_a_huge_body_and_says_so() -> None:
    timeline = Timeline(FakeClock())
    body = "x" * (2 * timeline_module.MAX_TEXT_CHARS)
    event = timeline.add("rx", "TCP", "p:1", msg("SIP/2.0 200 OK", "1 INVITE", body=body))
    assert event is not None
    assert len(event.text) < timeline_module.MAX_TEXT_CHARS + 100
    assert event.text.endswith("characters not kept]")
    assert timeline.truncated == 1


OFFER = (
    "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    "m=audio 30000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
)


def _sdp_event(first: str, body: str | None, index: int = 0) -> SipEvent:
    extra = "Content-Type: application/sdp\r\n" if body is not None else ""
    timeline = Timeline(FakeClock())
    event = timeline.add(
        "rx" if first.startswith("SIP/2.0") else "tx",
        "UDP",
        "10.0.0.2:5060",
        msg(first, "1 INVITE", extra=extra, body=body or ""),
    )
    assert event is not None
    return event


def _answer(body: str | None) -> str | None:
    offer = _sdp_event("INVITE sip:a@10.0.0.2 SIP/2.0", OFFER)
    return unusable_answer(offer, _sdp_event("SIP/2.0 200 OK", body))


def _sdp(connection: str = "10.0.0.2", media: str = "m=audio 4000 RTP/AVP 0") -> str:
    return f"v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 {connection}\r\nt=0 0\r\n{media}\r\n"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (_sdp(), None),
        (_sdp(media="m=audio 4000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000"), None),
        (
            "this is not a session description\r\nm=audio banana\r\n",
            "the SDP answer cannot be read: SDP line 'this is not a session description' is "
            "not <type>=<value>",
        ),
        (
            _sdp(connection="0.0.0.0"),
            "the SDP answer names no address to send audio to: 'c=IN IP4 0.0.0.0'",
        ),
        (
            _sdp(media="m=audio 0 RTP/AVP 0"),
            "the SDP answer rejects the audio stream: 'm=audio 0 RTP/AVP 0'",
        ),
        (
            _sdp(media="m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000"),
            "the SDP answer picks none of the offered codecs ['pcma/8000', 'pcmu/8000', "
            "'telephone-event/8000']: 'm=audio 4000 RTP/AVP 18'",
        ),
        (
            _sdp(media="m=video 4000 RTP/AVP 96"),
            "the SDP answer has no audio stream (first line 'v=0')",
        ),
        (None, "the 200 OK carries no SDP answer to the probe's offer"),
    ],
)
def test_unusable_answer_quotes_what_the_far_end_sent(body: str | None, why: str | None) -> None:
    assert _answer(body) == why


def test_unusable_answer_only_judges_a_200() -> None:
    offer = _sdp_event("INVITE sip:a@10.0.0.2 SIP/2.0", OFFER)
    assert unusable_answer(offer, _sdp_event("SIP/2.0 183 Session Progress", "garbage")) is None
    assert unusable_answer(offer, None) is None
