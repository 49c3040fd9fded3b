"""Many calls in one run: worker plumbing, joining timelines, the call table, capacity rules."""

import json
import socket
import time
from dataclasses import replace

import pytest

from sipprobe.model.capacity import CapacityFailure, CapacityStep, step_sizes
from sipprobe.model.outcome import Quality, Severity, Side
from sipprobe.model.results import CallResult, RtcpSummary, RunReport, SipEvent, StepResult, Verdict
from sipprobe.model.spread import spread
from sipprobe.model.steps import CallDetail
from sipprobe.report.calltable import many_calls_lines
from sipprobe.run.crossing import (
    WorkerCall,
    WorkerReport,
    report_from_dict,
    report_to_dict,
)
from sipprobe.run.manycalls import join_worker_results, worker_findings
from sipprobe.run.workers import (
    WorkerPorts,
    WorkerResult,
    WorkerSpec,
    plan_worker_ports,
    run_workers,
    shares,
    workers_needed,
)
from sipprobe.signalling.timeline import Timeline
from sipprobe.verdict.capacity import attribute_failure, codec_bandwidth

INVITE = (
    "INVITE sip:echo@127.0.0.1:5062 SIP/2.0\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK{n}\n"
    "From: <sip:sipprobe@127.0.0.1>;tag={n}\n"
    "To: <sip:echo@127.0.0.1>\n"
    "Call-ID: call-{n}\n"
    "CSeq: 1 INVITE\n"
    "Content-Length: 0"
)


def _event(index: int, t_s: float, n: int) -> SipEvent:
    return SipEvent(
        index,
        t_s,
        "tx",
        "UDP",
        "127.0.0.1:5062",
        "INVITE sip:echo@127.0.0.1:5062 SIP/2.0",
        "INVITE",
        None,
        f"call-{n}",
        1,
        INVITE.format(n=n),
    )


def _call(call_id: str, status: int | None = 200, rtcp: bool = True) -> CallResult:
    return CallResult(
        target="sip:echo@127.0.0.1:5062",
        call_id=call_id,
        status_code=status,
        reason="OK" if status == 200 else "Service Unavailable",
        answered=status == 200,
        trying_ms=1.0,
        pdd_ms=None,
        answer_ms=5.5,
        challenge=None,
        invite_retransmissions=0,
        early_media=False,
        ringing=False,
        hold_s=3.0,
        bye_ms=1.2,
        bye_status=200,
        hangup_by="probe",
        offered_codecs=("PCMU/8000", "PCMA/8000"),
        codec="PCMU/8000",
        rtcp=RtcpSummary("pjmedia", 150, 0, 0.0, 0.4, 0.9, 150, 0, 0.3, 0.2, "127.0.0.1:4000")
        if rtcp
        else None,
    )


def test_crossing_round_trip_keeps_every_field() -> None:
    report = WorkerReport(
        t0=12.5,
        events=(_event(0, 0.25, 1),),
        calls=(
            WorkerCall(_call("call-1"), None, "network", (0,)),
            WorkerCall(_call("call-2", 503, rtcp=False), "answer", "network", ()),
        ),
    )
    assert report_from_dict(report_to_dict(report)) == report


def _over_the_pipe(report: WorkerReport) -> WorkerReport:
    """As the run reads it: through JSON, where tuples become lists and records dicts."""
    return report_from_dict(json.loads(json.dumps(report_to_dict(report))))


def test_crossing_round_trip_keeps_every_record_a_worker_fills() -> None:
    from sipprobe.model.dtmf import CallDtmf, DtmfDigit
    from sipprobe.model.hold import CallHold, HoldMedia, Reinvite
    from sipprobe.model.session_timer import SessionRefresh, SessionTimer

    digits = (DtmfDigit("1", 5.0, 165.875),)
    dtmf = CallDtmf("12", "inband", 160, 1.01, None, None, None, digits, digits, "12")
    hold = CallHold(
        3.0,
        None,
        (Reinvite("hold", 2.0, "inactive", 200, 1.5, "inactive"),),
        (HoldMedia("rx", (50, 0, 50), 1.02, 2.0, True, True),),
        mode="inactive",
    )
    timer = SessionTimer(
        90, 90, 90, 90, True, None, None, 90, "uac", True,
        (SessionRefresh(45.0, "UPDATE", "probe", 200, 90),),
    )  # fmt: skip
    call = replace(_call("call-1"), dtmf=dtmf, hold=hold, session_timer=timer)
    report = WorkerReport(1.0, (_event(0, 0.25, 1),), (WorkerCall(call, None, "network", (0,)),))
    assert _over_the_pipe(report) == report


def test_crossing_round_trip_keeps_dtmf_and_hold() -> None:
    from sipprobe.model.dtmf import CallDtmf, DtmfDigit
    from sipprobe.model.hold import CallHold, Reinvite

    dtmf = CallDtmf("12", "inband", 160, 1.01, None, None, None, (), (), "12")
    hold = CallHold(3.0, None, (Reinvite("hold", 2.0, "sendonly", 200, 1.5, "recvonly"),))
    call = replace(_call("call-1"), dtmf=dtmf, hold=hold)
    report = WorkerReport(t0=1.0, events=(), calls=(WorkerCall(call, None, "network", ()),))
    assert report_from_dict(report_to_dict(report)) == report
    # What the run adds from its capture crosses too, should a worker ever carry it.
    measured = replace(dtmf, received_digits=(DtmfDigit("1", 5.0, 165.875),))
    report = WorkerReport(1.0, (), (WorkerCall(replace(call, dtmf=measured), None, "n", ()),))
    assert report_from_dict(report_to_dict(report)) == report


def test_worker_spec_carries_the_steps_dtmf_and_hold() -> None:
    spec = WorkerSpec(
        *("udp", "127.0.0.1", ("PCMU",), "off", True, None, "u", "d", None, None, "*"),
        *(None, None, "sip:echo@d", 5.0, 10.0, 200, None),
        dtmf="12",
        dtmf_method="inband",
        hold_s=3.0,
    )
    assert WorkerSpec.from_json(spec.to_json()) == spec


def test_worker_spec_of_a_step_carries_what_each_call_does() -> None:
    """DTMF, the hold and its mode, and the session timer reach every worker's calls."""
    from sipprobe.run.manycalls import worker_spec
    from sipprobe.scenario.model import CallStep, Scenario
    from sipprobe.sip.uri import parse_uri

    step = CallStep(
        parallel=8, dtmf="12", dtmf_method="inband", hold_s=3.0, hold_mode="inactive",
        session_expires_s=120, session_timer="required",
    )  # fmt: skip
    scenario = Scenario("many", "sip-trunk", parse_uri("sip:p:5060"), "udp", (step,))
    spec = WorkerSpec.from_json(worker_spec(scenario, "127.0.0.1", "sip:echo@p", step).to_json())
    assert (spec.dtmf, spec.dtmf_method, spec.hold_s, spec.hold_mode) == (
        "12",
        "inband",
        3.0,
        "inactive",
    )
    assert (spec.session_expires_s, spec.session_timer) == (120, "required")


def test_workers_needed_and_shares_split_evenly() -> None:
    assert workers_needed(4) == 1
    assert workers_needed(5) == 2
    assert workers_needed(100) == 25
    assert shares(10, 3) == [4, 3, 3]
    assert sum(shares(99, 25)) == 99
    assert max(shares(99, 25)) <= 4


def test_plan_worker_ports_gives_contiguous_free_blocks_and_a_filter() -> None:
    ports = plan_worker_ports("127.0.0.1", "127.0.0.1", 3, tcp=False)
    assert len(ports.sip_ports) == 3
    assert list(ports.sip_ports) == list(range(ports.sip_ports[0], ports.sip_ports[0] + 3))
    assert ports.rtp_bases[1] - ports.rtp_bases[0] == 40
    sip, rtp = ports.capture_filters
    assert sip == f"portrange {ports.sip_ports[0]}-{ports.sip_ports[-1]}"
    assert rtp == f"udp and portrange {ports.rtp_bases[0]}-{ports.rtp_bases[-1] + 39}"


def test_join_worker_results_retimes_reindexes_and_orders_messages() -> None:
    clock = iter([100.0]).__next__
    timeline = Timeline(clock)
    first = WorkerReport(
        101.0, (_event(0, 0.5, 1),), (WorkerCall(_call("call-1"), None, "network", (0,)),)
    )
    second = WorkerReport(
        100.5, (_event(0, 0.5, 2),), (WorkerCall(_call("call-2"), None, "network", (0,)),)
    )
    failed = WorkerResult(2, 3, None, "was not ready within 20 s")
    joined = join_worker_results(
        timeline, [WorkerResult(0, 1, first, None), WorkerResult(1, 1, second, None), failed]
    )
    events = timeline.snapshot()
    assert [e.call_id for e in events] == ["call-2", "call-1"]  # in time order
    assert [e.t_s for e in events] == [1.0, 1.5]  # against the run's zero
    calls = joined.calls
    assert calls[0] is not None and calls[0].events == (1,)
    assert calls[1] is not None and calls[1].events == (0,)
    assert calls[2:] == (None, None, None)
    (finding,) = worker_findings(joined.failures, 0)
    assert finding.code == "probe-worker-failed"
    assert finding.side is Side.UNKNOWN and finding.severity is Severity.WARNING
    assert "probe worker 3 was not ready within 20 s: its 3 calls" in finding.summary


def test_run_workers_reports_a_worker_that_cannot_start() -> None:
    spec = WorkerSpec(
        transport="udp",
        bind_host="127.0.0.1",
        codecs=("NO-SUCH-CODEC",),
        srtp="off",
        tls_verify=True,
        tls_ca_file=None,
        user="sipprobe",
        domain="127.0.0.1:9",
        outbound_proxy=None,
        auth_user=None,
        realm="*",
        password_env=None,
        password_file=None,
        uri="sip:echo@127.0.0.1:9",
        duration_s=1.0,
        answer_timeout_s=1.0,
        expect_status=200,
        media_file=None,
    )
    ports = plan_worker_ports("127.0.0.1", "127.0.0.1", 2, tcp=False)
    started = time.monotonic()
    results = run_workers(spec, 5, ports, lambda _text: None)
    assert time.monotonic() - started < 30
    assert [r.count for r in results] == [3, 2]
    assert all(r.report is None for r in results)
    assert all(
        "could not start" in (r.failure or "") and "NO-SUCH-CODEC" in (r.failure or "")
        for r in results
    )


def test_run_workers_without_ports_fails_every_worker_at_once() -> None:
    spec = WorkerSpec(
        "udp",
        "127.0.0.1",
        ("PCMU",),
        "off",
        True,
        None,
        "u",
        "d",
        None,
        None,
        "*",
        None,
        None,
        "sip:x@127.0.0.1",
        1.0,
        1.0,
        200,
        None,
    )
    results = run_workers(spec, 9, WorkerPorts((), ()), lambda _text: None)
    assert [r.count for r in results] == [3, 3, 3]
    assert all(r.failure for r in results)


def test_spread_by_nearest_rank_leaves_out_missing_values() -> None:
    found = spread([None, 3.0, 1.0, 2.0, float("nan"), 10.0])
    assert found is not None
    assert (found.count, found.min, found.median, found.p95, found.max) == (4, 1.0, 2.5, 10.0, 10.0)
    assert spread([None]) is None


def _call_step(index: int, call: CallResult | None, ok: bool = True) -> StepResult:
    return StepResult(
        index=index,
        kind="call",
        name=f"call sip:echo@x [{index + 1}/12]",
        ok=ok,
        status_code=call.status_code if call else None,
        reason=call.reason if call else "gone",
        origin="network" if call else "local",
        timings_ms={},
        detail=CallDetail(
            duration_s=3.0, expect_dscp=46, srtp="off", timed_out=None, credentials=None
        ),
        call=call,
    )


def test_many_calls_table_names_the_failed_call_first() -> None:
    steps = [_call_step(n, _call(f"call-{n}")) for n in range(11)]
    steps.append(_call_step(11, _call("call-11", 503), ok=False))
    lines = many_calls_lines(steps)
    assert lines[0] == "  12 calls, 11 answered"
    ids = tuple(f"call-{n}" for n in range(12))
    assert sum(1 for line in lines if line.endswith(ids)) == 12
    assert any(line.strip().startswith("setup (ms)       min 5.5") for line in lines)
    worst = lines[lines.index("  worst calls:") + 1]
    assert "#12" in worst and "503 Service Unavailable" in worst


def test_codec_bandwidth_for_g711_and_g729() -> None:
    g711 = codec_bandwidth("PCMU/8000", 10)
    assert g711 is not None
    assert (g711.ip_kbit_s, g711.ethernet_kbit_s, g711.channels_ethernet_kbit_s) == (
        80.0,
        95.2,
        952.0,
    )
    g729 = codec_bandwidth("G729", 1)
    assert g729 is not None and g729.ip_kbit_s == 24.0
    assert codec_bandwidth("opus", 1) is None  # no fixed bitrate


def _capacity_step(calls: int, good: bool, rx_loss: float | None) -> CapacityStep:
    report = RunReport(
        "capacity",
        "sip-trunk",
        "sip:x",
        "udp",
        "2026-01-01T00:00:00Z",
        1.0,
        (),
        (),
        Verdict(Quality.GOOD, Quality.GOOD, (), ""),
    )
    return CapacityStep(calls, calls, good, rx_loss, None, 5.0, report)


def test_capacity_refusal_within_the_channels_points_at_the_platform() -> None:
    failure = CapacityFailure(4, 4, "status", 503, 2.0, "503 Service Unavailable")
    side, severity, text = attribute_failure(
        (_capacity_step(3, True, 0.0), _capacity_step(4, False, 0.0)), failure, 10
    )
    assert (side, severity) == (Side.PLATFORM, Severity.CRITICAL)
    assert "refused call 4 of 4" in text and "10 contracted channels" in text


def test_capacity_rising_loss_is_a_hint_with_the_side_unknown() -> None:
    failure = CapacityFailure(8, 2, "media", None, 2.0, "rx loss 4 %")
    side, severity, text = attribute_failure(
        (_capacity_step(4, True, 0.0), _capacity_step(8, False, 4.0)), failure, 10
    )
    assert (side, severity) == (Side.UNKNOWN, Severity.WARNING)
    assert "upstream bandwidth" in text and "side stays unknown" in text


def test_capacity_step_sizes_end_at_the_channels() -> None:
    assert step_sizes(10, 3) == [3, 6, 9, 10]
    assert step_sizes(10, 5) == [5, 10]
    assert step_sizes(1, 1) == [1]
    assert replace(_capacity_step(1, True, None), calls=2).calls == 2


def test_scenario_call_parallel_takes_up_to_200_and_capacity_needs_channels() -> None:
    from sipprobe.errors import ScenarioError
    from sipprobe.scenario.loader import parse_scenario
    from sipprobe.scenario.model import CallStep, CapacityTestStep

    head = "target: sip:127.0.0.1\nsteps:\n"
    scenario = parse_scenario(
        head + "  - call: {parallel: 200}\n  - capacity: {channels: 10, step: 2, hold_s: 5}\n",
        "s.yaml",
        {},
    )
    call, capacity = scenario.steps
    assert isinstance(call, CallStep) and call.parallel == 200
    assert capacity == CapacityTestStep(channels=10, step=2, hold_s=5.0)
    assert scenario.needs_sip_stack
    for body, problem in (
        ("call: {parallel: 201}", "steps[0].call.parallel"),
        ("capacity: {step: 2}", "steps[0].capacity.channels"),
        ("capacity: {channels: 4, step: 5}", "steps[0].capacity.step"),
    ):
        try:
            parse_scenario(head + f"  - {body}\n", "s.yaml", {})
        except ScenarioError as exc:
            assert problem in str(exc)
        else:
            raise AssertionError(f"{body} was accepted")


def test_run_workers_kills_a_worker_past_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(WorkerSpec, "bound_s", property(lambda _self: 0.5))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # takes INVITEs and answers nothing
        port = silent.getsockname()[1]
        spec = WorkerSpec(
            "udp", "127.0.0.1", ("PCMU",), "off", True, None, "sipprobe", f"127.0.0.1:{port}",
            None, None, "*", None, None, f"sip:echo@127.0.0.1:{port}", 1.0, 10.0, 200, None,
        )  # fmt: skip
        ports = plan_worker_ports("127.0.0.1", "127.0.0.1", 1, tcp=False)
        started = time.monotonic()
        (result,) = run_workers(spec, 1, ports, lambda _text: None)
    assert time.monotonic() - started < 20
    assert result.report is None
    assert result.failure == "did not report within 0.5 s: it was stopped"
