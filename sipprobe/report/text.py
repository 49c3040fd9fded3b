"""The run report for a terminal: steps, timings, the verdict and findings, at a glance."""

from __future__ import annotations

import math
import re

from sipprobe.model.dtmf import CallDtmf
from sipprobe.model.hold import CallHold, HoldMedia
from sipprobe.model.media import CallStream
from sipprobe.model.results import CallResult, Finding, RunReport, StepResult
from sipprobe.model.steps import AnswerDetail, OptionsDetail, RegisterDetail
from sipprobe.report.calltable import TABLE_FROM_CALLS, many_calls_lines
from sipprobe.report.inbound_text import answer_lines
from sipprobe.report.legs_text import two_leg_lines
from sipprobe.report.timers_text import session_timer_line
from sipprobe.verdict.headline import headline

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters shown as ``\\xNN``: a reason phrase from a hostile
    peer must not drive the reader's terminal (escape sequences) or break a line."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def format_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def step_result(step: StepResult) -> str:
    mark = "ok  " if step.ok else "FAIL"
    if step.kind == "wait":
        return mark
    if step.status_code is not None:
        return f"{mark} {step.status_code} {step.reason}".rstrip()
    return f"{mark} {step.reason or 'no response'}"


def step_timings(step: StepResult) -> str:
    labels = {
        "rtt": "rtt",
        "trying": "100",
        "pdd": "18x",
        "answer": "200",
        "bye": "BYE",
        "request_to_final": "final",
        "total": "total",
    }
    return "  ".join(f"{labels.get(k, k)} {format_ms(v)}" for k, v in step.timings_ms.items())


def _number(value: float | None, spec: str, unit: str = "") -> str:
    # not finite: what the JSON report writes as null
    return "-" if value is None or not math.isfinite(value) else f"{value:{spec}}{unit}"


def _stream_line(stream: CallStream) -> str:
    """One captured stream: direction, ends, loss, jitter, MOS-LQ and DSCP."""
    metrics, info = stream.measured.metrics, stream.measured.stream
    jitter = metrics.jitter_ms
    label = "rx (from far end)" if stream.direction == "rx" else "tx (probe's own)"
    loss = _number(metrics.loss_pct, ".2f", "%")
    mean = _number(jitter.mean if jitter else None, ".2f", " ms")
    peak = _number(jitter.max if jitter else None, ".2f", " ms")
    mos = _number(metrics.mos_lq, ".2f")
    return (
        f"{label} {info.src} -> {info.dst}: {metrics.packets} pkts, "
        f"loss {loss}, jitter mean {mean} max {peak}, MOS-LQ {mos}, DSCP {list(info.dscp)}"
    )


def listening_line(call: CallResult) -> str:
    """The measured MOS-LQO beside the E-model's MOS-LQ of the received stream."""
    listening = call.listening
    assert listening is not None
    rx = call.rx_stream
    estimate = _number(rx.measured.metrics.mos_lq if rx else None, ".2f")
    return (
        f"listening: MOS-LQO {listening.mos_lqo:.2f} (measured, {listening.model}) "
        f"beside MOS-LQ {estimate} (E-model); {listening.active_speech_s:.1f} s of speech, "
        f"aligned at {listening.aligned_delay_ms:.0f} ms"
    )


def _call_lines(call: CallResult) -> list[str]:
    lines = []
    facts = [f"codec {call.codec}" if call.codec else "no media"]
    if call.hold_s is not None:
        facts.append(f"held {call.hold_s:.1f} s")
    if call.hangup_by:
        facts.append(f"hung up by {call.hangup_by}")
    if call.challenge:
        facts.append(f"challenged {call.challenge}")
    if call.early_media:
        facts.append("early media (183)")
    lines.append("; ".join(facts))
    if call.callee is not None:  # both legs side by side, in the order media flows
        lines.extend(two_leg_lines(call, call.callee))
    else:
        lines.extend(_stream_line(stream) for stream in call.streams)
    if call.listening is not None and call.callee is None:  # a two-leg call's is above
        lines.append(listening_line(call))
    rtcp = call.rtcp
    if rtcp is not None:
        loss = f"{rtcp.rx_loss_pct:.2f}%" if rtcp.rx_loss_pct is not None else "-"
        jitter = f"{rtcp.rx_jitter_mean_ms:.2f} ms" if rtcp.rx_jitter_mean_ms is not None else "-"
        far = "far end reports " + (
            f"{rtcp.tx_lost_reported} lost" if rtcp.tx_lost_reported is not None else "nothing yet"
        )
        lines.append(
            f"media (pjmedia): rx {rtcp.rx_packets} pkts, loss {loss}, "
            f"jitter mean {jitter}; tx {rtcp.tx_packets} pkts, {far}"
        )
    lines.extend(call_feature_lines(call))
    return lines


def call_feature_lines(call: CallResult) -> list[str]:
    """The DTMF, the hold and the session timer of a call, as the text report prints them
    (the HTML and Markdown reports show the same lines)."""
    lines = []
    if call.dtmf is not None:
        lines.append(dtmf_line(call.dtmf))
    if call.hold is not None:
        lines.extend(hold_lines(call.hold))
    if call.session_timer is not None:
        lines.append(session_timer_line(call.session_timer))
    return lines


def _media_word(media: HoldMedia | None) -> str:
    if media is None:
        return "not measured"
    if not media.stopped:
        return f"kept flowing (longest silence {media.longest_gap_s:g} s)"
    back = "came back" if media.resumed else "did NOT come back"
    return f"stopped {media.longest_gap_s:g} s, {back}"


def hold_lines(hold: CallHold) -> list[str]:
    """The hold: each re-INVITE, then what the media did in each direction."""
    parts = []
    for r in hold.reinvites:
        status = f"{r.status_code} in {r.response_ms:g} ms" if r.status_code else "no answer"
        parts.append(f"{r.purpose} {r.offered} at {r.at_s:g} s -> {status}, {r.answered or '-'}")
    lines = [f"hold {hold.hold_s:g} s ({hold.mode}): " + ("; ".join(parts) or "no re-INVITE sent")]
    if hold.error is not None:
        lines[0] += f" ({hold.error})"
    if hold.media:
        rx, tx = hold.media_towards("rx"), hold.media_towards("tx")
        lines.append(f"hold media: rx {_media_word(rx)}; tx {_media_word(tx)}")
    return lines


def dtmf_line(dtmf: CallDtmf) -> str:
    """One line: the digits sent, how, and what came back."""
    sent = f"DTMF sent {dtmf.sent!r} ({dtmf.method}, {dtmf.duration_ms} ms each)"
    if dtmf.send_error is not None:
        return f"{sent}: not sent, {dtmf.send_error}"
    far = (
        f"; the far end received {dtmf.far_end_received!r}"
        if dtmf.far_end_received is not None and dtmf.method != "sip-info"
        else ""
    )
    if dtmf.inband_received and dtmf.received_method != "inband":  # a gateway's tones
        far += f"; also in-band {dtmf.inband_received!r}"
    if dtmf.received is None:
        return f"{sent}; what the far end got was not measured"
    if not dtmf.received:
        return f"{sent}; nothing came back{far}"
    verdict = "as sent" if dtmf.matched else "NOT as sent"
    if not dtmf.received_digits:  # SIP INFO: the far end's word, no durations
        return f"{sent}; the far end received {dtmf.received!r}: {verdict}"
    lengths = ", ".join(f"{d.duration_ms:g}" for d in dtmf.received_digits)
    return (
        f"{sent}; received {dtmf.received!r} ({dtmf.received_method}, {lengths} ms): {verdict}{far}"
    )


def _step_lines(step: StepResult) -> list[str]:
    lines = [f"  {step.index + 1:>2}  {step.name[:46]:<46}  {step_result(step)}"]
    timings = step_timings(step)
    if timings:
        lines.append(f"      {timings}")
    detail = step.detail
    if isinstance(detail, OptionsDetail) and (detail.server or detail.user_agent):
        lines.append(f"      server: {detail.server or detail.user_agent}")
    if isinstance(detail, RegisterDetail) and step.ok and detail.action == "register":
        lines.append(
            f"      expires {detail.expires_s} s; contacts: "
            f"{', '.join(c.text for c in detail.contacts) or '-'}"
        )
    if isinstance(detail, AnswerDetail):  # who called and what arrived
        lines.extend(f"      {line}" for line in answer_lines(detail))
    if step.call is not None:
        lines.extend(f"      {line}" for line in _call_lines(step.call))
    return lines


def _finding_line(finding: Finding) -> str:
    return (
        f"  [{finding.severity.value}] {finding.side.value} ({finding.responsible.value}): "
        f"{finding.summary}"
    )


def _bounds_lines(report: RunReport) -> list[str]:
    """What the run's bounds left out: SIP messages not kept, a capture cut at its cap."""
    lines = []
    limits = report.sip_limits
    if limits is not None and (limits.dropped or limits.truncated):
        parts = [f"{count} {why.replace('-', ' ')}" for why, count in limits.dropped]
        if limits.truncated:
            parts.append(f"{limits.truncated} cut at {limits.max_text_chars} characters")
        lines.append(
            f"SIP timeline: {len(report.timeline)} messages kept; not kept: {', '.join(parts)}"
        )
    capture = report.capture
    if capture is not None and capture.limit:
        lines.append(
            f"capture: {capture.limit} ({capture.packets} packets); later packets are not in it"
        )
    return lines


def _steps_lines(steps: tuple[StepResult, ...]) -> list[str]:
    """Each step in turn; with many calls, their table and spread where the first call was."""
    call_steps = [s for s in steps if s.kind == "call"]
    if len(call_steps) < TABLE_FROM_CALLS:
        return [line for step in steps for line in _step_lines(step)]
    lines: list[str] = []
    for step in steps:
        if step.kind != "call":
            lines.extend(_step_lines(step))
        elif step is call_steps[0]:
            lines.extend(many_calls_lines(call_steps))
    return lines


def render_run_text(report: RunReport) -> str:
    verdict = report.verdict
    lines = [
        f"sipprobe {report.probe.get('version', '')}: scenario {report.scenario} "
        f"({report.service}) -> {report.target} over {report.transport.upper()}",
        f"started {report.started_at} from {report.location.value}, took {report.duration_s:.2f} s",
        "",
    ]
    lines.extend(_steps_lines(report.steps))
    lines += [
        "",
        f"VERDICT  messaging {verdict.messaging.value.upper()}   "
        f"media {verdict.media.value.upper()}",
        f"  {verdict.summary}",
        f"  {headline(verdict, report.location)}",
    ]
    if verdict.findings:
        lines.append("findings:")
        lines.extend(_finding_line(f) for f in verdict.findings)
    for error in report.local_errors:
        lines.append(f"local error: {error}")
    if report.baseline is not None:
        lines.append(f"baseline: {report.baseline.status} ({report.baseline.reason})")
    if report.capture is not None and report.capture.error:
        lines.append(f"capture: none ({report.capture.error}); media from RTCP statistics")
    lines.extend(_bounds_lines(report))
    code = verdict.exit_code
    lines.append(f"exit {int(code)} ({code.name})")
    return printable("\n".join(lines)) + "\n"
