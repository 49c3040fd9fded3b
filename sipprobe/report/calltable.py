"""Many calls at a terminal: one line per call, how each figure spreads, the worst calls.

Beyond a handful of calls a block per call no longer reads; the text report shows this
instead (the JSON report keeps every call's full record).
"""

from __future__ import annotations

from dataclasses import dataclass

from sipprobe.model.results import CallResult, StepResult
from sipprobe.model.spread import Spread, spread

TABLE_FROM_CALLS = 9  # more calls than this many minus one: a table
WORST_SHOWN = 3


@dataclass(frozen=True, slots=True)
class CallFigures:
    """One call's figures as the table shows them (None: not measured)."""

    number: int  # 1-based, in the order of the run's steps
    step: StepResult
    setup_ms: float | None  # post-dial delay, else time to answer (a far end that never rings)
    rx_loss_pct: float | None
    rx_jitter_ms: float | None
    tx_loss_pct: float | None  # the probe's stream as the far end's RTCP reported it
    mos_lq: float | None


def call_figures(number: int, step: StepResult) -> CallFigures:
    call = step.call
    if call is None:
        return CallFigures(number, step, None, None, None, None, None)
    rx = call.rx_stream
    tx = next(iter(call.streams_towards("tx")), None)
    jitter = rx.measured.metrics.jitter_ms if rx is not None else None
    return CallFigures(
        number,
        step,
        call.pdd_ms if call.pdd_ms is not None else call.answer_ms,
        rx.measured.metrics.loss_pct if rx is not None else None,
        jitter.mean if jitter is not None else None,
        tx.far_end_loss_pct() if tx is not None else None,
        rx.measured.metrics.mos_lq if rx is not None else None,
    )


def _cell(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _status(step: StepResult) -> str:
    call: CallResult | None = step.call
    if step.status_code is not None:
        return str(step.status_code)
    return "none" if call is None or not call.reason else "timeout"


def table_lines(figures: list[CallFigures]) -> list[str]:
    lines = [
        "      #  status  setup ms  rx loss %  rx jit ms  tx loss %  MOS-LQ  call-id",
    ]
    for f in figures:
        call_id = f.step.call.call_id[:14] if f.step.call is not None else "-"
        mark = " " if f.step.ok else "!"
        lines.append(
            f"  {mark}{f.number:>4}  {_status(f.step):>6}  {_cell(f.setup_ms, '8.1f'):>8}"
            f"  {_cell(f.rx_loss_pct, '9.2f'):>9}  {_cell(f.rx_jitter_ms, '9.2f'):>9}"
            f"  {_cell(f.tx_loss_pct, '9.2f'):>9}  {_cell(f.mos_lq, '6.2f'):>6}  {call_id}"
        )
    return lines


def _spread_line(label: str, found: Spread | None, spec: str, total: int) -> str:
    if found is None:
        return f"  {label:<16} not measured"
    return (
        f"  {label:<16} min {found.min:{spec}}  median {found.median:{spec}}  "
        f"p95 {found.p95:{spec}}  max {found.max:{spec}}  ({found.count}/{total} calls)"
    )


def spread_lines(figures: list[CallFigures]) -> list[str]:
    total = len(figures)
    return [
        _spread_line("setup (ms)", spread(f.setup_ms for f in figures), ".1f", total),
        _spread_line("rx loss (%)", spread(f.rx_loss_pct for f in figures), ".2f", total),
        _spread_line("rx jitter (ms)", spread(f.rx_jitter_ms for f in figures), ".2f", total),
        _spread_line("tx loss (%)", spread(f.tx_loss_pct for f in figures), ".2f", total),
        _spread_line("MOS-LQ", spread(f.mos_lq for f in figures), ".2f", total),
    ]


def _badness(f: CallFigures) -> tuple[bool, float, float, float]:
    return (
        f.step.ok,
        f.mos_lq if f.mos_lq is not None else 5.0,
        -(f.rx_loss_pct or 0.0) - (f.tx_loss_pct or 0.0),
        -(f.setup_ms or 0.0),
    )


def worst_lines(figures: list[CallFigures]) -> list[str]:
    """The calls a reader should look at first: failed ones, then the lowest MOS, the most
    loss, the slowest setup."""
    lines = []
    for f in sorted(figures, key=_badness)[:WORST_SHOWN]:
        what = (
            f"{_status(f.step)} {f.step.reason}".strip()
            if not f.step.ok
            else f"MOS-LQ {_cell(f.mos_lq, '.2f')}, rx loss {_cell(f.rx_loss_pct, '.2f')} %, "
            f"tx loss {_cell(f.tx_loss_pct, '.2f')} %, setup {_cell(f.setup_ms, '.1f')} ms"
        )
        lines.append(f"  #{f.number} {f.step.name}: {what}")
    return lines


def many_calls_lines(call_steps: list[StepResult]) -> list[str]:
    figures = [call_figures(n, s) for n, s in enumerate(call_steps, start=1)]
    answered = sum(1 for s in call_steps if s.call is not None and s.call.answered)
    return [
        f"  {len(call_steps)} calls, {answered} answered",
        *table_lines(figures),
        "  spread over calls:",
        *(f"  {line}" for line in spread_lines(figures)),
        "  worst calls:",
        *(f"  {line}" for line in worst_lines(figures)),
    ]
