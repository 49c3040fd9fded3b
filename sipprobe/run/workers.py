"""Many simultaneous calls: spread over worker processes, each with its own SIP stack.

The pjsua2-python wheel holds MAX_CALLS calls per process and one Endpoint per process (see
run/fanout.py), so a call step with more calls starts ceil(N / MAX_CALLS) children
(``python -m sipprobe.run.callworker``). The run chooses every worker's SIP port and RTP port
block before anything starts, so its one capture filters on all of them. Each worker starts
its stack, says it is ready, and waits; once all are ready (or the ready bound passed) every
worker is told to go at the same moment, places its share of the calls, and sends its calls
and its timeline back as one JSON line (run/crossing.py). A worker that fails to start, dies,
or overruns its bound is killed by its pid: its calls are not measured, and the run reports
that as a finding, never as a hang.
"""

from __future__ import annotations

import json
import os
import random
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, Any

from sipprobe.model.dtmf import DtmfMethod
from sipprobe.model.hold import HoldMode
from sipprobe.model.limits import MAX_CALLS, WORKER_RTP_PORTS
from sipprobe.model.session_timer import TimerUse
from sipprobe.run.crossing import WorkerReport, report_from_dict

_PORT_LOW, _PORT_HIGH = 20000, 60000
READY_BOUND_S = 20.0  # for all workers to start their stacks
EXIT_BOUND_S = 5.0  # from a worker's report to its exit (stack teardown)


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """Everything a worker needs to place its calls; crosses the pipe as JSON. A password
    does not: the worker reads it from the same source (environment or file) itself."""

    transport: str
    bind_host: str
    codecs: tuple[str, ...]
    srtp: str
    tls_verify: bool
    tls_ca_file: str | None
    user: str
    domain: str
    outbound_proxy: str | None
    auth_user: str | None
    realm: str
    password_env: str | None
    password_file: str | None
    uri: str
    duration_s: float
    answer_timeout_s: float
    expect_status: int
    media_file: str | None
    count: int = 0
    dtmf: str = ""  # the call step's DTMF and hold, done by each call of the worker
    dtmf_method: DtmfMethod = "rfc4733"
    hold_s: float = 0.0
    hold_mode: HoldMode = "sendonly"
    session_expires_s: int | None = None  # the step's RFC 4028 session timer
    session_timer: TimerUse = "optional"
    sip_port: int = 0
    rtp_port: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        data = json.loads(text)
        data["codecs"] = tuple(data["codecs"])
        return cls(**data)

    @property
    def bound_s(self) -> float:
        """How long a worker may take from go to its report: answer, hold, BYE (5 s), slack."""
        return self.answer_timeout_s + self.duration_s + 5.0 + 2.0 + 10.0


@dataclass(frozen=True, slots=True)
class WorkerPorts:
    """Each worker's SIP port and RTP base; both blocks are contiguous, so the capture filter
    is two port ranges whatever the number of workers."""

    sip_ports: tuple[int, ...]
    rtp_bases: tuple[int, ...]

    @property
    def capture_filters(self) -> tuple[str, ...]:
        if not self.sip_ports:
            return ()
        rtp_high = self.rtp_bases[-1] + WORKER_RTP_PORTS - 1
        return (
            f"port {self.sip_ports[0]}"
            if len(self.sip_ports) == 1
            else f"portrange {self.sip_ports[0]}-{self.sip_ports[-1]}",
            f"udp and portrange {self.rtp_bases[0]}-{rtp_high}",
        )


def workers_needed(calls: int) -> int:
    return -(-calls // MAX_CALLS)


def shares(calls: int, workers: int) -> list[int]:
    """``calls`` split over ``workers`` as evenly as possible (the first ones take one more)."""
    base, extra = divmod(calls, workers)
    return [base + (1 if n < extra else 0) for n in range(workers)]


def _all_free(host: str, ports: range, tcp: bool) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kinds = (socket.SOCK_DGRAM, socket.SOCK_STREAM) if tcp else (socket.SOCK_DGRAM,)
    try:
        for port in ports:
            for kind in kinds:
                with socket.socket(family, kind) as sock:
                    sock.bind((host or "0.0.0.0", port))
    except OSError:
        return False
    return True


def plan_worker_ports(
    sip_host: str, rtp_host: str, workers: int, tcp: bool, avoid: range = range(0)
) -> WorkerPorts:
    """Free, contiguous SIP and RTP port blocks for ``workers`` (``avoid``: the run's own RTP
    range); empty when none was found in 50 tries (the workers then cannot start)."""
    rng = random.Random()
    rtp_span = workers * WORKER_RTP_PORTS
    for _ in range(50):
        sip = rng.randrange(_PORT_LOW, _PORT_HIGH - workers)
        rtp = rng.randrange(_PORT_LOW, _PORT_HIGH - rtp_span, 2)
        sip_block, rtp_block = range(sip, sip + workers), range(rtp, rtp + rtp_span)
        if any(p in avoid or p in rtp_block for p in sip_block):
            continue
        if avoid and rtp_block.start < avoid.stop and avoid.start < rtp_block.stop:
            continue
        if _all_free(sip_host, sip_block, tcp) and _all_free(rtp_host, rtp_block, False):
            return WorkerPorts(
                tuple(sip_block), tuple(range(rtp, rtp + rtp_span, WORKER_RTP_PORTS))
            )
    return WorkerPorts((), ())


@dataclass(frozen=True, slots=True)
class WorkerResult:
    """One worker: the calls it was given, what it sent back, or why it sent nothing."""

    number: int
    count: int
    report: WorkerReport | None
    failure: str | None
    stderr_tail: str = ""


class _Worker:
    def __init__(self, number: int, spec: WorkerSpec, errors: IO[bytes]) -> None:
        self.number = number
        self.spec = spec
        self.errors = errors
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sipprobe.run.callworker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        self.buffer = b""
        self.lines: list[dict[str, Any]] = []
        self.eof = False
        self.failure: str | None = None
        self._send(spec.to_json())

    def _send(self, line: str) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(line.encode() + b"\n")
            stdin.flush()
        except OSError:
            self.failure = self.failure or "could not be told what to do (its pipe closed)"

    def go(self) -> None:
        self._send("go")

    def read(self) -> None:
        """Take what the pipe has (the selector said it is readable)."""
        stdout = self.process.stdout
        assert stdout is not None
        chunk = os.read(stdout.fileno(), 1 << 16)
        if not chunk:
            self.eof = True
            return
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                self.failure = self.failure or "sent something that is not JSON"

    def message(self, key: str) -> Any:
        return next((line[key] for line in self.lines if key in line), None)

    def kill(self, why: str) -> None:
        self.failure = self.failure or why
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with suppress(OSError):  # a worker gone mid-write: nothing left to say
                    pipe.close()

    def stderr_tail(self) -> str:
        self.errors.flush()
        self.errors.seek(0)
        lines = self.errors.read().decode(errors="replace").strip().splitlines()
        return lines[-1][:300] if lines else ""


def _pump(workers: list[_Worker], until: Callable[[_Worker], bool], deadline: float) -> None:
    """Read every worker's pipe until ``until(worker)`` holds for all, or ``deadline``."""
    with selectors.DefaultSelector() as selector:
        for worker in workers:
            if not until(worker) and not worker.eof and worker.process.stdout is not None:
                selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for key, _ in selector.select(min(left, 0.5)):
                worker = key.data
                worker.read()
                if worker.eof or until(worker):
                    selector.unregister(key.fileobj)


def run_workers(
    spec: WorkerSpec,
    calls: int,
    ports: WorkerPorts,
    say: Callable[[str], None],
) -> list[WorkerResult]:
    """Place ``calls`` calls in as many workers as needed, all at once; every worker ends
    (by itself or killed) before this returns."""
    count = workers_needed(calls)
    if len(ports.sip_ports) < count:
        return [
            WorkerResult(n, share, None, "no free SIP and RTP ports were found for it")
            for n, share in enumerate(shares(calls, count))
        ]
    with tempfile.TemporaryDirectory(prefix="sipprobe-workers-") as directory:
        logs = [(Path(directory) / f"worker-{n}.log").open("w+b") for n in range(count)]
        try:
            workers = [
                _Worker(
                    n,
                    replace(
                        spec, count=share, sip_port=ports.sip_ports[n], rtp_port=ports.rtp_bases[n]
                    ),
                    logs[n],
                )
                for n, share in enumerate(shares(calls, count))
            ]
            try:
                return _drive(workers, spec, say)
            finally:
                for worker in workers:  # whatever happened above, none outlives the step
                    if worker.process.poll() is None:
                        worker.kill("was still running when the step ended")
                    worker.close()
        finally:
            for log in logs:
                log.close()


def _answered(key: str) -> Callable[[_Worker], bool]:
    return lambda w: w.message(key) is not None or w.message("error") is not None


def _drive(
    workers: list[_Worker], spec: WorkerSpec, say: Callable[[str], None]
) -> list[WorkerResult]:
    _pump(workers, _answered("ready"), time.monotonic() + READY_BOUND_S + 0.2 * len(workers))
    for worker in workers:
        error = worker.message("error")
        if error is not None:
            worker.kill(f"could not start: {error}")
        elif worker.message("ready") is None:
            worker.kill(
                "ended before it was ready"
                if worker.eof
                else f"was not ready within {READY_BOUND_S:g} s"
            )
    ready = [w for w in workers if w.failure is None]
    say(f"{sum(w.spec.count for w in ready)} calls in {len(ready)} worker processes")
    for worker in ready:
        worker.go()
    _pump(ready, _answered("report"), time.monotonic() + spec.bound_s)
    results = []
    for worker in workers:
        report = None
        if worker.failure is None:
            data = worker.message("report")
            if data is not None:
                report = report_from_dict(data)
            elif worker.message("error") is not None:
                worker.failure = f"failed: {worker.message('error')}"
            elif worker.eof:
                worker.failure = _ended(worker.process.wait())
            else:
                worker.kill(f"did not report within {spec.bound_s:g} s: it was stopped")
        if worker.failure is None:
            try:
                worker.process.wait(timeout=EXIT_BOUND_S)
            except subprocess.TimeoutExpired:  # its calls are measured; only teardown hung
                worker.process.kill()
                worker.process.wait()
        results.append(
            WorkerResult(
                worker.number,
                worker.spec.count,
                report,
                worker.failure,
                worker.stderr_tail() if worker.failure else "",
            )
        )
    return results


def _ended(code: int) -> str:
    return f"ended by signal {-code}" if code < 0 else f"exited with status {code} before reporting"
