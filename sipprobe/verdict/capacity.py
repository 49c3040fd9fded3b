"""The capacity test's rules: when a step is good, how its first failure failed, which side.

Only evidence names a side (docs/demarc.md). A platform that refuses a call with a status of
its own while fewer calls than the contracted channels are up points at the platform. Loss
that grows with the number of calls while signalling stays fine fits a customer uplink that
is too small for the calls, but the same loss could arise anywhere on the path: from one
vantage point it stays ``unknown``, worded as a hint with the bandwidth the calls need.
"""

from __future__ import annotations

from sipprobe.model.capacity import CapacityFailure, CapacityStep, CodecBandwidth, FailureHow
from sipprobe.model.outcome import ExitCode, Severity, Side
from sipprobe.model.results import RunReport, StepResult
from sipprobe.model.spread import spread
from sipprobe.sip.codecs import codec_by_name

_IP_UDP_RTP_BYTES = 20 + 8 + 12
_ETHERNET_BYTES = 14 + 4 + 8 + 12  # header, FCS, preamble, inter-frame gap


def codec_bandwidth(codec: str, channels: int) -> CodecBandwidth | None:
    """Bandwidth of one call of ``codec`` (each direction) and of ``channels`` of them."""
    info = codec_by_name(codec.split("/", maxsplit=1)[0], 8000)
    if info.bitrate_bps is None or info.ptime_ms is None:
        return None
    packets_s = 1000.0 / info.ptime_ms
    payload = info.bitrate_bps * info.ptime_ms / 8000.0
    ip = (payload + _IP_UDP_RTP_BYTES) * 8 * packets_s / 1000.0
    ethernet = (payload + _IP_UDP_RTP_BYTES + _ETHERNET_BYTES) * 8 * packets_s / 1000.0
    return CodecBandwidth(
        info.name, info.ptime_ms, round(ip, 1), round(ethernet, 1), round(ethernet * channels, 1)
    )


def _call_steps(report: RunReport) -> list[StepResult]:
    return [s for s in report.steps if s.kind == "call"]


def measure_step(calls: int, report: RunReport) -> CapacityStep:
    """A step is good when the run is: every call answered as expected, media good."""
    steps = _call_steps(report)
    rx = spread(
        c.rx_stream.measured.metrics.loss_pct if c.rx_stream else None for c in report.calls
    )
    tx = spread(s.far_end_loss_pct() for c in report.calls for s in c.streams_towards("tx"))
    setup = spread(c.pdd_ms if c.pdd_ms is not None else c.answer_ms for c in report.calls)
    return CapacityStep(
        calls=calls,
        answered=sum(1 for s in steps if s.ok),
        good=report.verdict.exit_code is ExitCode.OK and len(steps) == calls,
        rx_loss_max_pct=rx.max if rx else None,
        tx_loss_max_pct=tx.max if tx else None,
        setup_max_ms=setup.max if setup else None,
        report=report,
    )


def first_failure(step: CapacityStep) -> CapacityFailure:
    """The first call of a failed step that failed (by the time its INVITE left), and how."""
    failed = [s for s in _call_steps(step.report) if not s.ok]
    return _failed_call(step, failed) if failed else _failed_figure(step)


def _setup_ms(step: StepResult | None) -> float | None:
    call = step.call if step is not None else None
    if call is None:
        return None
    return call.pdd_ms if call.pdd_ms is not None else call.answer_ms


def _failed_call(step: CapacityStep, failed: list[StepResult]) -> CapacityFailure:
    report = step.report
    first = min(failed, key=lambda s: _invite_time(report, s))
    number = _call_steps(report).index(first) + 1
    how: FailureHow = "no-answer"
    if first.status_code is not None:
        how = "status"
    elif first.call is None:
        how = "probe"
    detail = f"{first.status_code or ''} {first.reason}".strip()
    return CapacityFailure(step.calls, number, how, first.status_code, _setup_ms(first), detail)


def _failed_figure(step: CapacityStep) -> CapacityFailure:
    """Every call answered, but a figure was not good: the first finding says which."""
    report = step.report
    finding = next((f for f in report.verdict.findings if f.severity is not Severity.INFO), None)
    if finding is None:
        return CapacityFailure(step.calls, 1, "probe", None, None, report.verdict.summary)
    how: FailureHow = "media" if finding.area == "media" else "setup"
    call_step = next((s for s in report.steps if s.index == finding.step), None)
    number = _call_steps(report).index(call_step) + 1 if call_step in _call_steps(report) else 1
    return CapacityFailure(step.calls, number, how, None, _setup_ms(call_step), finding.summary)


def _invite_time(report: RunReport, step: StepResult) -> float:
    times = [report.timeline[i].t_s for i in step.events if i < len(report.timeline)]
    return min(times, default=float("inf"))


def attribute_failure(
    steps: tuple[CapacityStep, ...], failure: CapacityFailure, channels: int
) -> tuple[Side, Severity, str]:
    """Side, severity and the sentence that concludes the test."""
    failed = steps[-1]
    if failure.how == "status" and failure.status_code is not None:
        code = failure.status_code
        if code >= 500 or code in (403, 480, 486, 600, 603):
            return (
                Side.PLATFORM,
                Severity.CRITICAL,
                f"the platform refused call {failure.call_number} of {failure.calls} "
                f"simultaneous calls with {failure.detail}, within the {channels} contracted "
                f"channels: the platform does not give the channels the customer bought",
            )
        return (
            Side.UNKNOWN,
            Severity.CRITICAL,
            f"call {failure.call_number} of {failure.calls} got {failure.detail}",
        )
    if failure.how == "media":
        first = steps[0]
        rising = (failed.rx_loss_max_pct or 0.0) + (failed.tx_loss_max_pct or 0.0) > (
            first.rx_loss_max_pct or 0.0
        ) + (first.tx_loss_max_pct or 0.0)
        hint = (
            "; loss rose with the number of calls while signalling stayed fine: a hint at "
            "the customer's upstream bandwidth (compare it with the bandwidth below), but from "
            "one vantage point the side stays unknown: probe from a second location "
            "(sipprobe localize) to tell"
            if rising
            else ""
        )
        return (
            Side.UNKNOWN,
            Severity.WARNING,
            f"media degraded at {failure.calls} simultaneous calls: {failure.detail}{hint}",
        )
    return (
        Side.UNKNOWN,
        Severity.WARNING if failure.how == "setup" else Severity.CRITICAL,
        f"at {failure.calls} simultaneous calls, call {failure.call_number}: {failure.detail}",
    )
