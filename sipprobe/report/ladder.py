"""A SIP ladder diagram of one step's messages, as inline SVG (no script, no external file).

The probe is the left lane; every peer it talked to in the step gets a lane to the right, in
the order it first appears. Each message is an arrow labelled with its request method or
status, and links to the full message further down the report (``#sip-N``).
"""

from __future__ import annotations

from html import escape

from sipprobe.model.results import SipEvent

LANE_GAP = 300
LEFT = 90  # room for the time column
TOP = 46
ROW = 30
_COLOURS = {"request": "#1f4e79", "1": "#6b6b6b", "2": "#2e7d32", "3": "#8a6d00"}
_FAILURE = "#b3261e"


def _label(event: SipEvent) -> str:
    if event.status_code is None:
        return event.method
    reason = event.first_line.split(" ", 2)[2] if event.first_line.count(" ") >= 2 else ""
    return f"{event.status_code} {reason} ({event.method})".replace("  ", " ")


def _colour(event: SipEvent) -> str:
    if event.status_code is None:
        return _COLOURS["request"]
    return _COLOURS.get(str(event.status_code)[0], _FAILURE)


def _arrow(event: SipEvent, x_from: int, x_to: int, y: int) -> str:
    colour = _colour(event)
    head = -8 if x_to > x_from else 8
    label = escape(_label(event)[:48])
    title = escape(event.first_line)
    middle = (x_from + x_to) // 2
    return (
        f'<a href="#sip-{event.index}"><title>#{event.index} {title}</title>'
        f'<text x="{LEFT - 10}" y="{y + 4}" class="t">+{event.t_s:.3f} s</text>'
        f'<line x1="{x_from}" y1="{y}" x2="{x_to}" y2="{y}" stroke="{colour}" '
        f'stroke-width="1.6"/>'
        f'<polygon points="{x_to},{y} {x_to + head},{y - 4} {x_to + head},{y + 4}" '
        f'fill="{colour}"/>'
        f'<text x="{middle}" y="{y - 5}" class="m" fill="{colour}">{label}</text></a>'
    )


def ladder_svg(events: tuple[SipEvent, ...]) -> str:
    """The messages as an SVG ladder; empty when there are none."""
    if not events:
        return ""
    peers: list[str] = []
    for event in events:
        if event.peer not in peers:
            peers.append(event.peer)
    lanes = ["probe", *peers]
    x = {name: LEFT + 40 + i * LANE_GAP for i, name in enumerate(lanes)}
    width = x[lanes[-1]] + 130
    height = TOP + ROW * len(events) + 10
    parts = [
        f'<svg class="ladder" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="SIP ladder diagram">'
    ]
    for name in lanes:
        parts.append(
            f'<text x="{x[name]}" y="18" class="h">{escape(name)}</text>'
            f'<line x1="{x[name]}" y1="26" x2="{x[name]}" y2="{height - 4}" class="lane"/>'
        )
    for row, event in enumerate(events):
        y = TOP + ROW * row
        probe, peer = x["probe"], x[event.peer]
        x_from, x_to = (probe, peer) if event.direction == "tx" else (peer, probe)
        parts.append(_arrow(event, x_from, x_to, y))
    parts.append("</svg>")
    return "".join(parts)
