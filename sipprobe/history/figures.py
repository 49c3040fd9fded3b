"""The key figures of a run that history keeps and baselines compare."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sipprobe.model.results import CallResult, RunReport


@dataclass(frozen=True, slots=True)
class CallFigures:
    """One call step of a run: signalling delays, and media per direction when measured.

    ``rx_*`` is what the probe received, ``tx_*`` what the far end reported about the probe's
    stream; ``mos_lq`` is the worst MOS-LQ of the call's measured streams (None until a
    capture-based stream measurement gives one).
    """

    step_index: int
    status_code: int | None
    pdd_ms: float | None
    answer_ms: float | None
    mos_lq: float | None
    rx_loss_pct: float | None
    rx_jitter_mean_ms: float | None
    tx_lost_reported: int | None
    tx_jitter_reported_ms: float | None
    rtt_ms: float | None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as the history holds it."""

    run_id: int
    scenario: str
    target: str
    service: str
    transport: str
    started_at: str
    started_unix: float
    duration_s: float
    messaging: str
    media: str
    exit_code: int
    baseline_status: str | None
    calls: tuple[CallFigures, ...]
    finding_codes: tuple[str, ...]


def worst_mos(call: CallResult) -> float | None:
    """The lowest MOS-LQ among the call's streams, or None when no stream has one."""
    values = [
        value
        for stream in call.streams
        if (value := stream.measured.metrics.mos_lq) is not None and math.isfinite(value)
    ]
    return min(values) if values else None


def call_figures(report: RunReport) -> tuple[CallFigures, ...]:
    """Figures of every call step of ``report``, in step order."""
    figures = []
    for step in report.steps:
        call = step.call
        if call is None:
            continue
        rtcp = call.rtcp
        figures.append(
            CallFigures(
                step_index=step.index,
                status_code=call.status_code,
                pdd_ms=call.pdd_ms,
                answer_ms=call.answer_ms,
                mos_lq=worst_mos(call),
                rx_loss_pct=rtcp.rx_loss_pct if rtcp else None,
                rx_jitter_mean_ms=rtcp.rx_jitter_mean_ms if rtcp else None,
                tx_lost_reported=rtcp.tx_lost_reported if rtcp else None,
                tx_jitter_reported_ms=rtcp.tx_jitter_reported_ms if rtcp else None,
                rtt_ms=rtcp.rtt_ms if rtcp else None,
            )
        )
    return tuple(figures)


def unix_time(iso: str) -> float:
    """Seconds since the epoch of an ISO 8601 time such as the report's ``started_at``."""
    moment = dt.datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()
