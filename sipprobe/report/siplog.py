"""The run's SIP timeline as plain text: ``sip.log`` in the bundle, JUnit's system-out."""

from __future__ import annotations

from sipprobe.model.results import SipEvent


def render_sip_log(events: tuple[SipEvent, ...]) -> str:
    """The timeline as text, one block per message, for ``sip.log`` and ``-v`` output."""
    blocks = []
    for event in events:
        arrow = "-->" if event.direction == "tx" else "<--"
        blocks.append(
            f"#{event.index} +{event.t_s:.6f}s {event.direction.upper()} {arrow} "
            f"{event.transport} {event.peer}\n{event.text}\n"
        )
    return "\n".join(blocks)
