"""Reading transactions back out of the SIP timeline (pure code, no pjsua2).

Timings come from the messages on the wire, not from stack callbacks: the first INVITE sent
starts the clock, so post-dial delay includes any 401/407 challenge round trip, exactly as a
caller would experience it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from sipprobe.model.results import SipEvent
from sipprobe.sip.message import parse_message
from sipprobe.sip.sdp import parse_sdp


@dataclass(frozen=True, slots=True)
class InviteTimings:
    first_invite: SipEvent | None
    trying_ms: float | None
    pdd_ms: float | None
    answer_ms: float | None
    final: SipEvent | None  # final response to the last INVITE sent
    challenge: int | None
    invite_retransmissions: int
    ringing: bool
    early_media: bool
    bye: SipEvent | None
    bye_response: SipEvent | None
    bye_ms: float | None
    remote_bye: bool
    hold_s: float | None


def _ms(start: SipEvent, end: SipEvent) -> float:
    return round((end.t_s - start.t_s) * 1000.0, 3)


def events_of_call(events: Iterable[SipEvent], call_id: str) -> list[SipEvent]:
    return [e for e in events if e.call_id == call_id]


def invite_timings(events: list[SipEvent]) -> InviteTimings:
    """Timings of one dialog's INVITE transactions and its BYE, from its events in order."""
    invites = [e for e in events if e.direction == "tx" and e.is_request and e.method == "INVITE"]
    first = invites[0] if invites else None
    seen: dict[int | None, int] = {}
    for invite in invites:
        seen[invite.cseq] = seen.get(invite.cseq, 0) + 1
    retransmissions = sum(count - 1 for count in seen.values())
    responses = [
        e
        for e in events
        if e.direction == "rx" and e.status_code is not None and e.method == "INVITE"
    ]
    trying = next((r for r in responses if r.status_code == 100), None)
    provisional = next(
        (r for r in responses if r.status_code is not None and 180 <= r.status_code < 200), None
    )
    challenge_event = next((r for r in responses if r.status_code in (401, 407)), None)
    last_cseq = invites[-1].cseq if invites else None
    # The first final response: a 200 OK the far end resends (its ACK lost) is the same answer.
    final = next(
        (r for r in responses if (r.status_code or 0) >= 200 and r.cseq == last_cseq),
        None,
    )
    answered = final if final is not None and final.status_code == 200 else None
    early_media = any(
        r.status_code == 183 and "application/sdp" in r.text.lower() for r in responses
    )
    bye, bye_response, remote_bye = first_bye(events)
    hold_s = None
    if answered is not None and bye is not None:
        hold_s = round(bye.t_s - answered.t_s, 3)
    return InviteTimings(
        first_invite=first,
        trying_ms=_ms(first, trying) if first and trying else None,
        pdd_ms=_ms(first, provisional) if first and provisional else None,
        answer_ms=_ms(first, answered) if first and answered else None,
        final=final,
        challenge=challenge_event.status_code if challenge_event else None,
        invite_retransmissions=retransmissions,
        ringing=any(r.status_code == 180 for r in responses),
        early_media=early_media,
        bye=bye,
        bye_response=bye_response,
        bye_ms=_ms(bye, bye_response) if bye and bye_response else None,
        remote_bye=remote_bye,
        hold_s=hold_s,
    )


def invite_response(events: Iterable[SipEvent], status: int) -> SipEvent | None:
    """The first response ``status`` the probe received to an INVITE (200: the answer)."""
    return next(
        (
            e
            for e in events
            if e.direction == "rx" and e.method == "INVITE" and e.status_code == status
        ),
        None,
    )


def first_bye(events: list[SipEvent]) -> tuple[SipEvent | None, SipEvent | None, bool]:
    """The first BYE of the dialog, its final response, and whether the far end sent it."""
    bye = next((e for e in events if e.is_request and e.method == "BYE"), None)
    if bye is None:
        return None, None, False
    reply_direction = "rx" if bye.direction == "tx" else "tx"
    response = next(
        (
            e
            for e in events
            if e.direction == reply_direction
            and e.method == "BYE"
            and (e.status_code or 0) >= 200
            and e.cseq == bye.cseq
            and e.t_s >= bye.t_s
        ),
        None,
    )
    return bye, response, bye.direction == "rx"


def transaction_final(events: Iterable[SipEvent], method: str) -> SipEvent | None:
    """The last final response received for ``method`` among ``events``."""
    final = None
    for event in events:
        if event.direction == "rx" and event.method == method and (event.status_code or 0) >= 200:
            final = event
    return final


def offered_codecs(event: SipEvent | None) -> tuple[str, ...]:
    """Codecs in the SDP of a message (the INVITE offer or the answer)."""
    if event is None:
        return ()
    body = parse_message(event.text).sdp_body()
    audio = parse_sdp(body, tolerant=True).audio if body is not None else None
    return () if audio is None else audio.codec_names()


_NOT_VOICE = frozenset({"telephone-event", "cn", "comfort-noise"})


def _line(body: str, prefix: str, audio_only: bool = False) -> str:
    """The first ``prefix`` line of ``body`` (in the first audio section when
    ``audio_only``), as the far end wrote it, cut to 80 characters."""
    in_audio = False
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            in_audio = line.startswith("m=audio")
        if line.startswith(prefix) and (in_audio or not audio_only):
            return repr(line[:80])
    return repr(prefix)


def unusable_answer(offer: SipEvent | None, answer: SipEvent | None) -> str | None:
    """Why the SDP of a 200 OK cannot carry the call, quoting the line the far end sent, or
    None when it can (or there is no 200). What makes a probe end an answered call itself:
    no SDP, SDP it cannot read, no audio stream, audio rejected (port 0) or sent nowhere
    (c= 0.0.0.0 / ::), or none of the offered codecs."""
    if answer is None or answer.status_code != 200:
        return None
    try:
        message = parse_message(answer.text)
        body = message.sdp_body()
    except ValueError as exc:
        return f"the 200 OK cannot be read: {exc}"
    if body is None or not body.strip():
        return "the 200 OK carries no SDP answer to the probe's offer"
    try:
        audio = parse_sdp(body).audio
    except ValueError as exc:
        return f"the SDP answer cannot be read: {exc}"
    if audio is None:
        return f"the SDP answer has no audio stream (first line {_line(body, '')})"
    if audio.port == 0:
        return f"the SDP answer rejects the audio stream: {_line(body, 'm=audio')}"
    if audio.connection is None:
        return "the SDP answer names no address for the audio (no c= line)"
    try:
        unspecified = ipaddress.ip_address(audio.connection).is_unspecified
    except ValueError:
        unspecified = False
    if unspecified:
        written = _line(body, "c=", audio_only=True)
        written = written if written != repr("c=") else _line(body, "c=")
        return f"the SDP answer names no address to send audio to: {written}"
    offered = {name.lower() for name in offered_codecs(offer)}
    answered = [n for n in audio.codec_names() if n.split("/")[0].lower() not in _NOT_VOICE]
    if offered and answered and not any(n.lower() in offered for n in answered):
        return (
            f"the SDP answer picks none of the offered codecs {sorted(offered)}: "
            f"{_line(body, 'm=audio')}"
        )
    if not answered:
        return f"the SDP answer has no voice codec: {_line(body, 'm=audio')}"
    return None
