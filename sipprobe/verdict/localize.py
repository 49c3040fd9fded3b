"""``sipprobe localize``: runs of one target from two or more locations, one segment at fault.

A single run from the customer's LAN often cannot tell the customer's access from the
platform. Runs of the same target from several locations at about the same time can:

1. A finding with a side (not ``unknown``; info findings do not count) decides the segment.
   ``platform`` wins over a customer side only when it was seen from a location with no
   customer network between the probe and the platform (``internet``, ``platform``).
2. Otherwise each area (messaging, media) is compared across locations: not good from the
   internet or beside the platform -> ``platform``; not good from inside the customer's
   network but good from further out at the same time -> ``customer-network``; good from
   everywhere -> ``none``; anything else -> ``undetermined``.

``responsible`` then comes from the support policy (verdict/support_policy.py) with the
service and equipment the reports name. Refusals are ``UsageError``: one line, exit 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sipprobe.errors import UsageError
from sipprobe.model.demarc import Equipment, Location
from sipprobe.model.outcome import ExitCode, Quality, Severity, Side
from sipprobe.model.results import Finding
from sipprobe.verdict.support_policy import responsible_for

# What localize can name: a side of the demarc, "none" (all good) or "undetermined".
SEGMENTS = ("platform", "customer-network", "customer-equipment", "none", "undetermined")
DEFAULT_MAX_APART_S = 15 * 60.0
# Outward from the customer's LAN: a location further out has less of the path before it.
_OUTWARD = (Location.CUSTOMER_LAN, Location.CUSTOMER_WAN, Location.INTERNET, Location.PLATFORM)
_NOT_GOOD = (Quality.BAD, Quality.DEGRADED)


@dataclass(frozen=True, slots=True)
class Vantage:
    """One run as localize needs it: where it stood, when, what it found."""

    path: str  # the report file, or where in the history it came from
    target: str
    service: str
    equipment: Equipment
    location: Location
    started_at: str
    started_unix: float
    messaging: Quality
    media: Quality
    exit_code: int
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Localization:
    segment: str  # one of SEGMENTS
    responsible: str  # cleartrunk, customer, none or undetermined
    summary: str
    reasons: tuple[str, ...]
    runs: tuple[Vantage, ...]
    exit_code: ExitCode


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def check_comparable(runs: Sequence[Vantage], max_apart_s: float) -> None:
    """Refuse what cannot be compared; the message names the reports concerned."""
    if len(runs) < 2:
        raise UsageError(
            "localize needs runs of the same target from two or more locations, got one "
            "report (give another, or --against-history)"
        )
    first = runs[0]
    for run in runs[1:]:
        if run.target != first.target:
            raise UsageError(
                f"the reports probe different targets: {first.target} ({first.path}) and "
                f"{run.target} ({run.path})"
            )
        if run.service != first.service:
            raise UsageError(
                f"the reports name different services: {first.service} ({first.path}) and "
                f"{run.service} ({run.path}); the support policy needs one"
            )
    if len({run.location for run in runs}) < 2:
        raise UsageError(
            f"every report was made from {first.location.value}: localize compares locations"
        )
    earliest = min(runs, key=lambda r: r.started_unix)
    latest = max(runs, key=lambda r: r.started_unix)
    apart = latest.started_unix - earliest.started_unix
    if apart > max_apart_s:
        raise UsageError(
            f"the runs are {_minutes(apart)} apart ({earliest.path} at {earliest.started_at}, "
            f"{latest.path} at {latest.started_at}), more than --max-apart "
            f"{_minutes(max_apart_s)}: probe again from both locations at about the same time"
        )


def _sided(runs: Sequence[Vantage]) -> list[tuple[Vantage, Finding]]:
    return [
        (run, f)
        for run in runs
        for f in run.findings
        if f.side is not Side.UNKNOWN and f.severity is not Severity.INFO
    ]


def _by_evidence(runs: Sequence[Vantage]) -> tuple[Vantage, Finding] | None:
    sided = _sided(runs)
    outside = [
        (r, f)
        for r, f in sided
        if f.side is Side.PLATFORM and not r.location.customer_network_on_path
    ]
    customer = [(r, f) for r, f in sided if f.side is not Side.PLATFORM]
    customer.sort(key=lambda pair: pair[1].severity is not Severity.CRITICAL)
    for candidates in (outside, customer, sided):
        if candidates:
            return candidates[0]
    return None


def _quality_at(runs: Sequence[Vantage], area: str) -> dict[Location, Quality]:
    """The worst measured quality of ``area`` per location."""
    order = (Quality.GOOD, Quality.DEGRADED, Quality.BAD)
    worst: dict[Location, Quality] = {}
    for run in runs:
        quality = run.messaging if area == "messaging" else run.media
        if quality is Quality.UNKNOWN:
            continue
        held = worst.get(run.location)
        if held is None or order.index(quality) > order.index(held):
            worst[run.location] = quality
    return worst


def _compare_area(runs: Sequence[Vantage], area: str) -> tuple[str, str] | None:
    """The segment one area points to, and why; None when no run measured it."""
    seen = _quality_at(runs, area)
    if not seen:
        return None
    words = ", ".join(f"{q.value} from {loc.value}" for loc, q in sorted(seen.items(), key=_key))
    outside_bad = [loc for loc, q in seen.items() if q in _NOT_GOOD and loc in _OUTWARD[2:]]
    if outside_bad:
        return "platform", f"{area}: {words}: not good without the customer's network too"
    for inner, quality in seen.items():
        if quality in _NOT_GOOD and any(
            q is Quality.GOOD and _OUTWARD.index(loc) > _OUTWARD.index(inner)
            for loc, q in seen.items()
        ):
            return (
                "customer-network",
                f"{area}: {words}: not good from {inner.value}, good further out at the same time",
            )
    if all(q is Quality.GOOD for q in seen.values()):
        return "none", f"{area}: {words}"
    return "undetermined", f"{area}: {words}: no location further out tells where"


def _key(item: tuple[Location, Quality]) -> int:
    return _OUTWARD.index(item[0])


def _exit_code(segment: str, runs: Sequence[Vantage]) -> ExitCode:
    if segment == "none":
        return ExitCode.OK
    if segment == "undetermined":
        return ExitCode.UNKNOWN
    qualities = {q for run in runs for q in (run.messaging, run.media)}
    return ExitCode.CRITICAL if Quality.BAD in qualities else ExitCode.WARNING


def _responsible(segment: str, service: str, equipment: Equipment) -> tuple[str, str]:
    """The party and clause for a segment found by comparison (no finding to ask)."""
    if segment in ("none", "undetermined"):
        return segment, ""
    party, clause = responsible_for(Side(segment), service, equipment, None)
    return party.value, clause


def localize(runs: Sequence[Vantage], max_apart_s: float = DEFAULT_MAX_APART_S) -> Localization:
    """The segment the runs point to together, who answers for it, and why."""
    check_comparable(runs, max_apart_s)
    ordered = tuple(sorted(runs, key=lambda r: (_OUTWARD.index(r.location), r.started_unix)))
    service, equipment = ordered[0].service, ordered[0].equipment
    reasons: list[str] = []
    decided = _by_evidence(ordered)
    if decided is not None:
        # The finding's own responsible and clause: the policy already weighed what it is
        # about (a codec, a managed QoS device), which the segment alone does not say.
        run, finding = decided
        segment = finding.side.value
        responsible, clause = finding.responsible.value, finding.policy
        reasons.append(
            f"{finding.code} ({finding.side.value}, {finding.severity.value}) seen from "
            f"{run.location.value} in {run.path}: {finding.summary}"
        )
        summary = f"the evidence names {segment}: {finding.summary}"
    else:
        areas = [c for c in (_compare_area(ordered, a) for a in ("messaging", "media")) if c]
        reasons.extend(why for _, why in areas)
        found = {segment for segment, _ in areas}
        segment = next(
            (s for s in ("platform", "customer-network") if s in found),
            "none" if found == {"none"} else "undetermined",
        )
        responsible, clause = _responsible(segment, service, equipment)
        summary = _summary(segment)
    if clause:
        reasons.append(f"policy {clause} ({service}): {responsible}")
    return Localization(
        segment, responsible, summary, tuple(reasons), ordered, _exit_code(segment, ordered)
    )


def _summary(segment: str) -> str:
    return {
        "platform": "not good from outside the customer's network too: the platform",
        "customer-network": "not good from inside the customer's network only, good from "
        "further out at the same time: the customer's network",
        "none": "good from every location",
        "undetermined": "could not tell where: no location further out saw a difference",
    }[segment]
