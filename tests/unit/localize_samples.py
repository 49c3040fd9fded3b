"""Report JSON of one target from several locations, written by the real JSON writer."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from report_samples import clean_report

from sipprobe.model.demarc import Location, Responsible
from sipprobe.model.results import Finding, Quality, RunReport, Severity, Side, Verdict
from sipprobe.report.json_report import report_to_json

T0 = "2025-03-04T05:06:07.089Z"
T0_PLUS_5M = "2025-03-04T05:11:07.089Z"
T0_PLUS_1H = "2025-03-04T06:06:07.089Z"


def finding(
    code: str,
    side: Side,
    responsible: Responsible,
    policy: str,
    severity: Severity = Severity.CRITICAL,
    area: str = "messaging",
) -> Finding:
    return Finding(
        severity,
        side,
        "media" if area == "media" else "messaging",
        code,
        f"{code} seen",
        0,
        (),
        responsible,
        policy,
    )


def verdict(messaging: Quality, media: Quality, *findings: Finding) -> Verdict:
    return Verdict(messaging, media, findings, "summary")


GOOD = verdict(Quality.GOOD, Quality.GOOD)
PLATFORM_503 = finding("call-failed", Side.PLATFORM, Responsible.CLEARTRUNK, "sip-trunk.platform")
SILENT = finding("call-no-answer", Side.UNKNOWN, Responsible.UNDETERMINED, "undetermined")
LOSS = finding(
    "rx-loss",
    Side.UNKNOWN,
    Responsible.UNDETERMINED,
    "undetermined",
    Severity.CRITICAL,
    "media",
)
DSCP = finding(
    "dscp-removed",
    Side.CUSTOMER_NETWORK,
    Responsible.CUSTOMER,
    "customer-network",
    Severity.WARNING,
    "media",
)


def report(
    location: Location,
    run_verdict: Verdict,
    started_at: str = T0,
    target: str | None = None,
    service: str = "sip-trunk",
) -> RunReport:
    base = clean_report()
    return replace(
        base,
        location=location,
        verdict=run_verdict,
        started_at=started_at,
        target=target or base.target,
        service=service,
    )


def write(directory: Path, name: str, run: RunReport) -> str:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(report_to_json(run)), encoding="utf-8")
    return str(path)
