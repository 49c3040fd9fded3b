"""The call step: INVITE, hold for a while with audio flowing, BYE, all time-bounded."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pjsua2 as pj

from sipprobe.errors import SignallingError
from sipprobe.model.dtmf import CallDtmf, DtmfMethod
from sipprobe.model.hold import CallHold, HoldMode, hold_start_s
from sipprobe.model.results import CallResult, RtcpSummary, SipEvent
from sipprobe.model.session_timer import MIN_SE_S, TimerUse
from sipprobe.signalling.account import ProbeAccount, use_session_timer
from sipprobe.signalling.ack import ok_resent_after_ack
from sipprobe.signalling.dialog import (
    invite_timings,
    offered_codecs,
    unusable_answer,
)
from sipprobe.signalling.hold import reinvites, without_reinvites
from sipprobe.signalling.inband import InbandDigits
from sipprobe.signalling.legs import side_events
from sipprobe.signalling.session_timer import session_timer
from sipprobe.signalling.stack import SipStack, hang_up
from sipprobe.sip.message import parse_message
from sipprobe.sip.sdp import parse_sdp
from sipprobe.sip.telephone_event import DTMF_HEADER, INBAND_UNCHECKED, far_end_digits

Progress = Callable[[str], None]
# Synthetic speech (sipprobe/media/make_reference.py): an echoing far end sends it back and the
# listening score (P.862) needs speech; the echo round trip correlates it as well as tones.
REFERENCE_AUDIO = Path(__file__).resolve().parent.parent / "media" / "speech-8k.wav"


@dataclass(frozen=True, slots=True)
class CallPlan:
    uri: str
    duration_s: float = 5.0
    answer_timeout_s: float = 30.0
    bye_timeout_s: float = 5.0
    expect_status: int = 200
    media_file: str = str(REFERENCE_AUDIO)  # WAV the probe plays, looped
    dtmf: str = ""  # digits sent once the call is up ("": none)
    dtmf_method: DtmfMethod = "rfc4733"
    dtmf_duration_ms: int = 160
    dtmf_after_s: float = 1.0  # after the answer: the streams have settled by then
    hold_s: float = 0.0  # hold the call this long (sendonly re-INVITE, then resume); 0: no hold
    hold_mode: HoldMode = "sendonly"  # the direction the hold offers (inactive: neither sends)
    session_expires_s: int | None = None  # RFC 4028 interval asked for; None: stack default
    session_timer: TimerUse = "optional"


@dataclass(frozen=True, slots=True)
class CallOutcome:
    result: CallResult
    timed_out: str | None  # which phase hit its bound: "answer" or "bye"
    origin: str  # where the final status came from: "network", "local" or "none"
    events: tuple[int, ...]


class ProbeCall(pj.Call):  # type: ignore[misc]
    """Records state changes; plays audio into the call once media is up."""

    def __init__(
        self,
        stack: SipStack,
        account: ProbeAccount,
        media_file: str,
        incoming_id: int = pj.PJSUA_INVALID_ID,  # an incoming call's id (signalling/answer.py)
    ) -> None:
        super().__init__(account, incoming_id)
        self._stack = stack
        self._media_file = media_file
        self.states: list[tuple[float, int, int, str]] = []
        self.call_id = ""
        self.disconnected = False
        self.confirmed = False
        self.answered_at = 0.0  # monotonic time the call was confirmed
        self.hangup_requested = False
        self.media_up = False
        self.dtmf_sent_at: float | None = None  # monotonic time the digits were handed over
        self.dtmf_error: str | None = None
        self.audio: Any = None  # the call's AudioMedia and the reference audio's player
        self.player: Any = None
        self.inband: InbandDigits | None = None  # in-band DTMF being played
        self.hold_phase = 0  # 1: hold re-INVITE sent, 2: resume sent
        self.hold_error: str | None = None

    def send_dtmf(self, digits: str, method: DtmfMethod, duration_ms: int) -> None:
        """Hand the digits to the SIP stack (it paces RFC 4733 events itself); a refusal is
        recorded, not raised: a far end that did not negotiate telephone-event is a result."""
        if method == "inband":
            self._play_digits(digits, duration_ms)
            return
        param = pj.CallSendDtmfParam()
        param.digits = digits
        param.duration = duration_ms
        param.method = (
            pj.PJSUA_DTMF_METHOD_SIP_INFO if method == "sip-info" else pj.PJSUA_DTMF_METHOD_RFC2833
        )
        self.dtmf_sent_at = time.monotonic()
        try:
            self.sendDtmf(param)
        except pj.Error as exc:
            self.dtmf_error = str(exc.reason)

    def _play_digits(self, digits: str, duration_ms: int) -> None:
        self.dtmf_sent_at = time.monotonic()
        if self.audio is None:
            self.dtmf_error = "no audio media to play the tones into"
            return
        self.inband = InbandDigits(self.audio, self.player)
        try:
            self._stack.own(self.inband.start(digits, duration_ms))
        except pj.Error as exc:
            self.dtmf_error = str(exc.reason)

    def hold_or_resume(self, mode: HoldMode) -> None:
        """Send the next re-INVITE of the hold: sendonly (``Call.setHold``) or inactive (the
        call's media direction set to none) first, then sendrecv again."""
        resume = self.hold_phase == 1
        self.hold_phase += 1
        try:
            if resume:
                param = pj.CallOpParam(True)
                param.opt.flag = pj.PJSUA_CALL_UNHOLD
                if mode == "inactive":  # the direction persists until set again
                    param.opt.flag |= pj.PJSUA_CALL_SET_MEDIA_DIR
                    param.opt.mediaDir = pj.IntVector([pj.PJMEDIA_DIR_ENCODING_DECODING])
                self.reinvite(param)
            elif mode == "inactive":
                param = pj.CallOpParam(True)
                param.opt.flag = pj.PJSUA_CALL_SET_MEDIA_DIR
                param.opt.mediaDir = pj.IntVector([pj.PJMEDIA_DIR_NONE])
                self.reinvite(param)
            else:
                self.setHold(pj.CallOpParam(True))
        except pj.Error as exc:
            what = "resume" if resume else "hold"
            self.hold_error = f"{what}: {exc.reason}"
            self.hold_phase = 2  # no resume without a hold

    def onCallState(self, prm: Any) -> None:  # noqa: N802 - pjsua2 callback name
        try:
            info = self.getInfo()
            self.call_id = str(info.callIdString)
            self.states.append(
                (time.monotonic(), int(info.state), int(info.lastStatusCode), str(info.lastReason))
            )
            if info.state == pj.PJSIP_INV_STATE_CONFIRMED and not self.confirmed:
                self.confirmed = True
                self.answered_at = time.monotonic()
            if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self.disconnected = True
        except BaseException as exc:  # noqa: BLE001 - SWIG would swallow it
            self._stack.callback_errors.append(exc)

    def onCallMediaState(self, prm: Any) -> None:  # noqa: N802 - pjsua2 callback name
        try:
            info = self.getInfo()
            for index, media in enumerate(info.media):
                if (
                    media.type == pj.PJMEDIA_TYPE_AUDIO
                    and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                    and not self.media_up
                ):
                    self.media_up = True
                    self._play_into(self.getAudioMedia(index))
        except BaseException as exc:  # noqa: BLE001 - SWIG would swallow it
            self._stack.callback_errors.append(exc)

    def _play_into(self, audio: Any) -> None:
        player = pj.AudioMediaPlayer()
        try:
            player.createPlayer(self._media_file, 0)  # 0: loop
        except pj.Error as exc:
            raise SignallingError(f"cannot play {self._media_file}: {exc.reason}") from exc
        player.startTransmit(audio)
        self._stack.own(player)
        self.audio, self.player = audio, player

    def rtcp_summary(self) -> RtcpSummary | None:
        """pjmedia's view of the first audio stream, or None when there is none."""
        try:
            stat = self.getStreamStat(0)
            info = self.getStreamInfo(0)
        except pj.Error:
            return None
        rx, tx = stat.rtcp.rxStat, stat.rtcp.txStat
        expected = rx.pkt + rx.loss
        rtt = stat.rtcp.rttUsec
        return RtcpSummary(
            source="pjmedia (probe's RTP receiver; tx side as reported by far-end RTCP)",
            rx_packets=int(rx.pkt),
            rx_lost=int(rx.loss),
            rx_loss_pct=round(100.0 * rx.loss / expected, 3) if expected else None,
            rx_jitter_mean_ms=_usec_ms(rx.jitterUsec.mean, rx.jitterUsec.n),
            rx_jitter_max_ms=_usec_ms(rx.jitterUsec.max, rx.jitterUsec.n),
            tx_packets=int(tx.pkt),
            tx_lost_reported=int(tx.loss) if tx.update.sec or tx.updateCount else None,
            tx_jitter_reported_ms=_usec_ms(tx.jitterUsec.mean, tx.jitterUsec.n),
            rtt_ms=_usec_ms(rtt.mean, rtt.n),
            remote_rtp=str(info.remoteRtpAddress) or None,
        )

    def codec(self) -> str | None:
        try:
            info = self.getStreamInfo(0)
        except pj.Error:
            return None
        return f"{info.codecName}/{info.codecClockRate}"


def _usec_ms(value: float, samples: int) -> float | None:
    return round(float(value) / 1000.0, 3) if samples else None


def place_call(
    stack: SipStack, account: ProbeAccount, plan: CallPlan, progress: Progress | None = None
) -> CallOutcome:
    """Make one call and hold it for ``plan.duration_s``; every phase has a time bound."""
    return place_calls(stack, account, plan, 1, progress)[0]


def place_calls(
    stack: SipStack,
    account: ProbeAccount,
    plan: CallPlan,
    count: int,
    progress: Progress | None = None,
) -> list[CallOutcome]:
    """Make ``count`` simultaneous calls, hold them together, hang them all up.

    Every phase has a time bound shared by all calls: answer, hold, and the BYE round trip.
    """
    say = progress or (lambda _text: None)
    first_event = len(stack.timeline)
    use_session_timer(account, plan.session_timer, plan.session_expires_s or 0)
    calls = [_dial(stack, account, plan) for _ in range(count)]
    what = plan.uri if count == 1 else f"{count} calls to {plan.uri}"
    say(f"calling {what}")
    stack.run_until(
        lambda: all(c.confirmed or c.disconnected for c in calls), plan.answer_timeout_s
    )
    timed_out: dict[int, str] = {}
    for call in calls:
        if not (call.confirmed or call.disconnected):
            timed_out[id(call)] = "answer"
            _hangup_quietly(call)
    if timed_out:
        say(f"{len(timed_out)} of {count} not answered within {plan.answer_timeout_s:g} s")
        stack.run_until(lambda: all(c.disconnected for c in calls if id(c) in timed_out), 2.0)
    live = [c for c in calls if c.confirmed and not c.disconnected]
    codecs = {id(c): c.codec() for c in calls if c.confirmed}
    _hold(stack, live, plan, say)
    rtcp = {id(c): c.rtcp_summary() for c in calls if c.confirmed}
    ending = [c for c in live if not c.disconnected]  # still up: the probe hangs up
    for call in ending:
        _hangup_quietly(call)
    # pjsua reports DISCONNECTED as soon as the BYE leaves; wait for the answers too.
    answered = stack.run_until(
        lambda: (
            all(c.disconnected for c in ending)
            and _byes_answered(stack, first_event) >= {c.call_id for c in ending}
        ),
        plan.bye_timeout_s,
    )
    if not answered:
        done = _byes_answered(stack, first_event)
        for call in ending:
            if call.call_id not in done:
                timed_out[id(call)] = "bye"
    return [
        _outcome(
            stack, c, plan, first_event, timed_out.get(id(c)), codecs.get(id(c)), rtcp.get(id(c))
        )
        for c in calls
    ]


def _dial(stack: SipStack, account: ProbeAccount, plan: CallPlan) -> ProbeCall:
    call = ProbeCall(stack, account, plan.media_file)
    stack.own(call, hangup=lambda: _hangup_quietly(call))
    try:
        call.makeCall(plan.uri, pj.CallOpParam(True))
    except pj.Error as exc:
        stack.release(call)
        raise SignallingError(f"cannot place a call to {plan.uri}: {exc.reason}") from exc
    return call


def _hold(stack: SipStack, calls: list[ProbeCall], plan: CallPlan, say: Progress) -> None:
    """Keep the calls up for the planned time, or until the far end hung them all up."""
    if not calls:
        return
    started = time.monotonic()
    last_shown = -1

    def tick() -> None:
        nonlocal last_shown
        elapsed = time.monotonic() - started
        if plan.dtmf and elapsed >= plan.dtmf_after_s:
            for call in calls:
                if call.dtmf_sent_at is None and not call.disconnected:
                    call.send_dtmf(plan.dtmf, plan.dtmf_method, plan.dtmf_duration_ms)
                if call.inband is not None:
                    call.inband.poll()
        if plan.hold_s > 0:
            hold_at = hold_start_s(plan.dtmf)
            due = 1 if elapsed >= hold_at else 0
            due = 2 if elapsed >= hold_at + plan.hold_s else due
            for call in calls:
                if call.hold_phase < due and not call.disconnected:
                    call.hold_or_resume(plan.hold_mode)
        second = int(time.monotonic() - started)
        if second != last_shown:
            last_shown = second
            up = sum(not c.disconnected for c in calls)
            count = f", {up}/{len(calls)} up" if len(calls) > 1 else ""
            say(f"in call {second}/{plan.duration_s:g} s{count}")

    stack.run_until(
        lambda: all(c.disconnected for c in calls) or time.monotonic() - started >= plan.duration_s,
        plan.duration_s + 1.0,
        tick,
    )


def _byes_answered(stack: SipStack, first_event: int) -> set[str]:
    """Call-IDs whose BYE got a final response since ``first_event``."""
    return {
        e.call_id
        for e in stack.timeline.since(first_event)
        if e.direction == "rx" and e.method == "BYE" and (e.status_code or 0) >= 200
    }


def _hangup_quietly(call: ProbeCall) -> bool:
    """Hang up unless already ended (noting that the probe asked); whether a hangup was sent."""
    call.hangup_requested = True
    return hang_up(call)


def _outcome(
    stack: SipStack,
    call: ProbeCall,
    plan: CallPlan,
    first_event: int,
    timed_out: str | None,
    codec: str | None,
    rtcp: RtcpSummary | None,
) -> CallOutcome:
    # Only the caller's side: when the probe also answers the call, the other leg is its own.
    events = side_events(stack.timeline.since(first_event), call.call_id, "caller")
    timings = invite_timings(without_reinvites(events))
    last_state = call.states[-1] if call.states else None
    status = None
    reason = ""
    origin = "none"
    if timed_out == "answer":
        provisional = (
            "after a provisional response"
            if timings.pdd_ms or timings.trying_ms
            else ("and no provisional response")
        )
        reason = f"no final response within {plan.answer_timeout_s:g} s {provisional}"
    elif timings.final is not None:
        status = timings.final.status_code
        reason = parse_reason(timings.final.first_line)
        origin = "network"
    elif last_state is not None and last_state[2] >= 200:
        status, reason, origin = last_state[2], last_state[3], "local"
    hangup_by: Literal["probe", "remote"] | None = None
    if timings.bye is not None:
        hangup_by = "remote" if timings.remote_bye else "probe"
    local_disconnect = None
    answered = call.confirmed or status == 200
    if answered and not call.hangup_requested and not timings.remote_bye and last_state:
        # pjsua ended an answered call by itself, e.g. when the answer's SDP was unusable
        # (then it sends ACK and BYE at once and the call is never confirmed).
        local_disconnect = f"{last_state[2]} {last_state[3]}".strip()
    result = CallResult(
        target=plan.uri,
        call_id=call.call_id,
        status_code=status,
        reason=reason,
        answered=status == 200,
        trying_ms=timings.trying_ms,
        pdd_ms=timings.pdd_ms,
        answer_ms=timings.answer_ms,
        challenge=timings.challenge,
        invite_retransmissions=timings.invite_retransmissions,
        early_media=timings.early_media,
        ringing=timings.ringing,
        hold_s=timings.hold_s,
        bye_ms=timings.bye_ms,
        bye_status=timings.bye_response.status_code if timings.bye_response else None,
        hangup_by=hangup_by,
        offered_codecs=offered_codecs(timings.first_invite),
        codec=codec,
        rtcp=rtcp,
        local_disconnect=local_disconnect,
        srtp=_answer_uses_srtp(timings.final),
        unusable_answer=unusable_answer(timings.first_invite, timings.final),
        dtmf=_dtmf_sent(call, plan, timings.bye_response),
        hold=_hold_of(call, plan, events, timings.final),
        ok_resent_after_ack=ok_resent_after_ack(events),
        session_timer=session_timer(events, plan.session_expires_s, MIN_SE_S),
    )
    return CallOutcome(result, timed_out, origin, tuple(e.index for e in events))


def _hold_of(
    call: ProbeCall, plan: CallPlan, events: list[SipEvent], final: SipEvent | None
) -> CallHold | None:
    """The hold's re-INVITEs; what the media did is read from the capture (run/callmedia.py)."""
    if plan.hold_s <= 0 or not call.confirmed or final is None:
        return None
    error = call.hold_error
    if error is None and call.hold_phase < 2:
        error = "the call ended before the hold was over"
    return CallHold(plan.hold_s, error, reinvites(events, final.t_s), mode=plan.hold_mode)


def _dtmf_sent(call: ProbeCall, plan: CallPlan, bye_response: SipEvent | None) -> CallDtmf | None:
    """What the probe sent, and what a sipprobe responder says it received (its 200 to the
    probe's BYE); what came back is read from the capture (run/callmedia.py)."""
    if not plan.dtmf or not call.confirmed:
        return None
    sent_at = error = None
    if call.dtmf_sent_at is None:
        error = "the call ended before the digits were due"
    else:
        sent_at = round(call.dtmf_sent_at - call.answered_at, 3)
        error = call.dtmf_error
    far_end = None
    if bye_response is not None and bye_response.status_code == 200:
        try:
            value = parse_message(bye_response.text).header(DTMF_HEADER)
        except ValueError:
            value = None
        if value is not None:
            far_end = far_end_digits(value).get(plan.dtmf_method, "")
            if plan.dtmf_method == "inband" and INBAND_UNCHECKED in value:
                far_end = None  # the responder did not listen (load, codec, SRTP)
    info = plan.dtmf_method == "sip-info" and far_end is not None
    return CallDtmf(
        sent=plan.dtmf,
        method=plan.dtmf_method,
        duration_ms=plan.dtmf_duration_ms,
        sent_at_s=sent_at,
        send_error=error,
        received=far_end if info else None,
        received_method="sip-info" if info and far_end else None,
        sent_digits=(),
        received_digits=(),
        far_end_received=far_end,
    )


def _answer_uses_srtp(final: SipEvent | None) -> bool | None:
    """Whether the 2xx answer put the audio on a secure profile (RTP/SAVP, RTP/SAVPF); None
    without a 200 whose SDP has audio."""
    if final is None or final.status_code != 200:
        return None
    try:
        body = parse_message(final.text).sdp_body()
        audio = parse_sdp(body, tolerant=True).audio if body is not None else None
    except ValueError:
        return None
    return None if audio is None else audio.secure


def parse_reason(status_line: str) -> str:
    parts = status_line.split(" ", 2)
    return parts[2] if len(parts) > 2 else ""
