"""The pass after the rules: location, responsible and policy on every finding; the headline."""

from __future__ import annotations

from typing import Any

import pytest
from media_samples import call_detail, options_detail, register_detail

from sipprobe.model.demarc import Equipment, Location, Responsible, default_equipment
from sipprobe.model.results import (
    Finding,
    Quality,
    Severity,
    Side,
    StepResult,
    Verdict,
)
from sipprobe.verdict.attribution import OUTSIDE_HINT, attribute, located, subject_of
from sipprobe.verdict.headline import headline
from sipprobe.verdict.policy import decide

HOSTED = default_equipment("hosted-pbx")
TRUNK = default_equipment("sip-trunk")


_DETAILS = {"call": call_detail, "options": options_detail, "register": register_detail}


def step(kind: str = "call", code: int | None = None, index: int = 0, **fields: Any) -> StepResult:
    reason = fields.pop("reason", "")
    return StepResult(
        index=index,
        kind=kind,  # type: ignore[arg-type]
        name=kind,
        ok=False,
        status_code=code,
        reason=reason,
        origin="network" if code else "none",  # type: ignore[arg-type]
        timings_ms={},
        detail=_DETAILS[kind](**fields),
        reachable=code is not None,
    )


def finding(code: str, side: Side, severity: Severity = Severity.WARNING, **kw: Any) -> Finding:
    area = kw.pop("area", "media" if "loss" in code or "dscp" in code else "messaging")
    return Finding(severity, side, area, code, kw.pop("summary", code), kw.pop("step", 0))


@pytest.mark.parametrize("location", [Location.INTERNET, Location.PLATFORM])
def test_attribution_outside_never_names_customer_network(location: Location) -> None:
    placed = located(finding("sip-alg-rewrite", Side.CUSTOMER_NETWORK), step(), location)
    assert placed.side is Side.UNKNOWN
    assert placed.summary == (
        f"sip-alg-rewrite (probed from {location.words}, no customer network is on the path)"
    )


@pytest.mark.parametrize("location", [Location.CUSTOMER_LAN, Location.CUSTOMER_WAN])
def test_attribution_inside_keeps_customer_network_evidence(location: Location) -> None:
    dscp = finding("dscp-removed", Side.CUSTOMER_NETWORK)
    assert located(dscp, step(), location) is dscp
    rejected = finding("register-rejected", Side.CUSTOMER_EQUIPMENT, Severity.CRITICAL)
    assert located(rejected, step("register", 403), location) is rejected


@pytest.mark.parametrize(
    "code",
    [
        "call-no-answer",
        "options-no-answer",
        "rx-loss",
        "tx-loss",
        "rx-late",
        "rx-reordered",
        "one-way-audio",
    ],
)
def test_attribution_beside_the_platform_silence_and_loss_are_the_platforms(code: str) -> None:
    placed = located(finding(code, Side.UNKNOWN), step(), Location.PLATFORM)
    assert placed.side is Side.PLATFORM
    assert placed.summary.endswith("(probed from beside the platform, nothing else is on the path)")


def test_attribution_beside_the_platform_a_tls_failure_stays_unknown() -> None:
    options = step("options", reason="TLS handshake failed: certificate verify failed")
    no_answer = finding("options-no-answer", Side.UNKNOWN)
    assert located(no_answer, options, Location.PLATFORM) is no_answer
    register = step("register", reason="TLS connect failed")
    assert located(
        finding("register-no-answer", Side.UNKNOWN), register, Location.PLATFORM
    ).side is (Side.UNKNOWN)


@pytest.mark.parametrize(
    ("code", "side"),
    [
        ("call-no-answer", Side.PLATFORM),
        ("tx-loss", Side.CUSTOMER_NETWORK),
        ("rx-late", Side.PLATFORM),
    ],
)
def test_attribution_from_the_lan_silence_and_loss_are_unknown_with_the_hint(
    code: str, side: Side
) -> None:
    placed = located(finding(code, side), step(), Location.CUSTOMER_LAN)
    assert placed.side is Side.UNKNOWN
    assert placed.summary == (
        f"{code} (seen from the customer LAN this can be the customer's access or the "
        f"platform: {OUTSIDE_HINT})"
    )
    assert located(finding(code, Side.UNKNOWN), step(), Location.CUSTOMER_LAN).summary == code


def test_attribution_subject_of_findings() -> None:
    assert subject_of(finding("dscp-removed", Side.CUSTOMER_NETWORK), None) == "qos"
    assert subject_of(finding("sip-alg-rewrite", Side.CUSTOMER_NETWORK), None) == "nat"
    assert subject_of(finding("register-rejected", Side.CUSTOMER_EQUIPMENT), None) == (
        "credentials"
    )
    failed = finding("call-failed", Side.CUSTOMER_EQUIPMENT)
    assert subject_of(failed, step(code=488)) == "codec"
    assert subject_of(failed, step(code=415)) == "codec"
    assert subject_of(failed, step(code=407)) == "credentials"
    assert subject_of(failed, step(code=404)) is None
    assert subject_of(finding("post-dial-delay", Side.PLATFORM), None) is None


@pytest.mark.parametrize(
    ("service", "equipment", "responsible", "clause"),
    [
        ("hosted-pbx", HOSTED, Responsible.CLEARTRUNK, "hosted-pbx.phones"),
        ("sip-trunk", TRUNK, Responsible.CUSTOMER, "sip-trunk.pbx-configuration"),
    ],
)
def test_attribution_same_codec_failure_by_service(
    service: str, equipment: Equipment, responsible: Responsible, clause: str
) -> None:
    steps = (step(code=488),)
    rejected = Finding(
        Severity.CRITICAL, Side.CUSTOMER_EQUIPMENT, "messaging", "call-failed", "488", 0
    )
    verdict = Verdict(Quality.BAD, Quality.UNKNOWN, (rejected,), "s")
    (done,) = attribute(verdict, steps, service, equipment, Location.CUSTOMER_LAN).findings
    assert (done.side, done.responsible, done.policy) == (
        Side.CUSTOMER_EQUIPMENT,
        responsible,
        clause,
    )


def test_attribution_fills_every_finding_of_decide_and_keeps_the_qualities() -> None:
    steps = (
        step("options", None, 0, error="no response within 5 s"),
        step("register", 403, 1, action="register", credentials="environment variable PW"),
    )
    decided = decide(steps)
    verdict = attribute(decided, steps, "hosted-pbx", HOSTED, Location.CUSTOMER_LAN)
    assert (verdict.messaging, verdict.media) == (decided.messaging, decided.media)
    assert [(f.code, f.side, f.responsible, f.policy) for f in verdict.findings] == [
        ("options-no-answer", Side.UNKNOWN, Responsible.UNDETERMINED, "undetermined"),
        ("register-rejected", Side.CUSTOMER_EQUIPMENT, Responsible.CLEARTRUNK, "hosted-pbx.phones"),
    ]
    assert verdict.summary == decided.summary  # no finding's words changed


def test_attribution_verdict_summary_follows_a_changed_finding() -> None:
    steps = (step("options", None, 0, error="no response within 5 s"),)
    decided = decide(steps)
    verdict = attribute(decided, steps, "sip-trunk", TRUNK, Location.PLATFORM)
    (only,) = verdict.findings
    assert (only.side, only.responsible, only.policy) == (
        Side.PLATFORM,
        Responsible.CLEARTRUNK,
        "sip-trunk.platform",
    )
    assert verdict.summary == f"messaging bad, media unknown: {only.summary}"
    assert verdict.exit_code == decided.exit_code


def _verdict(*findings: Finding, media: Quality = Quality.GOOD) -> Verdict:
    worst = {f.severity for f in findings}
    messaging = (
        Quality.BAD
        if Severity.CRITICAL in worst
        else Quality.DEGRADED
        if Severity.WARNING in worst
        else Quality.GOOD
    )
    return Verdict(messaging, media, findings, "summary")


def _with(code: str, side: Side, responsible: Responsible, severity: Severity) -> Finding:
    return Finding(severity, side, "messaging", code, code, 0, (), responsible, "x")


def test_headline_all_good() -> None:
    assert headline(_verdict(), Location.CUSTOMER_LAN) == (
        "ClearTrunk's side: good. Customer's side: good."
    )
    assert headline(_verdict(media=Quality.UNKNOWN), Location.CUSTOMER_WAN) == (
        "ClearTrunk's side: good. Customer's side: good. Media was not measured."
    )


@pytest.mark.parametrize(
    ("location", "words"),
    [(Location.INTERNET, "the internet"), (Location.PLATFORM, "beside the platform")],
)
def test_headline_clean_from_outside_says_nothing_of_the_customer(
    location: Location, words: str
) -> None:
    assert headline(_verdict(), location) == (
        f"ClearTrunk's side: good. Customer's side: not on the path (probed from {words})."
    )
    rejected = _with(
        "REGISTER failed with 403",
        Side.CUSTOMER_EQUIPMENT,
        Responsible.CUSTOMER,
        Severity.CRITICAL,
    )
    assert headline(_verdict(rejected), location) == (
        "ClearTrunk's side: good. Customer's side: not good (REGISTER failed with 403)."
    )


def test_headline_customer_side_not_good() -> None:
    alg = _with(
        "SIP ALG rewrote Via", Side.CUSTOMER_NETWORK, Responsible.CUSTOMER, Severity.WARNING
    )
    info = _with("NAT on the path", Side.CUSTOMER_NETWORK, Responsible.CUSTOMER, Severity.INFO)
    assert headline(_verdict(info, alg), Location.CUSTOMER_LAN) == (
        "ClearTrunk's side: good. Customer's side: not good (SIP ALG rewrote Via)."
    )


def test_headline_cleartrunk_side_not_good_with_the_worst_finding() -> None:
    pdd = _with("post-dial delay", Side.PLATFORM, Responsible.CLEARTRUNK, Severity.WARNING)
    failed = _with("503", Side.PLATFORM, Responsible.CLEARTRUNK, Severity.CRITICAL)
    unknown = _with("jitter", Side.UNKNOWN, Responsible.UNDETERMINED, Severity.WARNING)
    assert headline(_verdict(pdd, failed, unknown), Location.INTERNET) == (
        "ClearTrunk's side: not good (503). Customer's side: not known (jitter)."
    )


def test_headline_could_not_tell() -> None:
    silent = _with("no answer", Side.UNKNOWN, Responsible.UNDETERMINED, Severity.CRITICAL)
    assert headline(_verdict(silent), Location.CUSTOMER_LAN) == (
        "Could not tell whose side: no answer (seen from the customer LAN); run the same check "
        "from outside the customer's network and use `sipprobe localize`."
    )
    assert headline(_verdict(silent), Location.INTERNET).endswith(
        "(seen from the internet); run the same check from the customer's LAN and use "
        "`sipprobe localize`."
    )
    nothing = Verdict(Quality.UNKNOWN, Quality.UNKNOWN, (), "s")
    assert headline(nothing, Location.CUSTOMER_LAN) == (
        "Could not tell whose side: nothing was measured."
    )
