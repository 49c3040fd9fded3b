"""The exporter's pure parts: config, allow-list, child command lines, probe slots, the run
store's paths and the metrics of a probe as Prometheus' own parser reads them."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from report_samples import captured_report, clean_report, troubled_report

from sipprobe.errors import UsageError
from sipprobe.exporter.allow import AllowList
from sipprobe.exporter.config import Module, parse_config
from sipprobe.exporter.metrics import render_probe
from sipprobe.exporter.modules import child_argv
from sipprobe.exporter.probe import ProbeOutcome
from sipprobe.exporter.runs import RunStore, target_key
from sipprobe.exporter.slots import Admission, ProbeSlots
from sipprobe.model.media import FarEndReport
from sipprobe.model.results import RunReport

CONFIG = """
listen: "[::1]:9200"
concurrency: 3
queue: 0
allow: [192.0.2.0/24, "2001:db8::/32", sbc.example.com, "*.trunks.example.com"]
modules:
  trunk:
    scenario: trunk.yaml
    vars: {CUSTOMER: acme}
    timeout_s: 40
"""


def test_config_reads_limits_allow_list_and_template_modules() -> None:
    config = parse_config(CONFIG, "/etc/sipprobe/exporter.yaml")
    assert (config.listen.host, config.listen.port) == ("::1", 9200)
    assert (config.concurrency, config.queue, config.keep_runs) == (3, 0, 5)
    assert sorted(config.modules) == ["call", "options", "trunk"]
    trunk = config.modules["trunk"]
    assert trunk.scenario == Path("/etc/sipprobe/trunk.yaml")
    assert trunk.variables == (("CUSTOMER", "acme"),)
    assert trunk.timeout_s == 40
    assert config.allow is not None


def test_config_defaults_without_a_file_bind_loopback_and_allow_any_target() -> None:
    config = parse_config("", "x.yaml")
    assert str(config.listen) == "127.0.0.1:9166"
    assert config.allow is None
    assert sorted(config.modules) == ["call", "options"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("queue: -1", "queue: expected a whole number >= 0"),
        ("allow: [not_a host!]", "allow: not a network, address or host name"),
        ("modules: {call: {scenario: x.yaml}}", "taken by a built-in module"),
        ("modules: {t: {scenario: x.yaml, vars: {TARGET: x}}}", "TARGET is the probed URI"),
        ("modules: {t: {scenario: x.yaml, password: x}}", "unknown keys ['password']"),
        ("listen: 127.0.0.1", "needs a port"),
        ("colour: blue", "unknown keys ['colour']"),
    ],
)
def test_config_errors_name_the_file_and_key(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=r"^x\.yaml: ") as error:
        parse_config(text, "x.yaml")
    assert message in str(error.value)


def _resolver(table: dict[str, tuple[str, ...]]):  # type: ignore[no-untyped-def]
    return lambda host: table.get(host, ())


def test_allow_list_networks_v4_v6_and_mapped_addresses() -> None:
    allow = AllowList.parse(["192.0.2.0/24", "2001:db8::/32", "127.0.0.1"])
    assert allow.refusal("192.0.2.77") is None
    assert allow.refusal("127.0.0.1") is None
    assert allow.refusal("2001:db8::5") is None
    assert allow.refusal("::ffff:192.0.2.9") is None
    assert "not in the allow-list" in (allow.refusal("198.51.100.1") or "")
    assert "not in the allow-list" in (allow.refusal("2001:db9::1") or "")


def test_allow_list_names_match_by_pattern_or_by_every_resolved_address() -> None:
    allow = AllowList.parse(["192.0.2.0/24", "sbc.example.com", "*.trunks.example.com"])
    nobody = _resolver({})
    assert allow.refusal("SBC.example.com.", nobody) is None
    assert allow.refusal("acme.trunks.example.com", nobody) is None
    assert "does not resolve" in (allow.refusal("trunks.example.com", nobody) or "")
    inside = _resolver({"pbx.acme.test": ("192.0.2.4",)})
    assert allow.refusal("pbx.acme.test", inside) is None
    # One address outside is enough to refuse: the child may pick any of them.
    split = _resolver({"pbx.acme.test": ("192.0.2.4", "203.0.113.9")})
    assert "203.0.113.9" in (allow.refusal("pbx.acme.test", split) or "")


def test_child_argv_fits_the_steps_into_the_budget(tmp_path: Path) -> None:
    options = child_argv(Module("options"), "sip:pbx:5060", 9.5, tmp_path)
    assert options[:4] == ["options", "sip:pbx:5060", "--timeout", "5.0"]
    assert child_argv(Module("options"), "sip:pbx", 4.5, tmp_path)[3] == "2.0"
    call = child_argv(Module("call"), "sip:echo@pbx", 19.5, tmp_path)
    assert call[:6] == ["call", "sip:echo@pbx", "--duration", "5", "--answer-timeout", "10.5"]
    for argv in (options, call):
        assert argv[-6:] == ["--format", "json", "--quiet", "--no-history", "--out", str(tmp_path)]


def test_child_argv_of_a_template_substitutes_the_target(tmp_path: Path) -> None:
    module = Module("trunk", Path("/etc/t.yaml"), (("CUSTOMER", "acme"),))
    argv = child_argv(module, "sip:sbc:5060", 30, tmp_path)
    assert argv[:6] == [
        "run",
        "/etc/t.yaml",
        "--var",
        "TARGET=sip:sbc:5060",
        "--var",
        "CUSTOMER=acme",
    ]


def test_slots_queue_then_refuse_then_time_out() -> None:
    now = [0.0]
    slots = ProbeSlots(concurrency=1, queue=1, clock=lambda: now[0])
    assert slots.acquire(deadline=10) is Admission.RUN
    results: list[Admission] = []
    waiter = threading.Thread(target=lambda: results.append(slots.acquire(deadline=10)))
    waiter.start()
    for _ in range(200):
        if slots.waiting == 1:
            break
        threading.Event().wait(0.01)
    assert slots.acquire(deadline=10) is Admission.QUEUE_FULL
    slots.release()
    waiter.join(timeout=5)
    assert results == [Admission.RUN]
    assert (slots.running, slots.waiting) == (1, 0)
    now[0] = 11.0
    assert slots.acquire(deadline=10) is Admission.QUEUE_TIMEOUT


def test_run_store_keeps_the_last_runs_and_serves_only_their_files(tmp_path: Path) -> None:
    import datetime as dt

    store = RunStore(tmp_path, keep=2)
    runs = []
    for second in range(3):
        run = store.new_run("sip:a@b", "call", dt.datetime(2026, 1, 1, 0, 0, second, tzinfo=dt.UTC))
        run.mkdir()
        (run / "report.html").write_text("<html>")
        runs.append(run)
    store.prune("sip:a@b")
    assert [r.exists() for r in runs] == [False, True, True]
    link = store.link(runs[2])
    assert link.startswith(f"/runs/{target_key('sip:a@b')}/")
    assert store.file(link) == (runs[2] / "report.html").resolve()
    assert store.file("/runs/../../etc/passwd") is None
    assert store.file(f"/runs/{target_key('sip:a@b')}/../x") is None
    (tmp_path / "outside").write_text("secret")
    assert store.file("/runs/x/y/z") is None


def _samples(outcome: ProbeOutcome, url: str | None = None) -> dict[tuple[str, tuple], float]:  # type: ignore[type-arg]
    found = {}
    for family in text_string_to_metric_families(render_probe(outcome, url).decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _outcome(report: RunReport | None, error: str | None = None) -> ProbeOutcome:
    return ProbeOutcome("sip:pbx:5060", "call", 6.5, report, error)


def test_metrics_of_a_clean_run() -> None:
    values = _samples(_outcome(clean_report()), "http://x/runs/a/b/report.html")
    assert values[("probe_success", ())] == 1
    assert values[("probe_duration_seconds", ())] == 6.5
    assert values[("sipprobe_exit_code", ())] == 0
    info = (("module", "call"), ("report_url", "http://x/runs/a/b/report.html"))
    assert values[("sipprobe_probe_report_info", info)] == 1
    assert values[("sipprobe_verdict", (("area", "messaging"), ("quality", "good")))] == 1
    assert values[("sipprobe_options_rtt_seconds", (("step", "1"),))] == 0.012
    assert values[("sipprobe_call_pdd_seconds", (("step", "3"),))] == 0.08
    assert values[("sipprobe_step_status_code", (("kind", "call"), ("step", "3")))] == 200


def test_metrics_of_captured_media_per_direction() -> None:
    """rx: what the probe measured; tx: what the far end's RTCP said about the probe's RTP."""
    report = captured_report()
    call = report.steps[2].call
    assert call is not None
    rx, tx = call.streams
    far_end = FarEndReport(
        reports=2, fraction_lost=0.0, cumulative_lost=5, jitter_ms=3.0, voip_metrics=None
    )
    tx = replace(tx, measured=replace(tx.measured, far_end=far_end))
    step = replace(report.steps[2], call=replace(call, streams=(rx, tx)))
    report = replace(report, steps=(*report.steps[:2], step, report.steps[3]))
    values = _samples(_outcome(report))
    assert values[("sipprobe_call_loss_ratio", (("direction", "rx"), ("step", "3")))] == 0.016
    assert values[("sipprobe_call_loss_ratio", (("direction", "tx"), ("step", "3")))] == 0.02
    assert values[("sipprobe_call_jitter_seconds", (("direction", "tx"), ("step", "3")))] == 0.003
    assert values[("sipprobe_call_mos_lq", (("direction", "rx"), ("step", "3")))] == 4.1
    assert ("sipprobe_call_mos_lq", (("direction", "tx"), ("step", "3"))) not in values


def test_metrics_of_findings_by_code_side_and_responsible_party() -> None:
    report = troubled_report()
    values = _samples(_outcome(report))
    assert values[("probe_success", ())] == 0
    for finding in report.verdict.findings:
        labels = (
            ("code", finding.code),
            ("responsible", finding.responsible.value),
            ("severity", finding.severity.value),
            ("side", finding.side.value),
        )
        assert values[("sipprobe_findings", labels)] >= 1
    critical = sum(
        v
        for (name, labels), v in values.items()
        if name == "sipprobe_side_findings" and ("severity", "critical") in labels
    )
    assert critical == sum(1 for f in report.verdict.findings if f.severity.value == "critical")


def test_metrics_of_a_probe_without_report_say_why() -> None:
    values = _samples(_outcome(None, "no result within the 9.5 s budget"))
    assert values[("probe_success", ())] == 0
    assert (
        values[("sipprobe_probe_error_info", (("reason", "no result within the 9.5 s budget"),))]
        == 1
    )
    assert not any(name.startswith("sipprobe_verdict") for name, _ in values)
