"""Each call's media, measured from the run's capture: which stream is which, in which direction.

The SDP the probe sent (the offer) says where the probe receives RTP; the SDP answer says
where the far end wants it. A stream arriving at the probe's address is ``rx`` (platform to
probe), one leaving it is ``tx`` (probe to platform, the probe's own sending regularity: the
measurement floor). Both come from the capture, so ``source`` is ``capture``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from sipprobe.analysis.analyze import AnalysisResult, AnalyzeOptions, analyze_file
from sipprobe.analysis.codecs import planning_values
from sipprobe.analysis.dtmf import EventPacket, digits_text, rfc4733_digits, stream_digits
from sipprobe.analysis.echo import EchoPacket, decode_g711_stream, measure_echo
from sipprobe.analysis.emodel import e_model
from sipprobe.analysis.hold import hold_media
from sipprobe.analysis.listening import listen_to_echo
from sipprobe.capture.payloads import RtpPayload, rtp_payloads
from sipprobe.model.dtmf import CallDtmf, DtmfDigit, ReceivedMethod
from sipprobe.model.endpoint import Endpoint
from sipprobe.model.media import CallEcho, CallListening, CallStream, EchoRttMs
from sipprobe.model.results import CallResult, Direction, SipEvent, StepResult
from sipprobe.sip.codecs import codec_by_name
from sipprobe.sip.message import parse_message
from sipprobe.sip.sdp import parse_sdp


@dataclass(frozen=True, slots=True)
class CallMediaEnds:
    """Where a call's RTP should flow, from the SDP offer and answer in the timeline."""

    call_id: str
    local: str | None  # "addr:port" the probe announced
    remote: str | None  # "addr:port" the far end announced
    # telephone-event payload types: what the probe receives (its offer), sends (the answer)
    events_rx: int | None = None
    events_tx: int | None = None


def sdp_endpoint(body: str) -> str | None:
    """``addr:port`` of the first audio stream of an SDP body, written as the capture's stream
    endpoints are. Read as SDP in a capture is (tolerant), so that a line the far end got
    wrong does not lose the stream the analysis finds."""
    for media in parse_sdp(body, tolerant=True).media:
        receiver = media.receive_endpoint() if media.media == "audio" else None
        if receiver is not None:
            return str(receiver)
    return None


def telephone_event_type(body: str) -> int | None:
    """The payload type of telephone-event/8000 in the first audio stream, if offered."""
    audio = parse_sdp(body, tolerant=True).audio
    if audio is None:
        return None
    return next(
        (
            m.payload_type
            for m in audio.rtpmap
            if m.name.lower() == "telephone-event" and m.clock_rate == 8000
        ),
        None,
    )


def call_media_ends(
    events: Iterable[SipEvent], call_id: str, callee: bool = False
) -> CallMediaEnds:
    """The ends of the caller's leg, or with ``callee`` of the leg the probe answered (the
    offer arrives, the answer is sent): on a proxy both legs share the Call-ID. A caller whose
    INVITE had no SDP (delayed offer) gives its end in the ACK. With each end, the
    telephone-event payload type its SDP names (DTMF)."""
    offers, answers = ("rx", "tx") if callee else ("tx", "rx")
    offer = answer = None
    offer_events = answer_events = None
    for event in events:
        if event.call_id != call_id or "application/sdp" not in event.text.lower():
            continue
        try:
            body = parse_message(event.text).sdp_body()
        except ValueError:
            continue
        endpoint = sdp_endpoint(body) if body is not None else None
        if body is None:
            continue
        if event.direction == offers and event.is_request and event.method == "INVITE":
            if offer is None:
                offer, offer_events = endpoint, telephone_event_type(body)
        elif callee and event.direction == "rx" and event.is_request and event.method == "ACK":
            if offer is None:  # a delayed offer: the probe's 200 OK offered, the ACK answers
                offer, offer_events = endpoint, telephone_event_type(body)
        elif event.direction == answers and event.status_code is not None:
            answer = endpoint or answer  # the last answer wins (183 then 200)
            answer_events = telephone_event_type(body) if endpoint else answer_events
    if callee:  # the probe answered: its own end is the answer
        return CallMediaEnds(call_id, answer, offer, answer_events, offer_events)
    return CallMediaEnds(call_id, offer, answer, offer_events, answer_events)


def _port(endpoint: str | None) -> int | None:
    return None if endpoint is None else Endpoint.parse(endpoint).port


def analyse_run_capture(
    path: Path, ends: list[CallMediaEnds], jitter_buffer_ms: float = 60.0
) -> AnalysisResult:
    ports = tuple(p for p in (_port(e.local) for e in ends) if p is not None)
    return analyze_file(path, AnalyzeOptions(jitter_buffer_ms=jitter_buffer_ms, rtp_ports=ports))


def streams_of_call(analysis: AnalysisResult, ends: CallMediaEnds) -> tuple[CallStream, ...]:
    """The call's streams, rx first, each with its direction seen from the probe."""
    if ends.local is None:
        return ()
    announced = Endpoint.parse(ends.remote) if ends.remote is not None else None
    found: list[CallStream] = []
    for result in analysis.streams:
        stream = result.stream
        direction: Direction
        if stream.dst == ends.local:
            direction = "rx"
        elif stream.src == ends.local:
            direction = "tx"
        else:
            continue
        from_announced = stream.src == ends.remote if direction == "rx" else None
        found.append(CallStream(direction, "capture", announced, from_announced, result))
    return tuple(sorted(found, key=lambda s: (s.direction != "rx", s.measured.start_s)))


def attach_streams(
    steps: tuple[StepResult, ...], timeline: tuple[SipEvent, ...], analysis: AnalysisResult
) -> tuple[StepResult, ...]:
    """Steps with each call's ``streams`` filled from the capture analysis."""
    updated = []
    for step in steps:
        call = step.call
        if call is None or not call.call_id:
            updated.append(step)
            continue
        # an answer step's call came in: the probe's end is its SDP answer (run/inbound.py)
        ends = call_media_ends(timeline, call.call_id, callee=step.kind == "answer")
        streams = streams_of_call(analysis, ends)
        callee = call.callee
        if callee is not None and callee.call_id:
            callee_ends = call_media_ends(timeline, callee.call_id, callee=True)
            callee = replace(callee, streams=streams_of_call(analysis, callee_ends))
        updated.append(replace(step, call=replace(call, streams=streams, callee=callee)))
    return tuple(updated)


def calls_media_ends(
    steps: tuple[StepResult, ...], timeline: tuple[SipEvent, ...]
) -> list[CallMediaEnds]:
    ends = []
    for step in steps:
        call = step.call
        if call is not None and call.call_id:
            ends.append(call_media_ends(timeline, call.call_id, callee=step.kind == "answer"))
        if call is not None and call.callee is not None and call.callee.call_id:
            ends.append(call_media_ends(timeline, call.callee.call_id, callee=True))
    return ends


def _echo_packets(packets: list[RtpPayload], local_port: int, sent: bool) -> list[EchoPacket]:
    return [
        EchoPacket(p.arrival_s, p.seq, p.payload_type, p.payload, p.timestamp)
        for p in packets
        if (p.src_port if sent else p.dst_port) == local_port
    ]


def echo_report(
    packets: list[RtpPayload],
    local_port: int,
    rx: CallStream | None,
    jitter_buffer_ms: float,
) -> CallEcho | None:
    """The call's echo round trip and the MOS-CQ it implies, or None without an echo."""
    result = measure_echo(
        _echo_packets(packets, local_port, sent=True),
        _echo_packets(packets, local_port, sent=False),
    )
    if result is None:
        return None
    echo = CallEcho(
        lag_ms=result.lag_ms,
        correlation=result.correlation,
        packets=result.packets,
        rtt_ms=EchoRttMs(
            result.rtt_ms_min, result.rtt_ms_median, result.rtt_ms_p95, result.rtt_ms_max
        ),
        histogram_ms=result.histogram_ms,
        one_way_delay_ms=None,
        mos_cq=None,
        mos_cq_null_reason=None,
    )
    if rx is None:
        return replace(echo, mos_cq_null_reason="no received stream to score")
    metrics, stream = rx.measured.metrics, rx.measured.stream
    ptime = metrics.ptime_ms or 20.0
    ta_ms = result.rtt_ms_median / 2.0 + jitter_buffer_ms + ptime
    echo = replace(echo, one_way_delay_ms=round(ta_ms, 3))
    codec_name, clock = stream.codec, stream.clock_rate
    values = (
        planning_values(codec_by_name(codec_name, clock), plc=True)
        if codec_name and clock
        else None
    )
    if values is None:
        return replace(echo, mos_cq_null_reason=f"no E-model planning value for codec {codec_name}")
    score = e_model(
        ie=values.ie,
        bpl=values.bpl,
        ppl_pct=metrics.ppl_pct,
        burst_r=max(1.0, metrics.burst_r or 1.0),
        ta_ms=ta_ms,
    )
    return replace(echo, mos_cq=round(score.mos, 4), r_factor_cq=round(score.r, 4))


def listening_report(
    packets: list[RtpPayload], sender_port: int, receiver_port: int
) -> CallListening | None:
    """MOS-LQO of what arrived at ``receiver_port``, scored against what ``sender_port`` sent:
    the same port for an echoing far end (what came back against what the probe sent), the
    two legs' ports for a two-leg call (what one leg heard against what the other sent)."""
    score = listen_to_echo(
        _echo_packets(packets, sender_port, sent=True),
        _echo_packets(packets, receiver_port, sent=False),
    )
    if score is None:
        return None
    return CallListening(score.mos_lqo, score.model, score.aligned_delay_ms, score.active_speech_s)


def attach_echo(
    steps: tuple[StepResult, ...],
    timeline: tuple[SipEvent, ...],
    path: Path,
    jitter_buffer_ms: float = 60.0,
) -> tuple[StepResult, ...]:
    """Steps with each call's ``echo`` and ``listening`` (when the far end echoed), for a
    call that sent DTMF the digits the capture saw (``dtmf``) and for a held call what its
    RTP did (``hold.media``), filled in from the RTP packets of the caller's leg."""
    caller_steps = tuple(
        replace(s, call=replace(s.call, callee=None)) if s.call is not None else s
        for s in steps
        if s.kind != "answer"  # a call that came in: its caller plays what it likes, no echo
    )
    ends = {e.call_id: e for e in calls_media_ends(caller_steps, timeline)}
    # A two-leg call's digits arrive at its callee's leg, and each leg hears the other's
    # speech: the callee's RTP is read too.
    callees = {
        s.call.call_id: call_media_ends(timeline, s.call.callee.call_id, callee=True)
        for s in steps
        if s.call is not None and s.call.callee is not None
    }
    ends_read = [*ends.values(), *callees.values()]
    ports = {p for p in (_port(e.local) for e in ends_read) if p is not None}
    if not ports:
        return steps
    packets = rtp_payloads(path, ports)
    updated = []
    for step in steps:
        call = step.call
        local = _port(ends[call.call_id].local) if call and call.call_id in ends else None
        if call is None or local is None or step.kind == "answer":
            updated.append(step)
            continue
        # SRTP payloads are encrypted: neither their audio nor their events can be read.
        if call.dtmf is not None and not call.srtp:
            receiver = callees.get(call.call_id)
            call = replace(call, dtmf=dtmf_report(call.dtmf, packets, ends[call.call_id], receiver))
        if call.hold is not None:  # arrival times only: SRTP headers are clear
            rx = [p.arrival_s for p in packets if p.dst_port == local]
            tx = [p.arrival_s for p in packets if p.src_port == local]
            call = replace(
                call, hold=replace(call.hold, media=hold_media(rx, tx, call.hold.hold_s))
            )
        # Encrypted payloads are not audio: a far end that reflects SRTP byte for byte would
        # correlate perfectly with noise, so an SRTP call has no echo figures.
        if call.srtp:
            updated.append(replace(step, call=call))
            continue
        # Nor has a two-leg call: its far end is the probe playing the same speech, not an
        # echo; each leg's listening quality is what it heard of the other's speech.
        if call.callee is not None:
            updated.append(replace(step, call=_legs_listening(call, packets, local, callees)))
            continue
        echo = echo_report(packets, local, call.rx_stream, jitter_buffer_ms)
        # Scored whether or not the echo's round trip could be measured: a call whose every
        # window of the echo is cut by a lost packet (or whose far end re-frames the audio
        # beyond recognition) still has speech that came back to be scored.
        listening = listening_report(packets, local, local)
        updated.append(replace(step, call=replace(call, echo=echo, listening=listening)))
    return tuple(updated)


def _legs_listening(
    call: CallResult,
    packets: list[RtpPayload],
    caller_port: int,
    callees: dict[str, CallMediaEnds],
) -> CallResult:
    """A two-leg call with each leg's MOS-LQO: the caller's (what it heard of the callee's
    speech) and the callee's (what it heard of the caller's)."""
    callee = call.callee
    ends = callees.get(call.call_id)
    callee_port = _port(ends.local) if ends is not None else None
    if callee is None or callee_port is None:
        return call
    return replace(
        call,
        listening=listening_report(packets, callee_port, caller_port),
        callee=replace(callee, listening=listening_report(packets, caller_port, callee_port)),
    )


def _event_packets(packets: list[RtpPayload], port: int, sent: bool, pt: int) -> list[EventPacket]:
    return [
        EventPacket(p.arrival_s, p.timestamp, p.payload)
        for p in packets
        if p.payload_type == pt and (p.src_port if sent else p.dst_port) == port
    ]


def _tones(packets: list[RtpPayload], port: int, sent: bool) -> tuple[DtmfDigit, ...] | None:
    """In-band digits of the call's G.711 audio one way; None when none of it was G.711."""
    stream = decode_g711_stream(_echo_packets(packets, port, sent))
    return stream_digits(stream) if len(stream.starts) else None


def dtmf_report(
    dtmf: CallDtmf,
    packets: list[RtpPayload],
    ends: CallMediaEnds,
    receiver: CallMediaEnds | None = None,
) -> CallDtmf:
    """The call's DTMF with what the capture saw: RFC 4733 events and in-band tones, sent
    (the probe's stream, ``ends``) and received (at ``receiver``: the callee's leg of a
    two-leg call, else the probe's own). Tones are looked for whatever the method: a gateway
    may turn events into tones or send both (``inband_received``). Digits sent in SIP INFO
    do not come back in the media: what the far end got stays unmeasured."""
    local = _port(ends.local)
    receiver = receiver or ends
    into = _port(receiver.local)
    if local is None or into is None:
        return dtmf
    received_tones = _tones(packets, into, sent=False)
    inband = digits_text(received_tones) if received_tones is not None else None
    if dtmf.method == "sip-info":
        return replace(dtmf, inband_received=inband)
    if dtmf.method == "inband":
        sent = _tones(packets, local, sent=True) or ()
    else:
        sent = (
            rfc4733_digits(_event_packets(packets, local, True, ends.events_tx))
            if ends.events_tx is not None
            else ()
        )
    events = (
        rfc4733_digits(_event_packets(packets, into, False, receiver.events_rx))
        if receiver.events_rx is not None
        else ()
    )
    arrived: list[tuple[ReceivedMethod, tuple[DtmfDigit, ...]]] = [
        ("rfc4733", events),
        ("inband", received_tones or ()),
    ]
    if dtmf.method == "inband":
        arrived.reverse()
    method, received = next(((m, d) for m, d in arrived if d), (None, ()))
    return replace(
        dtmf,
        sent_digits=sent,
        received_digits=received,
        received=digits_text(received),
        received_method=method,
        inband_received=inband,
    )
