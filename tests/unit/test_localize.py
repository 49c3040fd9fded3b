"""sipprobe localize on pairs of report JSON: the segment, who answers for it, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from localize_samples import (
    DSCP,
    GOOD,
    LOSS,
    PLATFORM_503,
    SILENT,
    T0_PLUS_1H,
    T0_PLUS_5M,
    report,
    verdict,
    write,
)

from sipprobe.errors import UsageError
from sipprobe.model.demarc import Equipment, Location
from sipprobe.model.outcome import ExitCode, Quality
from sipprobe.report.localize import localization_to_json, read_vantage
from sipprobe.verdict.localize import localize

LAN, WAN, NET, PLATFORM = (
    Location.CUSTOMER_LAN,
    Location.CUSTOMER_WAN,
    Location.INTERNET,
    Location.PLATFORM,
)
SCHEMA = json.loads((Path(__file__).parents[2] / "sipprobe/schema/report.schema.json").read_text())


def localized(tmp_path: Path, **runs: object) -> dict[str, object]:
    paths = [write(tmp_path, name, run) for name, run in runs.items()]  # type: ignore[arg-type]
    return localization_to_json(localize([read_vantage(p) for p in paths]))


def test_localize_reads_what_the_json_writer_writes(tmp_path: Path) -> None:
    run = report(NET, verdict(Quality.BAD, Quality.GOOD, PLATFORM_503), T0_PLUS_5M)
    data = json.loads(Path(write(tmp_path, "r", run)).read_text())
    jsonschema.validate(data, SCHEMA)
    vantage = read_vantage(str(tmp_path / "r.json"))
    assert (vantage.location, vantage.service, vantage.messaging, vantage.exit_code) == (
        NET,
        "sip-trunk",
        Quality.BAD,
        2,
    )
    assert vantage.equipment == Equipment(phones="customer", pbx="customer")
    assert vantage.findings == (PLATFORM_503,)
    assert (
        vantage.started_unix - read_vantage(write(tmp_path, "g", report(LAN, GOOD))).started_unix
        == 300
    )


def test_localize_platform_fault_seen_from_both(tmp_path: Path) -> None:
    failed = verdict(Quality.BAD, Quality.UNKNOWN, PLATFORM_503)
    result = localized(tmp_path, lan=report(LAN, failed), net=report(NET, failed, T0_PLUS_5M))
    assert result == {
        "segment": "platform",
        "responsible": "cleartrunk",
        "summary": "the evidence names platform: call-failed seen",
        "reasons": [
            f"call-failed (platform, critical) seen from internet in {tmp_path}/net.json: "
            "call-failed seen",
            "policy sip-trunk.platform (sip-trunk): cleartrunk",
        ],
        "reports": [
            {
                "path": f"{tmp_path}/lan.json",
                "location": "customer-lan",
                "started_at": "2025-03-04T05:06:07.089Z",
                "messaging": "bad",
                "media": "unknown",
                "exit_code": 2,
            },
            {
                "path": f"{tmp_path}/net.json",
                "location": "internet",
                "started_at": "2025-03-04T05:11:07.089Z",
                "messaging": "bad",
                "media": "unknown",
                "exit_code": 2,
            },
        ],
    }


def test_localize_platform_silence_seen_from_both_by_comparison(tmp_path: Path) -> None:
    silent = verdict(Quality.BAD, Quality.UNKNOWN, SILENT)
    result = localize(
        [
            read_vantage(write(tmp_path, "lan", report(LAN, silent))),
            read_vantage(write(tmp_path, "net", report(PLATFORM, silent))),
        ]
    )
    assert (result.segment, result.responsible, result.exit_code) == (
        "platform",
        "cleartrunk",
        ExitCode.CRITICAL,
    )
    assert result.reasons == (
        "messaging: bad from customer-lan, bad from platform: not good without the customer's "
        "network too",
        "policy sip-trunk.platform (sip-trunk): cleartrunk",
    )


def test_localize_customer_fault_seen_only_from_the_lan(tmp_path: Path) -> None:
    lossy = verdict(Quality.GOOD, Quality.BAD, LOSS)
    result = localized(tmp_path, lan=report(LAN, lossy), net=report(NET, GOOD))
    assert (result["segment"], result["responsible"]) == ("customer-network", "customer")
    assert result["reasons"] == [
        "messaging: good from customer-lan, good from internet",
        "media: bad from customer-lan, good from internet: not good from customer-lan, good "
        "further out at the same time",
        "policy customer-network (sip-trunk): customer",
    ]
    assert result["summary"] == (
        "not good from inside the customer's network only, good from further out at the same "
        "time: the customer's network"
    )


def test_localize_customer_network_from_lan_and_wan(tmp_path: Path) -> None:
    lossy = verdict(Quality.GOOD, Quality.DEGRADED, LOSS)
    result = localize(
        [
            read_vantage(write(tmp_path, "wan", report(WAN, GOOD))),
            read_vantage(write(tmp_path, "lan", report(LAN, lossy))),
        ]
    )
    assert (result.segment, result.responsible, result.exit_code) == (
        "customer-network",
        "customer",
        ExitCode.WARNING,
    )
    assert [r.location for r in result.runs] == [LAN, WAN]  # inside out


def test_localize_customer_evidence_decides_even_with_a_platform_finding_from_the_lan(
    tmp_path: Path,
) -> None:
    lan = verdict(Quality.BAD, Quality.DEGRADED, PLATFORM_503, DSCP)
    result = localized(tmp_path, lan=report(LAN, lan), net=report(NET, GOOD))
    assert (result["segment"], result["responsible"]) == ("customer-network", "customer")
    assert result["reasons"][-1] == "policy customer-network (sip-trunk): customer"


def test_localize_qos_device_finding_keeps_its_undetermined_responsible(tmp_path: Path) -> None:
    from dataclasses import replace

    from sipprobe.model.demarc import Responsible

    managed = replace(DSCP, responsible=Responsible.UNDETERMINED, policy="qos-device")
    lan = verdict(Quality.GOOD, Quality.DEGRADED, managed)
    result = localized(tmp_path, lan=report(LAN, lan), net=report(NET, GOOD))
    assert (result["segment"], result["responsible"]) == ("customer-network", "undetermined")
    assert result["reasons"][-1] == "policy qos-device (sip-trunk): undetermined"


def test_localize_clean_from_every_location(tmp_path: Path) -> None:
    result = localize(
        [
            read_vantage(write(tmp_path, "lan", report(LAN, GOOD))),
            read_vantage(write(tmp_path, "net", report(NET, GOOD, T0_PLUS_5M))),
        ]
    )
    assert (result.segment, result.responsible, result.summary, result.exit_code) == (
        "none",
        "none",
        "good from every location",
        ExitCode.OK,
    )
    assert result.reasons == (
        "messaging: good from customer-lan, good from internet",
        "media: good from customer-lan, good from internet",
    )


def test_localize_undetermined_when_outside_measured_nothing_comparable(tmp_path: Path) -> None:
    lossy = verdict(Quality.GOOD, Quality.BAD, LOSS)
    options_only = verdict(Quality.GOOD, Quality.UNKNOWN)
    result = localize(
        [
            read_vantage(write(tmp_path, "lan", report(LAN, lossy))),
            read_vantage(write(tmp_path, "net", report(NET, options_only))),
        ]
    )
    assert (result.segment, result.responsible, result.exit_code) == (
        "undetermined",
        "undetermined",
        ExitCode.UNKNOWN,
    )
    assert result.reasons[-1] == (
        "media: bad from customer-lan: no location further out tells where"
    )


@pytest.mark.parametrize(
    ("runs", "message"),
    [
        (
            [("lan", report(LAN, GOOD)), ("net", report(NET, GOOD, T0_PLUS_1H))],
            "the runs are 60.0 min apart",
        ),
        (
            [("lan", report(LAN, GOOD)), ("net", report(NET, GOOD, target="sip:other:5060"))],
            "the reports probe different targets: sip:pbx:5060",
        ),
        (
            [("lan", report(LAN, GOOD))],
            "localize needs runs of the same target from two or more locations, got one",
        ),
        (
            [("lan", report(LAN, GOOD)), ("lan2", report(LAN, GOOD))],
            "every report was made from customer-lan",
        ),
        (
            [("lan", report(LAN, GOOD)), ("net", report(NET, GOOD, service="hosted-pbx"))],
            "the reports name different services",
        ),
    ],
)
def test_localize_refuses(tmp_path: Path, runs: list[tuple[str, object]], message: str) -> None:
    vantages = [read_vantage(write(tmp_path, name, run)) for name, run in runs]  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(")):
        localize(vantages)


def test_localize_max_apart_is_adjustable(tmp_path: Path) -> None:
    vantages = [
        read_vantage(write(tmp_path, "lan", report(LAN, GOOD))),
        read_vantage(write(tmp_path, "net", report(NET, GOOD, T0_PLUS_1H))),
    ]
    assert localize(vantages, max_apart_s=3600).segment == "none"


def test_localize_reads_a_bundle_folder_and_refuses_what_is_no_report(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    Path(write(tmp_path, "x", report(NET, GOOD))).rename(bundle / "report.json")
    assert read_vantage(str(bundle)).location is NET
    (tmp_path / "old.json").write_text(json.dumps({"target": "sip:pbx", "verdict": {}}))
    with pytest.raises(UsageError, match="no location: it was written before"):
        read_vantage(str(tmp_path / "old.json"))
    odd = json.loads((bundle / "report.json").read_text())
    odd["equipment"]["qos_device"] = "leased"
    (tmp_path / "odd.json").write_text(json.dumps(odd))
    with pytest.raises(UsageError, match=r"equipment\.qos_device is 'leased', not one of: none"):
        read_vantage(str(tmp_path / "odd.json"))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UsageError, match="is not a JSON report"):
        read_vantage(str(tmp_path / "bad.json"))
    with pytest.raises(UsageError, match="cannot read"):
        read_vantage(str(tmp_path / "missing.json"))
