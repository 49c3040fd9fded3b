"""Media findings of one call, from the streams measured in the run's capture.

Directions are the probe's: ``rx`` is platform to probe, ``tx`` is probe to platform. The
probe measures rx itself; for tx it relies on what the far end says in its RTCP reports
(``far_end`` of the tx stream, or pjmedia's ``tx_lost_reported``).

Only evidence names a side (docs/demarc.md, "How a side is chosen"): from one vantage point
loss, late packets and one-way audio look the same wherever on the path they happen, so
every finding here is ``unknown`` (the location pass, verdict/attribution.py, may say more).
DSCP is judged only against a marking the far end is known to send (the scenario's
``expect_dscp``, else the far end's ``X-Sipprobe-Rtp-Dscp``); otherwise the value seen is noted.
"""

from __future__ import annotations

import math
from dataclasses import replace

from sipprobe.model.media import CallStream
from sipprobe.model.outcome import Quality
from sipprobe.model.results import CallResult, Finding, Severity, Side, StepResult
from sipprobe.model.steps import CallDetail
from sipprobe.model.thresholds import Thresholds

_ARRIVES = " arrives with "  # splits a dscp-observed note into its source and what was seen


def _finding(severity: Severity, side: Side, code: str, summary: str, step: StepResult) -> Finding:
    return Finding(severity, side, "media", code, summary, step.index, step.events)


def severity_of(quality: Quality) -> Severity | None:
    """The severity of a finding about a figure graded ``quality`` (none when it is good)."""
    if quality is Quality.BAD:
        return Severity.CRITICAL
    if quality is Quality.DEGRADED:
        return Severity.WARNING
    return None


def stream_findings(
    step: StepResult, detail: CallDetail, call: CallResult, limits: Thresholds
) -> list[Finding]:
    rx = call.streams_towards("rx")
    tx = call.streams_towards("tx")
    held = f"{call.hold_s:.1f} s" if call.hold_s is not None else "the call"
    if not rx and not tx:
        return [
            _finding(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "no-rtp",
                f"no RTP in either direction during {held} of answered call",
                step,
            )
        ]
    found: list[Finding] = []
    if not rx:
        sent = sum(s.measured.metrics.packets for s in tx)
        where = tx[0].announced_rtp or tx[0].measured.stream.dst
        found.append(
            _finding(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "one-way-audio",
                f"one-way audio: the probe sent {sent} RTP packets to {where}, none came back "
                f"during {held}",
                step,
            )
        )
    marking = _known_marking(detail, call)
    floor = max((sending_floor(s) for s in tx), default=0)
    for stream in rx:
        found.extend(_rx_findings(step, stream, limits, both_ways=bool(tx), floor=floor))
        found.extend(_dscp_findings(step, stream, marking))
    for stream in tx:
        found.extend(_tx_findings(step, stream, limits))
    return found


def _known_marking(detail: CallDetail, call: CallResult) -> tuple[int, str] | None:
    """The DSCP the far end is known to mark its RTP with, and who says so; None: unknown."""
    if detail.expect_dscp is not None:
        return detail.expect_dscp, "the scenario's expect_dscp"
    if call.far_end_dscp is not None:
        return call.far_end_dscp, "the far end's X-Sipprobe-Rtp-Dscp"
    return None


def _dscp_findings(
    step: StepResult, stream: CallStream, marking: tuple[int, str] | None
) -> list[Finding]:
    info = stream.measured.stream
    seen = list(info.dscp)
    if not seen:
        return []
    values = ", ".join(str(v) for v in seen)
    source = f"RTP from {info.src}"
    if marking is None:
        return [
            _finding(
                Severity.INFO,
                Side.UNKNOWN,
                "dscp-observed",
                f"{source}{_ARRIVES}DSCP {values}; the far end's marking is not known "
                "(no expect_dscp, no X-Sipprobe-Rtp-Dscp), so it is not judged",
                step,
            )
        ]
    expected, said_by = marking
    if expected in seen:
        if len(seen) == 1:
            return []
        return [
            _finding(
                Severity.INFO,
                Side.UNKNOWN,
                "dscp-observed",
                f"{source}{_ARRIVES}DSCP {values}: some packets not with {expected}, "
                f"the marking {said_by} names",
                step,
            )
        ]
    return [
        _finding(
            Severity.WARNING,
            Side.UNKNOWN,
            "dscp-changed",
            f"{source} arrives with DSCP {values}, not {expected} as {said_by} says it is "
            "marked: something on the path re-marked it (one vantage point cannot tell where)",
            step,
        )
    ]


def merge_dscp_notes(findings: list[Finding]) -> list[Finding]:
    """One ``dscp-observed`` note per marking seen, however many calls saw it: 50 parallel
    calls arriving with DSCP 46 are one fact, not 50. The note stays at the first call that
    saw it, and names up to three sources. Notes about another leg (their summary names the
    leg first) stay as they are."""
    seen_by: dict[str, list[Finding]] = {}  # what was seen -> the notes that saw it
    for finding in findings:
        if finding.code == "dscp-observed" and finding.summary.startswith("RTP from "):
            seen_by.setdefault(finding.summary.split(_ARRIVES, 1)[1], []).append(finding)
    merged: list[Finding] = []
    for finding in findings:
        notes = seen_by.get(finding.summary.split(_ARRIVES, 1)[-1], [])
        if finding not in notes or len(notes) == 1:
            merged.append(finding)
        elif finding is notes[0]:
            merged.append(replace(finding, summary=_merged_summary(notes)))
    return merged


def _merged_summary(notes: list[Finding]) -> str:
    sources = [n.summary.split(_ARRIVES, 1)[0].removeprefix("RTP from ") for n in notes]
    more = f" and {len(sources) - 3} more" if len(sources) > 3 else ""
    calls = len({n.step for n in notes})
    whose = (
        f"RTP of {calls} calls"
        if calls == len(notes)
        else f"{len(notes)} RTP streams of {calls} call{'s' if calls > 1 else ''}"
    )
    seen = notes[0].summary.split(_ARRIVES, 1)[1]
    return f"{whose} (from {', '.join(sources[:3])}{more}){_ARRIVES}{seen}"


def sending_floor(tx: CallStream) -> int:
    """How many late packets the probe's own sending explains (its measurement floor).

    The tx stream is captured as the probe sends it: a stall of its sender (a busy host)
    shows as packets its own de-jitter simulation discards, or as one long gap after which
    the packets held back go out late together. An echoing far end reflects that timing,
    and a busy host delays both directions, so that many late packets are the probe's, not
    the path's: its discards, or the packet slots of its largest gap after the first.
    """
    metrics = tx.measured.metrics
    ptime = metrics.ptime_ms
    held_back = math.ceil(metrics.max_delta_ms / ptime) - 1 if ptime else 0
    return max(metrics.discarded or 0, held_back, 0)


def _rx_findings(
    step: StepResult, stream: CallStream, limits: Thresholds, both_ways: bool, floor: int = 0
) -> list[Finding]:
    found = []
    metrics, info = stream.measured.metrics, stream.measured.stream
    source = f"RTP from {info.src}"
    if stream.from_announced_address is False and stream.announced_rtp is not None:
        # Audio flowing both ways shows the far end's address selection (or a relay), no
        # trouble; only with RTP in one direction is it evidence of a NAT problem.
        found.append(
            _finding(
                Severity.INFO if both_ways else Severity.WARNING,
                Side.UNKNOWN,
                "rtp-source-mismatch",
                f"{source} arrives from another address than the SDP announced "
                f"({stream.announced_rtp})"
                + (
                    "; RTP flows both ways, so this is the far end's address selection or a "
                    "media relay, not a fault"
                    if both_ways
                    else ", and the probe sent no RTP: NAT on the path or a media relay"
                ),
                step,
            )
        )
    loss = metrics.loss_pct
    severity = severity_of(limits.grade("loss", loss))
    if severity is not None:
        found.append(
            _finding(
                severity,
                Side.UNKNOWN,
                "rx-loss",
                f"{loss:.2f}% of {source} lost ({metrics.lost} of {metrics.expected} packets; "
                f"burst ratio {metrics.burst_r or 1:.2f})",
                step,
            )
        )
    jitter = metrics.jitter_ms.mean if metrics.jitter_ms is not None else None
    severity = severity_of(limits.grade("jitter", jitter))
    if severity is not None:
        found.append(
            _finding(
                severity,
                Side.UNKNOWN,
                "rx-jitter",
                f"mean interarrival jitter {jitter:.1f} ms on {source}",
                step,
            )
        )
    mos = metrics.mos_lq
    severity = severity_of(limits.grade("mos", mos))
    if severity is not None:
        found.append(
            _finding(
                severity,
                Side.UNKNOWN,
                "rx-mos",
                f"MOS-LQ {mos:.2f} on {source} (good from {limits.mos_degraded:g})",
                step,
            )
        )
    found.extend(_late_findings(step, stream, limits, floor))
    return found


def _late_findings(
    step: StepResult, stream: CallStream, limits: Thresholds, floor: int
) -> list[Finding]:
    """Packets the simulated de-jitter buffer discarded beyond the probe's own floor (graded
    as loss), and reordering."""
    metrics, info = stream.measured.metrics, stream.measured.stream
    source = f"RTP from {info.src}"
    expected, reordered, discarded = metrics.expected, metrics.reordered, metrics.discarded
    if expected <= 0:
        return []
    beyond = max(0, (discarded or 0) - floor)
    late_pct = 100.0 * beyond / expected
    severity = severity_of(limits.grade("loss", late_pct)) if discarded is not None else None
    reordered_pct = 100.0 * reordered / expected
    order = f"{reordered} reordered ({reordered_pct:.1f}%)"
    found = []
    if severity is not None:
        own = f", {floor} of them within the probe's own sending floor" if floor else ""
        found.append(
            _finding(
                severity,
                Side.UNKNOWN,
                "rx-late",
                f"{late_pct:.2f}% of {source} arrived too late for the de-jitter buffer "
                f"({discarded} of {expected} packets discarded{own}; {order}; largest gap "
                f"{metrics.max_delta_ms:.0f} ms)",
                step,
            )
        )
    if reordered > 0:
        late = f"{discarded} discarded as late" if discarded is not None else "late unknown"
        found.append(
            _finding(
                Severity.INFO,
                Side.UNKNOWN,
                "rx-reordered",
                f"{reordered} of {expected} packets of {source} arrived out of order "
                f"({reordered_pct:.1f}%; {late})",
                step,
            )
        )
    return found


def _tx_findings(step: StepResult, stream: CallStream, limits: Thresholds) -> list[Finding]:
    loss = stream.far_end_loss_pct()
    severity = severity_of(limits.grade("loss", loss))
    if severity is None or loss is None:
        return []
    far_end = stream.measured.far_end
    reports = far_end.reports if far_end is not None else 0
    return [
        _finding(
            severity,
            Side.UNKNOWN,
            "tx-loss",
            f"the far end reports {loss:.1f}% of the probe's RTP to {stream.measured.stream.dst} "
            f"lost ({far_end.cumulative_lost if far_end else 0} of "
            f"{stream.measured.metrics.expected} packets, {reports} RTCP receiver "
            f"report{'s' if reports != 1 else ''})",
            step,
        )
    ]
