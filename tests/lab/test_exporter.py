"""``sipprobe exporter`` against real peers on loopback: the responder, a closed port, a
silent socket, a target outside the allow-list, a full queue, and a real Prometheus."""

import contextlib
import json
import shutil
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from lab.environment import require_lab
from lab.exporter import Answer, Exporter
from lab.ports import free_port, wait_listening
from lab.process import start_peer
from lab.responder import Responder

pytestmark = pytest.mark.lab
CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "prometheus"


def _probe(exporter: Exporter, target: str, module: str, timeout_s: float = 20) -> Answer:
    query = urllib.parse.urlencode({"target": target, "module": module})
    header = {"X-Prometheus-Scrape-Timeout-Seconds": f"{timeout_s:g}"}
    return exporter.get(f"/probe?{query}", header, timeout=timeout_s + 10)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@contextlib.contextmanager
def _silent_udp() -> Iterator[tuple[socket.socket, int]]:
    """A UDP socket the test binds as the target: it receives and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock, sock.getsockname()[1]


def test_exporter_call_against_responder_is_success_with_media_and_a_report_link(
    exporter_factory: Callable[..., Exporter], responder: Responder
) -> None:
    require_lab("tcpdump", root=True)
    exporter = exporter_factory()
    answer = _probe(exporter, responder.uri(), "call", timeout_s=20)
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"].startswith("application/openmetrics-text")
    values = _samples(answer.body)
    assert values[("probe_success", ())] == 1
    assert values[("sipprobe_exit_code", ())] == 0
    assert 3.5 < values[("sipprobe_call_mos_lq", (("direction", "rx"), ("step", "1")))] <= 4.5
    assert values[("sipprobe_call_loss_ratio", (("direction", "rx"), ("step", "1")))] == 0
    assert ("sipprobe_call_loss_ratio", (("direction", "tx"), ("step", "1"))) in values
    (link,) = [
        dict(labels)["report_url"]
        for name, labels in values
        if name == "sipprobe_probe_report_info"
    ]
    assert link.startswith(exporter.base + "/runs/")
    report = exporter.get(link.removeprefix(exporter.base))
    assert report.status == 200
    assert report.headers["Content-Type"].startswith("text/html")
    assert "report.json" in {p.name for p in exporter.runs_dir.rglob("*")}


def test_exporter_closed_port_fails_within_the_scrape_timeout(
    exporter_factory: Callable[..., Exporter],
) -> None:
    exporter = exporter_factory()
    closed = free_port()
    for module in ("options", "call"):
        started = time.monotonic()
        answer = _probe(exporter, f"sip:echo@127.0.0.1:{closed}", module, timeout_s=8)
        assert time.monotonic() - started < 8, module
        assert answer.status == 200, answer.body
        values = _samples(answer.body)
        assert values[("probe_success", ())] == 0, module
        assert values[("sipprobe_exit_code", ())] == 2, module


def test_exporter_silent_target_is_stopped_at_the_budget(
    exporter_factory: Callable[..., Exporter],
) -> None:
    exporter = exporter_factory("modules: {slow: {scenario: slow.yaml}}\n")
    (exporter.runs_dir.parent / "slow.yaml").write_text(
        "name: slow\ntarget: ${TARGET}\nsteps:\n  - wait: {seconds: 30}\n"
    )
    with _silent_udp() as (_sock, port):
        started = time.monotonic()
        answer = _probe(exporter, f"sip:127.0.0.1:{port}", "slow", timeout_s=4)
        assert time.monotonic() - started < 4
    values = _samples(answer.body)
    assert values[("probe_success", ())] == 0
    reasons = [
        dict(labels)["reason"] for name, labels in values if name == "sipprobe_probe_error_info"
    ]
    assert reasons and "budget" in reasons[0]


def test_exporter_refuses_targets_outside_the_allow_list_without_sip_traffic(
    exporter_factory: Callable[..., Exporter],
) -> None:
    exporter = exporter_factory("allow: [192.0.2.0/24, sbc.example.com]\n")
    with _silent_udp() as (sock, port):
        answer = _probe(exporter, f"sip:127.0.0.1:{port}", "options")
        assert answer.status == 403
        assert "not in the allow-list" in answer.body
        bad = exporter.get(f"/probe?target=sip:127.0.0.1:{port}&module=options&password=x")
        assert bad.status == 400
        sock.settimeout(1.0)
        with pytest.raises(TimeoutError):
            sock.recvfrom(4096)
    metrics = _samples(exporter.get("/metrics", {"Accept": "application/openmetrics-text"}).body)
    assert metrics[("sipprobe_exporter_requests_rejected_total", (("reason", "forbidden"),))] == 1
    assert metrics[("sipprobe_exporter_requests_rejected_total", (("reason", "bad_request"),))] == 1


def test_exporter_full_queue_answers_503_and_counts_it(
    exporter_factory: Callable[..., Exporter],
) -> None:
    exporter = exporter_factory("concurrency: 1\nqueue: 0\n")
    with _silent_udp() as (_sock, port):
        busy = threading.Thread(
            target=_probe, args=(exporter, f"sip:127.0.0.1:{port}", "options", 4)
        )
        busy.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            running = _samples(
                exporter.get("/metrics", {"Accept": "application/openmetrics-text"}).body
            )
            if running[("sipprobe_exporter_probes_running", ())] == 1:
                break
            time.sleep(0.05)
        answer = _probe(exporter, f"sip:127.0.0.1:{port}", "options", 4)
        busy.join(timeout=15)
    assert answer.status == 503
    metrics = _samples(exporter.get("/metrics", {"Accept": "application/openmetrics-text"}).body)
    assert metrics[("sipprobe_exporter_requests_rejected_total", (("reason", "queue_full"),))] == 1
    assert metrics[("sipprobe_exporter_queue_limit", ())] == 0
    assert exporter.process.popen.poll() is None


def _prometheus_config(exporter: Exporter, targets: list[str], directory: Path) -> Path:
    """contrib/prometheus/prometheus.yml's options job and rules, pointed at the lab."""
    documented = yaml.safe_load((CONTRIB / "prometheus.yml").read_text())
    job = next(j for j in documented["scrape_configs"] if j["job_name"] == "sipprobe-options")
    relabel = [dict(rule) for rule in job["relabel_configs"]]
    relabel[-1]["replacement"] = f"127.0.0.1:{exporter.port}"
    config = {
        # The probe's budget is the scrape timeout less 0.5 s; an options child with its
        # evidence bundle takes ~2-3 s on a busy machine.
        "global": {"scrape_interval": "5s", "scrape_timeout": "5s", "evaluation_interval": "1s"},
        "rule_files": [str(CONTRIB / "sipprobe-rules.yml")],
        "scrape_configs": [
            {
                "job_name": "sipprobe-options",
                "metrics_path": "/probe",
                "params": {"module": ["options"]},
                "static_configs": [{"targets": targets}],
                "relabel_configs": relabel,
            }
        ],
    }
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:  # urllib's HTTPError (503 while starting) and URLError are OSErrors
        return False


def _api(port: int, path: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_real_prometheus_scrapes_the_exporter_and_pends_the_silent_target_alert(
    exporter_factory: Callable[..., Exporter], responder: Responder, tmp_path: Path
) -> None:
    require_lab("prometheus")
    exporter = exporter_factory()
    with _silent_udp() as (_sock, silent_port):
        good, silent = f"sip:127.0.0.1:{responder.port}", f"sip:127.0.0.1:{silent_port}"
        config = _prometheus_config(exporter, [good, silent], tmp_path)
        port = free_port()
        prometheus = start_peer(
            "prometheus",
            [
                shutil.which("prometheus") or "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            tmp_path / "prometheus.log",
            tmp_path,
        )
        try:
            wait_listening("tcp", "127.0.0.1", port, 30.0, process=prometheus.popen)
            found: dict[str, float] = {}
            pending: list[dict] = []  # type: ignore[type-arg]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if not _ready(port):
                    time.sleep(0.5)
                    continue
                result = _api(port, "/api/v1/query?query=probe_success")["data"]["result"]
                found = {r["metric"]["instance"]: float(r["value"][1]) for r in result}
                alerts = _api(port, "/api/v1/alerts")["data"]["alerts"]
                pending = [
                    a
                    for a in alerts
                    if a["labels"]["alertname"] == "SipprobeProbeFailed" and a["state"] == "pending"
                ]
                # The annotation is expanded at each evaluation: it links the latest bundle.
                linked = [a for a in pending if a["annotations"].get("report")]
                if found == {good: 1.0, silent: 0.0} and linked:
                    break
                time.sleep(1)
        finally:
            prometheus.stop()
    log = (tmp_path / "prometheus.log").read_text()
    assert found == {good: 1.0, silent: 0.0}, log[-3000:]
    assert [a["labels"]["instance"] for a in pending] == [silent]
    assert pending[0]["labels"]["module"] == "options"
    assert pending[0]["annotations"]["report"].startswith(exporter.base + "/runs/")
