"""A call the probe answered, read from its SIP timeline (pure code, no pjsua2).

The answering side's figures: when the INVITE arrived (after the step started waiting),
when 180 and 200 left, when the ACK came, who sent the BYE; and the INVITE's headers as
they arrived, which are what a PBX routes on (docs/measurement.md, "Inbound calls"). An
INVITE without SDP is a delayed offer: the probe's 200 OK offers, the caller's ACK answers,
so the codec is the ACK's. Re-INVITEs from the caller that hold and resume the call are read
as signalling/hold.py reads the probe's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipprobe.model.inbound import InboundCall
from sipprobe.model.results import CallResult, RtcpSummary, SipEvent
from sipprobe.signalling.dialog import first_bye, offered_codecs
from sipprobe.signalling.hold import reinvites
from sipprobe.sip.message import parse_message


def _ms(start: SipEvent | float, end: SipEvent) -> float:
    t0 = start.t_s if isinstance(start, SipEvent) else start
    return round((end.t_s - t0) * 1000.0, 3)


@dataclass(frozen=True, slots=True)
class AnsweredDialog:
    """The answering side of one dialog: what arrived and the call as measured."""

    caller: InboundCall
    call: CallResult
    events: tuple[int, ...]


def _header(text: str, name: str) -> str | None:
    try:
        return parse_message(text, tolerant=True).header(name)
    except ValueError:
        return None


def answered_dialog(
    events: list[SipEvent], waited_from_t_s: float, rtcp: RtcpSummary | None = None
) -> AnsweredDialog | None:
    """The dialog of the first INVITE received among ``events`` (one Call-ID, in order), or
    None when no INVITE is among them. ``waited_from_t_s``: when the step started waiting."""
    all_invites = [
        e for e in events if e.is_request and e.method == "INVITE" and e.direction == "rx"
    ]
    if not all_invites:
        return None
    invite = all_invites[0]
    mine = [e for e in events if e.call_id == invite.call_id]
    invites = [e for e in mine if e.is_request and e.method == "INVITE" and e.direction == "rx"]
    sent = [
        e
        for e in mine
        if e.direction == "tx"
        and e.method == "INVITE"
        and e.status_code is not None
        and e.cseq == invite.cseq  # the first INVITE's answers, not a re-INVITE's
    ]
    ringing = next((e for e in sent if e.status_code in (180, 183)), None)
    final = next((e for e in sent if e.status_code is not None and e.status_code >= 200), None)
    ack = next(
        (
            e
            for e in mine
            if e.is_request and e.method == "ACK" and e.direction == "rx" and e.cseq == invite.cseq
        ),
        None,
    )
    bye, bye_final, _ = first_bye(mine)
    message = parse_message(invite.text, tolerant=True)
    answered = final is not None and final.status_code == 200
    delayed = not (message.sdp_body() or "").strip()
    # the codec the call uses: the first of the SDP answer (the ACK's with a delayed offer)
    answer = ack if delayed else final
    later = [e for e in mine if e.cseq != invite.cseq]  # not the first INVITE resent
    held = reinvites(later, final.t_s, by_far_end=True) if answered and final else ()
    caller = InboundCall(
        source=invite.peer,
        transport=invite.transport,
        request_uri=message.request_uri,
        from_header=message.header("from"),
        to_header=message.header("to"),
        asserted_identity=message.header("p-asserted-identity"),
        contact=message.header("contact"),
        user_agent=message.header("user-agent"),
        call_id=invite.call_id,
        invite_after_ms=round((invite.t_s - waited_from_t_s) * 1000.0, 3),
        ringing_sent_ms=_ms(invite, ringing) if ringing is not None else None,
        answered_sent_ms=_ms(invite, final) if answered and final is not None else None,
        ack_after_ms=_ms(final, ack) if answered and final and ack else None,
        offered_codecs=offered_codecs(invite),
        delayed_offer=delayed,
        held_by_caller=held,
    )
    hangup_by = None
    if bye is not None:
        hangup_by = "remote" if bye.direction == "rx" else "probe"
    probe_bye = bye is not None and bye.direction == "tx"
    call = CallResult(
        target=message.request_uri or "",
        call_id=invite.call_id,
        status_code=final.status_code if final is not None else None,
        reason=final.first_line.split(" ", 2)[-1] if final is not None else "",
        answered=answered,
        trying_ms=None,
        pdd_ms=None,
        answer_ms=None,
        challenge=None,
        invite_retransmissions=sum(1 for e in invites if e.cseq == invite.cseq) - 1,
        early_media=False,
        ringing=ringing is not None,
        hold_s=round(bye.t_s - final.t_s, 3) if answered and final and bye else None,
        bye_ms=_ms(bye, bye_final) if probe_bye and bye and bye_final else None,
        bye_status=bye_final.status_code if bye_final is not None else None,
        hangup_by=hangup_by,  # type: ignore[arg-type]
        offered_codecs=caller.offered_codecs,
        codec=next(iter(offered_codecs(answer)), None) if answered else None,
        rtcp=rtcp,
    )
    return AnsweredDialog(caller, call, tuple(e.index for e in mine))
