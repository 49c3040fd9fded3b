"""Many calls in one run, and the trunk capacity test, against real peers on loopback.

Kept small (12 calls, a limit of 3 channels): the lab shares two cores.
"""

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jsonschema
from referencing import Registry, Resource

from lab.environment import require_lab
from lab.kamailio import Kamailio
from lab.probe import run_probe
from lab.responder import Responder
from lab.sipp import SippUas


def _schema(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(
        resources.files("sipprobe").joinpath(f"schema/{name}").read_text()
    )
    return loaded


SCHEMA = _schema("report.schema.json")
CAPACITY = jsonschema.Draft202012Validator(
    _schema("capacity.schema.json"),
    registry=Registry().with_resource(str(SCHEMA["$id"]), Resource.from_contents(SCHEMA)),
)

# The responder's per-source limits are for the internet; one probe placing 12 calls at once
# from one address is no flood.
MANY_FROM_ONE = ("--max-unconfirmed-per-source", "100", "--max-cps-per-source", "100")


def test_calls_12_in_one_run_are_answered_and_measured_both_ways(
    responder_factory: Callable[..., Responder],
) -> None:
    require_lab("tcpdump", root=True)
    far_end = responder_factory(extra=MANY_FROM_ONE)
    run = run_probe("call", far_end.uri(), "--calls", "12", "--duration", "4", "--no-history")
    report = run.report
    assert run.returncode == 0, report["verdict"]["findings"]
    calls = report["calls"]
    assert len(calls) == 12
    assert len({c["call_id"] for c in calls}) == 12
    assert report["capture"]["not_captured"] == 0
    for call in calls:
        assert call["status_code"] == 200
        directions = {s["direction"]: s for s in call["streams"]}
        assert set(directions) == {"rx", "tx"}, call["call_id"]
        assert directions["rx"]["packets"] >= 150  # 4 s of 20 ms packets, with some slack
        assert directions["tx"]["packets"] >= 150
        assert directions["tx"]["far_end"] is not None  # the responder's RTCP about our stream
    assert report["verdict"]["messaging"] == "good"
    assert report["verdict"]["media"] == "good"
    # Every call's messages are in the one timeline, in time order.
    times = [event["t_s"] for event in report["sip"]]
    assert times == sorted(times)


def test_calls_12_against_a_stock_sipp_echo_uas(sipp_uas: Callable[..., SippUas]) -> None:
    """SIPp reflects every call's RTP from one media port: the calls are told apart by the
    probe's own ports, and each is measured both ways."""
    require_lab("sipp", "tcpdump", root=True)
    uas = sipp_uas("echo", ring_ms=1)
    run = run_probe(
        "call", uas.uri(), "--calls", "12", "--duration", "3", "--expect-dscp", "none",
        "--no-history",
    )  # fmt: skip
    report = run.report
    assert run.returncode == 0, report["verdict"]["findings"]
    assert report["capture"]["not_captured"] == 0
    assert [c["status_code"] for c in report["calls"]] == [200] * 12
    for call in report["calls"]:
        assert {s["direction"] for s in call["streams"]} == {"rx", "tx"}, call["call_id"]


def test_capacity_against_a_channel_limit_reports_it_and_the_503(
    kamailio_factory: Callable[..., Kamailio],
    responder_factory: Callable[..., Responder],
    tmp_path: Path,
) -> None:
    require_lab("tcpdump", root=True)
    far_end = responder_factory(extra=MANY_FROM_ONE)
    kamailio = kamailio_factory(uas=(far_end.host, far_end.port), max_channels=3)
    run = run_probe(
        "capacity", kamailio.uri(user="uas"), "--channels", "5", "--step", "1", "--hold", "2"
    )
    report = run.report
    CAPACITY.validate(report)
    assert run.returncode == 2, report["conclusion"]
    assert report["highest_good"] == 3
    assert [s["calls"] for s in report["steps"]] == [1, 2, 3, 4]
    failure = report["failure"]
    assert failure["calls"] == 4
    assert failure["how"] == "status"
    assert failure["status_code"] == 503
    assert report["side"] == "platform"
    assert "5 contracted channels" in report["conclusion"]
    assert report["bandwidth"][0]["codec"] == "PCMU"
    answered = [c for c in report["failed_step_report"]["calls"] if c["status_code"] == 200]
    assert len(answered) == 3  # the calls the platform held were not harmed


def test_capacity_scenario_step_is_one_run_with_every_call_and_a_conclusion(
    responder_factory: Callable[..., Responder], tmp_path: Path
) -> None:
    require_lab("tcpdump", root=True)
    far_end = responder_factory(extra=(*MANY_FROM_ONE, "--max-calls", "2"))
    scenario = tmp_path / "capacity.yaml"
    scenario.write_text(
        f"name: capacity\ntarget: sip:{far_end.host}:{far_end.port}\n"
        "steps:\n  - capacity: {channels: 3, step: 1, hold_s: 1}\n"
    )
    run = run_probe("run", str(scenario), "--no-history")
    report = run.report
    jsonschema.validate(report, SCHEMA)
    assert run.returncode == 2
    assert [c["status_code"] for c in report["calls"]][:3] == [200, 200, 200]
    assert sorted(c["status_code"] for c in report["calls"][3:]) == [200, 200, 486]
    (conclusion,) = [f for f in report["verdict"]["findings"] if f["code"].startswith("capacity")]
    assert conclusion["code"] == "capacity-below-contract"
    assert conclusion["side"] == "platform"
    assert conclusion["summary"].startswith("2 of 3 contracted channels held")
