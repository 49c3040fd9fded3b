"""Media findings of one call, from the streams measured in the run's capture.

Directions are the probe's: ``rx`` is platform to probe, ``tx`` is probe to platform. The
probe measures rx itself; for tx it relies on what the far end says in its RTCP reports
(``far_end`` of the tx stream, or pjmedia's ``tx_lost_reported``). Loss seen only on the tx
direction points at the customer's uplink, ``customer-network`` (docs/demarc.md, "How a side
is chosen"); the rest stays ``unknown`` unless the evidence says more.
"""

from __future__ import annotations

from sipprobe.model.media import CallStream
from sipprobe.model.outcome import Quality
from sipprobe.model.results import CallResult, Finding, Severity, Side, StepResult
from sipprobe.model.steps import CallDetail
from sipprobe.model.thresholds import Thresholds


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
    for stream in rx:
        found.extend(_rx_findings(step, stream, limits, detail.expect_dscp))
    rx_loss = max((s.measured.metrics.loss_pct for s in rx), default=0.0)
    for stream in tx:
        found.extend(_tx_findings(step, stream, limits, rx_loss))
    return found


def _rx_findings(
    step: StepResult, stream: CallStream, limits: Thresholds, expect_dscp: int | None
) -> list[Finding]:
    found = []
    metrics, info = stream.measured.metrics, stream.measured.stream
    source = f"RTP from {info.src}"
    if stream.from_announced_address is False and stream.announced_rtp is not None:
        found.append(
            _finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "rtp-source-mismatch",
                f"{source} arrives from another address than the SDP announced "
                f"({stream.announced_rtp}): NAT on the path or a media relay",
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
    dscp = list(info.dscp)
    if expect_dscp is not None and dscp and expect_dscp not in dscp:
        found.append(
            _finding(
                Severity.WARNING,
                Side.CUSTOMER_NETWORK,
                "dscp-removed",
                f"{source} arrives with DSCP {dscp}, not {expect_dscp} as the far end marks "
                "it: the marking was removed on the path (set expect_dscp when the far end "
                "marks otherwise or not at all)",
                step,
            )
        )
    return found


def _tx_findings(
    step: StepResult, stream: CallStream, limits: Thresholds, rx_loss_pct: float
) -> list[Finding]:
    loss = stream.far_end_loss_pct()
    severity = severity_of(limits.grade("loss", loss))
    if severity is None or loss is None:
        return []
    upstream_only = limits.grade("loss", rx_loss_pct) is Quality.GOOD
    side = Side.CUSTOMER_NETWORK if upstream_only else Side.UNKNOWN
    why = (
        "loss only on the upstream direction (probe to platform) points at the customer's "
        "uplink: router or internet upload"
        if upstream_only
        else "loss in both directions"
    )
    return [
        _finding(
            severity,
            side,
            "tx-loss",
            f"the far end reports {loss:.1f}% of the probe's RTP to {stream.measured.stream.dst} "
            f"lost (RTCP receiver report): {why}",
            step,
        )
    ]
