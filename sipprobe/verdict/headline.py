"""The verdict's headline: in plain words, whose side of the demarc is good and whose is not.

Built from the findings' ``responsible`` (filled by verdict/attribution.py), so it says no
more than the support policy and the evidence do: a side is "good" only when nothing
points at it and nothing stays undetermined; otherwise it is "not good" (with the worst
finding that points at it) or "not known". Probed from outside the customer's network, the
customer's side is "not on the path" unless a finding points at it (their credentials or
configuration can still be seen from there).
"""

from __future__ import annotations

from sipprobe.model.demarc import Location, Responsible
from sipprobe.model.results import Finding, Quality, Severity, Verdict

_PARTIES = (
    (Responsible.CLEARTRUNK, "ClearTrunk's side"),
    (Responsible.CUSTOMER, "Customer's side"),
)


def _worst_first(findings: tuple[Finding, ...]) -> list[Finding]:
    serious = [f for f in findings if f.severity is not Severity.INFO]
    return sorted(serious, key=lambda f: f.severity is not Severity.CRITICAL)


def _another_location(location: Location) -> str:
    if location.customer_network_on_path:
        return "run the same check from outside the customer's network"
    return "run the same check from the customer's LAN"


def headline(verdict: Verdict, location: Location) -> str:
    """One or two sentences for the top of every report format."""
    serious = _worst_first(verdict.findings)
    if verdict.messaging is Quality.UNKNOWN and not serious:
        return "Could not tell whose side: nothing was measured."
    undetermined = [f for f in serious if f.responsible is Responsible.UNDETERMINED]
    named = [f for f in serious if f.responsible is not Responsible.UNDETERMINED]
    if not named and undetermined:
        return (
            f"Could not tell whose side: {undetermined[0].summary} (seen from "
            f"{location.words}); {_another_location(location)} and use `sipprobe localize`."
        )
    sentences = []
    for party, label in _PARTIES:
        against = [f for f in named if f.responsible is party]
        if against:
            state = f"not good ({against[0].summary})"
        elif undetermined:
            state = f"not known ({undetermined[0].summary})"
        elif party is Responsible.CUSTOMER and not location.customer_network_on_path:
            # nothing of the customer's network was on the path: clean here says nothing of it
            state = f"not on the path (probed from {location.words})"
        else:
            state = "good"
        sentences.append(f"{label}: {state}.")
    if verdict.media is Quality.UNKNOWN:
        sentences.append("Media was not measured.")
    return " ".join(sentences)
