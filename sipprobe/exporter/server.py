"""The exporter's HTTP server (the standard library's ThreadingHTTPServer).

    GET /probe?target=URI&module=NAME   run the module, answer with OpenMetrics
    GET /metrics                        the exporter's own metrics (queue, probes, process)
    GET /runs/<target>/<run>/<file>     a kept evidence bundle (report.html, report.json ...)

A request thread only waits: for a probe slot (``slots.py``) and for the probe's child
process. The budget is Prometheus's ``X-Prometheus-Scrape-Timeout-Seconds`` less half a
second for the answer to travel (as the blackbox_exporter does), and the queue wait counts
against it. A full queue is HTTP 503, not ``probe_success 0``: the target is not at fault,
and Prometheus's ``up`` shows the probe did not run.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import mimetypes
import signal
import socket
import sys
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import CollectorRegistry

from sipprobe.errors import UsageError
from sipprobe.exporter.config import ExporterConfig
from sipprobe.exporter.metrics import render_probe
from sipprobe.exporter.probe import ProbeOutcome, run_probe
from sipprobe.exporter.runs import RunStore
from sipprobe.exporter.slots import Admission, ProbeSlots
from sipprobe.sip.uri import parse_uri

DEFAULT_BUDGET_S = 10.0
TIMEOUT_OFFSET_S = 0.5
_DURATION_BUCKETS = (0.5, 1, 2, 5, 7.5, 10, 15, 20, 30, 60)


class ExporterState:
    """What every request shares: config, slots, evidence store and the own metrics."""

    def __init__(self, config: ExporterConfig) -> None:
        self.config = config
        self.slots = ProbeSlots(config.concurrency, config.queue)
        self.runs = RunStore(config.runs_dir, config.keep_runs)
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        prefix = "sipprobe_exporter_"
        self.probes = Counter(
            prefix + "probes",
            "probes run, by module and result (success, failure, error: no report)",
            ("module", "result"),
            registry=self.registry,
        )
        self.rejected = Counter(
            prefix + "requests_rejected",
            "probe requests not run: queue_full, queue_timeout, forbidden, bad_request",
            ("reason",),
            registry=self.registry,
        )
        self.duration = Histogram(
            prefix + "probe_duration_seconds",
            "probe duration, child process included",
            ("module",),
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            prefix + "queue_wait_seconds",
            "time a probe waited for a slot",
            buckets=(0.01, 0.1, 0.5, 1, 2, 5, 10, 30),
            registry=self.registry,
        )
        running = Gauge(prefix + "probes_running", "probes running now", registry=self.registry)
        running.set_function(lambda: self.slots.running)
        waiting = Gauge(
            prefix + "queue_waiting", "probes waiting for a slot", registry=self.registry
        )
        waiting.set_function(lambda: self.slots.waiting)
        Gauge(
            prefix + "queue_limit", "probes that may wait; beyond: 503", registry=self.registry
        ).set(config.queue)
        Gauge(
            prefix + "concurrency_limit", "probes that may run at once", registry=self.registry
        ).set(config.concurrency)

    def refusal(self, target: str) -> tuple[HTTPStatus, str] | None:
        try:
            uri = parse_uri(target)
        except UsageError as exc:
            return HTTPStatus.BAD_REQUEST, str(exc)
        allow = self.config.allow
        if allow is not None:
            why = allow.refusal(uri.host)
            if why is not None:
                return HTTPStatus.FORBIDDEN, why
        return None


def _budget(header: str | None) -> float:
    try:
        scrape_timeout = float(header) if header else DEFAULT_BUDGET_S
    except ValueError:
        scrape_timeout = DEFAULT_BUDGET_S
    return max(0.5, scrape_timeout - TIMEOUT_OFFSET_S)


class ExporterHandler(BaseHTTPRequestHandler):
    server: ExporterServer
    server_version = "sipprobe-exporter"

    def log_message(self, format: str, *args: object) -> None:
        return  # Prometheus scrapes all day; the exporter's own metrics count what happened

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/probe":
            self._probe(parse_qs(url.query))
        elif url.path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(HTTPStatus.OK, content_type, encoder(self.server.state.registry))
        elif url.path.startswith("/runs/"):
            self._run_file(url.path)
        elif url.path == "/":
            self._text(
                HTTPStatus.OK, "sipprobe exporter: /probe?target=URI&module=NAME, /metrics\n"
            )
        else:
            self._text(HTTPStatus.NOT_FOUND, "not found\n")

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _text(self, status: HTTPStatus, text: str) -> None:
        self._send(status, "text/plain; charset=utf-8", text.encode())

    def _probe(self, query: dict[str, list[str]]) -> None:
        state = self.server.state
        if set(query) - {"target", "module"} or [len(v) for v in query.values()] != [1] * len(
            query
        ):
            state.rejected.labels("bad_request").inc()
            self._text(HTTPStatus.BAD_REQUEST, "takes target= and module= once each, no more\n")
            return
        target = query.get("target", [""])[0]
        module = state.config.modules.get(query.get("module", ["options"])[0])
        if not target or module is None:
            state.rejected.labels("bad_request").inc()
            names = ", ".join(sorted(state.config.modules))
            self._text(HTTPStatus.BAD_REQUEST, f"needs target=URI and module= one of {names}\n")
            return
        refusal = state.refusal(target)
        if refusal is not None:
            status, why = refusal
            state.rejected.labels(
                "forbidden" if status == HTTPStatus.FORBIDDEN else "bad_request"
            ).inc()
            self._text(status, why + "\n")
            return
        started = time.monotonic()
        budget = _budget(self.headers.get("X-Prometheus-Scrape-Timeout-Seconds"))
        if module.timeout_s is not None:
            budget = min(budget, module.timeout_s)
        deadline = started + budget
        admission = state.slots.acquire(deadline)
        state.queue_wait.observe(time.monotonic() - started)
        if admission is not Admission.RUN:
            state.rejected.labels(admission.value).inc()
            self.send_response(HTTPStatus.SERVICE_UNAVAILABLE)
            self.send_header("Retry-After", "5")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            out = state.runs.new_run(target, module.name, dt.datetime.now(dt.UTC))
            outcome = run_probe(module, target, deadline - time.monotonic(), out)
        finally:
            state.slots.release()
        state.runs.prune(target)
        self._record(outcome)
        link = None
        if outcome.bundle is not None:
            link = state.config.base_url() + state.runs.link(outcome.bundle)
        body = render_probe(outcome, link)
        self._send(HTTPStatus.OK, CONTENT_TYPE_LATEST, body)

    def _record(self, outcome: ProbeOutcome) -> None:
        state = self.server.state
        if outcome.report is None:
            result = "error"
        elif int(outcome.report.verdict.exit_code) <= 1:
            result = "success"
        else:
            result = "failure"
        state.probes.labels(outcome.module, result).inc()
        state.duration.labels(outcome.module).observe(outcome.duration_s)

    def _run_file(self, path: str) -> None:
        file = self.server.state.runs.file(path)
        if file is None:
            self._text(HTTPStatus.NOT_FOUND, "no such run file (only the last runs are kept)\n")
            return
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        self._send(HTTPStatus.OK, content_type, file.read_bytes())


class ExporterServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ExporterState) -> None:
        self.state = state
        listen = state.config.listen
        if listen.is_ipv6:
            self.address_family = socket.AF_INET6
        super().__init__((listen.host, listen.port or 0), ExporterHandler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(config: ExporterConfig) -> int:
    """Serve until SIGINT or SIGTERM; a probe under way is left to its own budget."""
    try:
        server = ExporterServer(ExporterState(config))
    except OSError as exc:
        raise UsageError(f"cannot listen on {config.listen}: {exc.strerror or exc}") from exc
    host, port = str(server.server_address[0]), int(server.server_address[1])
    if config.allow is None and not ipaddress.ip_address(host).is_loopback:
        print(
            "warning: listening beyond loopback with no allow: list in the config: anyone who "
            "reaches this port can make the probe call any SIP address",
            file=sys.stderr,
        )
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"sipprobe exporter listening on {host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
