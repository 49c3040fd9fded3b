"""An answer step in the text, markdown and HTML reports: who called and what arrived."""

from __future__ import annotations

from collections.abc import Callable

from sipprobe.model.inbound import AnswerDetail
from sipprobe.model.results import StepResult


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def answer_facts(detail: AnswerDetail) -> list[tuple[str, str]]:
    """Label and value pairs, in the order an engineer reads them."""
    caller = detail.caller
    if caller is None:  # the step's name and its "waited" timing say it all
        return []
    facts = [
        ("source", f"{caller.source} ({caller.transport})"),
        ("request-uri", caller.request_uri or "-"),
        ("from", caller.from_header or "-"),
        ("to", caller.to_header or "-"),
    ]
    if caller.asserted_identity is not None:
        facts.append(("p-asserted-identity", caller.asserted_identity))
    facts.append(("contact", caller.contact or "-"))
    if caller.user_agent is not None:
        facts.append(("user-agent", caller.user_agent))
    facts.append(
        (
            "signalling",
            f"INVITE {caller.invite_after_ms / 1000.0:.2f} s after waiting began; "
            f"180 sent {_ms(caller.ringing_sent_ms)}, 200 sent {_ms(caller.answered_sent_ms)} "
            f"after it; ACK {_ms(caller.ack_after_ms)} after the 200",
        )
    )
    if caller.delayed_offer:
        facts.append(("offered", "nothing: delayed offer (the 200 OK offered, the ACK answered)"))
    else:
        facts.append(("offered", ", ".join(caller.offered_codecs) or "-"))
    hold = caller.caller_hold()
    if hold is not None:
        offered, at_s, held_s = hold
        until = f"resumed after {held_s:.1f} s" if held_s is not None else "never resumed"
        facts.append(("held by caller", f"{offered} at {at_s:.1f} s after the answer, {until}"))
    ended = {"caller": "the caller hung up", "probe": "the probe hung up"}.get(
        detail.hangup_by or "", "not ended by a BYE"
    )
    if detail.interrupted:
        ended += " (interrupted)"
    facts.append(("ended", ended))
    return facts


def answer_lines(detail: AnswerDetail) -> list[str]:
    return [f"{label}: {value}" for label, value in answer_facts(detail)]


def answer_markdown(steps: tuple[StepResult, ...], cell: Callable[[str], str]) -> list[str]:
    """Markdown lines for the answer steps: what arrived, one list per step (or nothing)."""
    lines: list[str] = []
    for step in steps:
        if isinstance(step.detail, AnswerDetail) and step.detail.caller is not None:
            lines += ["", f"#### Answer (step {step.index + 1})", ""]
            lines += [f"- {label}: {cell(value)}" for label, value in answer_facts(step.detail)]
    return lines
