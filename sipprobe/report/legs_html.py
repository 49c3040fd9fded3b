"""A two-leg call in the HTML report: the caller's leg and the callee's leg side by side.

One table, a column per leg: each leg's signalling timings, what the callee was called as
(From, To, P-Asserted-Identity as the platform delivered them), the codec, then the media
in the order it flows: caller to callee on one row (a -> platform measured at a, platform
-> b measured at b), callee to caller on the next (platform -> a at a, b -> platform at b),
and under the table whether the platform relayed the media (verdict/legs.py). Everything is
escaped: header values come from the platform.
"""

from __future__ import annotations

from html import escape

from sipprobe.model.legs import CalleeLeg
from sipprobe.model.results import CallResult
from sipprobe.report.legs_text import (
    LegDirection,
    callee_signalling,
    caller_signalling,
    four_directions,
    heard,
    legs_listened,
    media_path_text,
    stream_figures,
)
from sipprobe.verdict.legs import media_path


def _e(value: object) -> str:
    return escape(str(value))


def _direction(direction: LegDirection) -> str:
    stream = direction.stream
    label = f"<strong>{_e(direction.label)}</strong><br>"
    if stream is None:
        return label + "no stream captured"
    info = stream.measured.stream
    verdict = stream.measured.verdict.value
    return (
        f"{label}<code>{_e(info.src)} → {_e(info.dst)}</code><br>"
        + _e(", ".join(stream_figures(stream)))
        + f' <span class="q {_e(verdict)}">{_e(verdict)}</span>'
    )


def two_leg_html(call: CallResult, callee: CalleeLeg) -> str:
    name = callee.account
    path = media_path(call, callee)
    a_to_platform, platform_to_b, b_to_platform, platform_to_a = four_directions(call, callee, path)
    called_as = "<br>".join(
        f"{header} {_e(value or '-')}"
        for header, value in (
            ("From", callee.from_header),
            ("To", callee.to_header),
            ("P-Asserted-Identity", callee.asserted_identity),
        )
    )
    rows: list[tuple[str, str, str]] = [
        ("signalling", _e(caller_signalling(call)), _e(callee_signalling(callee))),
        ("called", f"<code>{_e(call.target)}</code>", called_as),
        ("Call-ID", _e(call.call_id or "-"), _e(callee.call_id or "-")),
        ("codec", _e(call.codec or "-"), _e(callee.codec or "-")),
        ("hung up by", _e(call.hangup_by or "-"), _e(callee.hangup_by or "-")),
        ("caller to callee", _direction(a_to_platform), _direction(platform_to_b)),
        ("callee to caller", _direction(platform_to_a), _direction(b_to_platform)),
    ]
    if legs_listened(call, callee):
        rows.append(
            (
                "heard (other leg's speech)",
                _e(heard(call.listening, call.rx_stream)),
                _e(heard(callee.listening, callee.rx_stream)),
            )
        )
    body = "".join(
        f"<tr><th>{_e(label)}</th><td>{caller}</td><td>{answered}</td></tr>"
        for label, caller, answered in rows
    )
    error = f"<p>callee {_e(name)}: {_e(callee.error)}</p>" if callee.error else ""
    return (
        f'<h4>Both legs</h4><table class="legs"><tr><th></th><th>caller leg</th>'
        f"<th>callee leg {_e(name)}</th></tr>{body}</table>"
        f"<p>Media {_e(media_path_text(path))}.</p>{error}"
    )
