"""The run report as one self-contained HTML page, to attach to a ticket and open offline.

Everything is inline: CSS, SVG ladder diagrams, plots as data: PNGs. A Content-Security-Policy
forbids the page any fetch, so it cannot load or leak anything even if a SIP message carried
markup (all text is escaped as well). Top to bottom: the verdict banner, the run, findings
with their side of the demarc, the steps, each call with its ladder and media figures, plots,
the thresholds used, and every SIP message (the ones findings cite are opened).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from dataclasses import fields
from html import escape

from sipprobe.model.media import CallEcho, CallStream
from sipprobe.model.results import CallResult, ExitCode, RunReport, StepResult
from sipprobe.model.steps import AnswerDetail
from sipprobe.model.thresholds import Thresholds
from sipprobe.report.inbound_text import answer_facts
from sipprobe.report.ladder import ladder_svg
from sipprobe.report.legs_html import two_leg_html
from sipprobe.report.plots import report_plots
from sipprobe.report.text import (
    call_feature_lines,
    format_ms,
    listening_line,
    step_result,
    step_timings,
)
from sipprobe.verdict.headline import headline

_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_EXIT_CLASS = {
    ExitCode.OK: "good",
    ExitCode.WARNING: "degraded",
    ExitCode.CRITICAL: "bad",
    ExitCode.UNKNOWN: "unknown",
}
_CSS = """
:root { --good:#2e7d32; --degraded:#b26a00; --bad:#b3261e; --unknown:#5f6368; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #f6f7f9; }
main { max-width: 1100px; margin: 0 auto; padding: 0 20px 40px; }
.banner { color: #fff; padding: 22px 28px; }
.banner.good { background: var(--good); } .banner.degraded { background: var(--degraded); }
.banner.bad { background: var(--bad); } .banner.unknown { background: var(--unknown); }
.banner h1 { margin: 0 0 6px; font-size: 30px; letter-spacing: .02em; }
.banner .summary { font-size: 19px; margin: 4px 0; }
.banner .meta { opacity: .9; margin: 4px 0 0; }
.q { display: inline-block; padding: 1px 9px; border-radius: 4px; color: #fff; font-weight: 600; }
.banner .q { border: 1px solid rgba(255,255,255,.7); }
.q.good { background: var(--good); } .q.degraded { background: var(--degraded); }
.q.bad { background: var(--bad); } .q.unknown { background: var(--unknown); }
.q.critical { background: var(--bad); } .q.warning { background: var(--degraded); }
.q.info { background: var(--unknown); }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; margin: 18px 0;
  padding: 6px 18px 14px; }
h2 { font-size: 19px; } h3 { font-size: 16px; margin-bottom: 6px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e6e8eb;
  vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
table.facts th { width: 190px; background: none; }
table.legs th:first-child { width: 130px; } table.legs td { width: 45%; }
code, pre { font: 13px/1.35 ui-monospace, monospace; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; white-space: pre-wrap; }
.ladder { max-width: 100%; height: auto; font: 12px ui-monospace, monospace; }
.ladder .h { text-anchor: middle; font-weight: 700; } .ladder .t { text-anchor: end; fill: #555; }
.ladder .m { text-anchor: middle; } .ladder .lane { stroke: #9aa0a6; stroke-dasharray: 4 3; }
figure { margin: 8px 0; } figure img { max-width: 100%; }
details { border-bottom: 1px solid #e6e8eb; padding: 3px 0; }
details:target { background: #fff8d6; }
footer { color: #5f6368; text-align: center; font-size: 13px; padding: 10px; }
"""


def _e(value: object) -> str:
    return escape(str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><tr>{head}</tr>{body}</table>'


def _facts(pairs: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f'<table class="facts">{rows}</table>'


def _quality(label: str, value: str) -> str:
    return f'{_e(label)} <span class="q {value}">{_e(value.upper())}</span>'


def _sip_links(indexes: Iterable[int]) -> str:
    return ", ".join(f'<a href="#sip-{i}">#{i}</a>' for i in indexes) or "-"


def _banner(report: RunReport) -> str:
    verdict = report.verdict
    code = verdict.exit_code
    return (
        f'<header class="banner {_EXIT_CLASS[code]}">'
        f"<h1>{_quality('messaging', verdict.messaging.value)} &nbsp; "
        f"{_quality('media', verdict.media.value)}</h1>"
        f'<p class="summary">{_e(verdict.summary)}</p>'
        f'<p class="summary">{_e(headline(verdict, report.location))}</p>'
        f'<p class="meta">exit {int(code)} ({code.name}) · scenario {_e(report.scenario)} '
        f"({_e(report.service)}) · {_e(report.target)} · {_e(report.started_at)} "
        f"from {_e(report.location.value)}</p></header>"
    )


def _run(report: RunReport) -> str:
    probe = report.probe
    facts = _facts(
        [
            ("scenario", f"{_e(report.scenario)} ({_e(report.service)})"),
            ("target", f"<code>{_e(report.target)}</code> over {_e(report.transport.upper())}"),
            ("started (UTC)", _e(report.started_at)),
            ("duration", f"{report.duration_s:.2f} s"),
            ("steps", _e(" → ".join(step.kind for step in report.steps) or "-")),
            ("probe", f"sipprobe {_e(probe.get('version', '?'))}"),
            ("host", f"{_e(probe.get('host', '?'))} (Python {_e(probe.get('python', '?'))})"),
            *(("local error", _e(error)) for error in report.local_errors),
        ]
    )
    return f"<section><h2>Run</h2>{facts}</section>"


def _findings(report: RunReport) -> str:
    findings = report.verdict.findings
    if not findings:
        return "<section><h2>Findings</h2><p>None.</p></section>"
    rows = [
        (
            f'<span class="q {f.severity.value}">{_e(f.severity.value)}</span>',
            f"<strong>{_e(f.side.value)}</strong><br>{_e(f.responsible.value)}",
            _e(f.area),
            f"{_e(f.summary)}<br><code>{_e(f.code)}</code>",
            ("" if f.step is None else f'<a href="#step-{f.step}">step {f.step + 1}</a>, ')
            + _sip_links(f.evidence),
        )
        for f in findings
    ]
    headers = ("severity", "side, responsible", "area", "what was seen", "evidence")
    return f"<section><h2>Findings</h2>{_table(headers, rows)}</section>"


def _step_row(step: StepResult) -> str:
    timings = step_timings(step).replace("  ", " · ") or "-"
    return (
        f'<tr id="step-{step.index}"><td>{step.index + 1}</td><td>{_e(step.name)}</td>'
        f'<td><span class="q {"good" if step.ok else "bad"}">{_e(step_result(step))}</span></td>'
        f"<td>{_e(timings)}</td><td>{_sip_links(step.events)}</td></tr>"
    )


def _steps(report: RunReport) -> str:
    rows = "".join(_step_row(step) for step in report.steps)
    head = "".join(f"<th>{h}</th>" for h in ("#", "step", "result", "timings", "SIP messages"))
    return f"<section><h2>Steps</h2><table><tr>{head}</tr>{rows}</table></section>"


def _media(call: CallResult) -> str:
    rtcp = call.rtcp
    if rtcp is None:
        return "<p>No media figures: the call carried no RTP session.</p>"

    def number(value: float | int | None, unit: str = "") -> str:
        return "-" if value is None else _e(f"{value:.2f}{unit}" if unit else value)

    jitter = number(rtcp.rx_jitter_mean_ms, " ms")
    rows = [
        (
            "received by the probe",
            number(rtcp.rx_packets),
            number(rtcp.rx_lost),
            number(rtcp.rx_loss_pct, " %"),
            f"mean {jitter}, max {number(rtcp.rx_jitter_max_ms, ' ms')}",
        ),
        (
            "sent by the probe (far end's RTCP)",
            number(rtcp.tx_packets),
            number(rtcp.tx_lost_reported),
            "-",
            number(rtcp.tx_jitter_reported_ms, " ms"),
        ),
    ]
    table = _table(("stream", "packets", "lost", "loss", "jitter"), rows)
    extra = f"RTT {number(rtcp.rtt_ms, ' ms')}, far end RTP at {_e(rtcp.remote_rtp or '-')}"
    return f"{table}<p>{extra}; source: {_e(rtcp.source)}.</p>"


def _stream_row(stream: CallStream) -> tuple[str, ...]:
    def figure(value: float | None, spec: str, unit: str = "") -> str:
        # not finite: what the JSON report writes as null
        if value is None or not math.isfinite(value):
            return "-"
        return _e(f"{value:{spec}}{unit}")

    measured = stream.measured
    metrics, info = measured.metrics, measured.stream
    jitter = metrics.jitter_ms
    verdict = measured.verdict.value
    reasons = "; ".join(measured.reasons)
    return (
        _e("rx (to the probe)" if stream.direction == "rx" else "tx (from the probe)"),
        f"<code>{_e(info.src)} → {_e(info.dst)}</code>",
        _e(info.codec or "-"),
        f"{figure(metrics.packets, 'd')} ({figure(metrics.lost, 'd')} lost)",
        figure(metrics.loss_pct, ".2f", " %"),
        f"{figure(jitter.mean if jitter else None, '.2f')} / "
        f"{figure(jitter.max if jitter else None, '.2f', ' ms')}",
        figure(metrics.mos_lq, ".2f"),
        _e(", ".join(str(d) for d in info.dscp) or "-"),
        f'<span class="q {_e(verdict)}">{_e(verdict)}</span> {_e(reasons)}',
    )


def _streams(call: CallResult) -> str:
    if not call.streams:
        return ""
    headers = (
        "stream",
        "from → to",
        "codec",
        "packets",
        "loss",
        "jitter mean / max",
        "MOS-LQ",
        "DSCP",
        "verdict",
    )
    rows = [_stream_row(stream) for stream in call.streams]
    return "<h4>Streams in the capture</h4>" + _table(headers, rows)


def _echo(echo: CallEcho | None) -> str:
    """The audio round trip through an echoing far end, and the MOS-CQ it gives."""
    if echo is None:
        return "not an echo (or not measured)"
    rtt = echo.rtt_ms
    mos = f"; MOS-CQ {echo.mos_cq:.2f}" if echo.mos_cq is not None else ""
    return _e(
        f"median {rtt.median:.1f} ms, p95 {rtt.p95:.1f} ms, max {rtt.max:.1f} ms "
        f"over {echo.packets} packets{mos}"
    )


def _call(step: StepResult, call: CallResult, number: int, report: RunReport) -> str:
    heard = [listening_line(call)] if call.listening is not None and call.callee is None else []
    features = [*heard, *call_feature_lines(call)]  # listening, DTMF, hold, session timer
    facts = _facts(
        [
            ("final response", _e(call.disconnect_reason or "-")),
            ("auth challenge", _e(call.challenge or "none")),
            ("100 Trying", format_ms(call.trying_ms)),
            ("post-dial delay", format_ms(call.pdd_ms)),
            ("answered after", format_ms(call.answer_ms)),
            ("held", "-" if call.hold_s is None else f"{call.hold_s:.2f} s"),
            ("hung up by", _e(call.hangup_by or "-")),
            ("BYE", f"{_e(call.bye_status or '-')} after {format_ms(call.bye_ms)}"),
            ("codec", f"{_e(call.codec or '-')} (offered {_e(', '.join(call.offered_codecs))})"),
            ("INVITE retransmissions", _e(call.invite_retransmissions)),
            ("media security", "SRTP" if call.srtp else "plain RTP" if call.srtp is False else "-"),
            ("echo round trip", _echo(call.echo)),
            *([("call features", "<br>".join(_e(line) for line in features))] if features else []),
        ]
    )
    events = tuple(report.timeline[i] for i in step.events if i < len(report.timeline))
    ladder = ladder_svg(events) or "<p>No SIP messages.</p>"
    legs = two_leg_html(call, call.callee) if call.callee is not None else ""
    title = f"Call {number}"
    if isinstance(step.detail, AnswerDetail):  # a call that came in: who called first
        title = f"Incoming call {number}"
        facts = _facts((label, _e(value)) for label, value in answer_facts(step.detail)) + facts
    return (
        f'<h3 id="call-{step.index}">{title}: <code>{_e(call.target)}</code></h3>'
        f"{facts}<h4>SIP ladder</h4>{ladder}{legs}{_streams(call)}"
        f"<h4>Media (SIP stack's RTCP)</h4>{_media(call)}"
    )


def _calls(report: RunReport) -> str:
    calls = [(step, step.call) for step in report.steps if step.call is not None]
    if not calls:
        return ""
    body = "".join(
        _call(step, call, number, report) for number, (step, call) in enumerate(calls, 1)
    )
    return f"<section><h2>Calls</h2>{body}</section>"


def _plots(report: RunReport) -> str:
    figures = "".join(
        f'<figure><h3>{_e(plot.title)}</h3><img alt="{_e(plot.title)}" '
        f'src="data:image/png;base64,{base64.b64encode(plot.png).decode("ascii")}">'
        f"<figcaption>{_e(plot.caption)}</figcaption></figure>"
        for plot in report_plots(report)
    )
    return f"<section><h2>Plots</h2>{figures}</section>" if figures else ""


def _thresholds(report: RunReport) -> str:
    defaults = Thresholds()
    rows = [
        (
            f"<code>{_e(f.name)}</code>",
            _e(f"{getattr(report.thresholds, f.name):g}"),
            "scenario" if getattr(report.thresholds, f.name) != getattr(defaults, f.name) else "",
        )
        for f in fields(Thresholds)
    ]
    table = _table(("threshold", "value", "set by"), rows)
    return f"<section><h2>Thresholds used</h2>{table}</section>"


def _messages(report: RunReport) -> str:
    cited = {i for finding in report.verdict.findings for i in finding.evidence}
    items = "".join(
        f'<details id="sip-{m.index}"{" open" if m.index in cited else ""}><summary>'
        f"<code>#{m.index} +{m.t_s:.3f} s {m.direction.upper()} "
        f"{'→' if m.direction == 'tx' else '←'} {_e(m.peer)} ({_e(m.transport)}): "
        f"{_e(m.first_line)}</code></summary><pre>{_e(m.text)}</pre></details>"
        for m in report.timeline
    )
    return f"<section><h2>SIP messages</h2>{items or '<p>None.</p>'}</section>"


def render_html(report: RunReport) -> str:
    verdict = report.verdict
    title = (
        f"sipprobe {report.scenario}: messaging {verdict.messaging.value}, "
        f"media {verdict.media.value}"
    )
    probe = report.probe
    body = "".join(
        (
            _run(report),
            _findings(report),
            _steps(report),
            _calls(report),
            _plots(report),
            _thresholds(report),
            _messages(report),
        )
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"{_banner(report)}<main>{body}</main>"
        f"<footer>sipprobe {_e(probe.get('version', '?'))} on {_e(probe.get('host', '?'))}"
        "</footer></body></html>\n"
    )
