"""Media findings of one call, from the streams measured in the run's capture.

Directions are the probe's: ``rx`` is platform to probe, ``tx`` is probe to platform. The
probe measures rx itself; for tx it relies on what the far end says in its RTCP reports
(``far_end`` of the tx stream, or pjmedia's ``tx_lost_reported``). Loss seen only on the tx
direction points at the customer's uplink, ``customer-network`` (docs/demarc.md, "How a side
is chosen"); the rest stays ``unknown`` unless the evidence says more.
"""

from __future__ import annotations

from typing import Any

from sipprobe.model.results import CallResult, Finding, Severity, Side, StepResult
from sipprobe.model.thresholds import Thresholds


def _finding(severity: Severity, side: Side, code: str, summary: str, step: StepResult) -> Finding:
    return Finding(severity, side, "media", code, summary, step.index, step.events)


def _graded(value: float | None, degraded: float, bad: float) -> Severity | None:
    if value is None or value < degraded:
        return None
    return Severity.CRITICAL if value >= bad else Severity.WARNING


def _far_end_loss_pct(stream: dict[str, Any]) -> float | None:
    """Loss of a tx stream as the far end's RTCP receiver reports give it, over the call.

    The cumulative count against what the probe sent, not the last report's fraction: at
    hang-up pjmedia sends a second report covering no new packets, whose fraction is 0.
    """
    far_end = stream.get("far_end")
    if not far_end or not far_end.get("reports"):
        return None
    expected = int(stream.get("expected") or 0)
    cumulative = far_end.get("cumulative_lost")
    if cumulative is not None and expected > 0:
        return 100.0 * max(0, int(cumulative)) / expected
    return 100.0 * float(far_end["fraction_lost"])


def stream_findings(step: StepResult, call: CallResult, limits: Thresholds) -> list[Finding]:
    streams = call.streams
    rx = [s for s in streams if s.get("direction") == "rx"]
    tx = [s for s in streams if s.get("direction") == "tx"]
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
        sent = sum(int(s.get("packets") or 0) for s in tx)
        where = tx[0].get("sdp_remote") or tx[0].get("dst")
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
    expect_dscp = step.detail.get("expect_dscp")
    for stream in rx:
        found.extend(_rx_findings(step, stream, limits, expect_dscp))
    rx_loss = max((float(s.get("loss_pct") or 0.0) for s in rx), default=0.0)
    for stream in tx:
        found.extend(_tx_findings(step, stream, limits, rx_loss))
    return found


def _rx_findings(
    step: StepResult, stream: dict[str, Any], limits: Thresholds, expect_dscp: int | None
) -> list[Finding]:
    found = []
    source = f"RTP from {stream['src']}"
    if stream.get("from_announced_address") is False and stream.get("sdp_remote"):
        found.append(
            _finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "rtp-source-mismatch",
                f"{source} arrives from another address than the SDP announced "
                f"({stream['sdp_remote']}): NAT on the path or a media relay",
                step,
            )
        )
    loss = stream.get("loss_pct")
    severity = _graded(loss, limits.loss_degraded_pct, limits.loss_bad_pct)
    if severity is not None:
        found.append(
            _finding(
                severity,
                Side.UNKNOWN,
                "rx-loss",
                f"{loss:.2f}% of {source} lost ({stream['lost']} of {stream['expected']} packets; "
                f"burst ratio {stream.get('burst_r') or 1:.2f})",
                step,
            )
        )
    jitter = (stream.get("jitter_ms") or {}).get("mean")
    severity = _graded(jitter, limits.jitter_degraded_ms, limits.jitter_bad_ms)
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
    mos = stream.get("mos_lq")
    if mos is not None and mos < limits.mos_degraded:
        found.append(
            _finding(
                Severity.CRITICAL if mos < limits.mos_bad else Severity.WARNING,
                Side.UNKNOWN,
                "rx-mos",
                f"MOS-LQ {mos:.2f} on {source} (good from {limits.mos_degraded:g})",
                step,
            )
        )
    dscp = stream.get("dscp") or []
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
    step: StepResult, stream: dict[str, Any], limits: Thresholds, rx_loss_pct: float
) -> list[Finding]:
    loss = _far_end_loss_pct(stream)
    severity = _graded(loss, limits.loss_degraded_pct, limits.loss_bad_pct)
    if severity is None or loss is None:
        return []
    upstream_only = rx_loss_pct < limits.loss_degraded_pct
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
            f"the far end reports {loss:.1f}% of the probe's RTP to {stream['dst']} "
            f"lost (RTCP receiver report): {why}",
            step,
        )
    ]
