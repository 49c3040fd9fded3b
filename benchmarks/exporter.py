"""How many probes one ``sipprobe exporter`` sustains, the memory it holds, and overload.

Starts a responder and an exporter (``concurrency`` probes at once, a bounded queue) on
loopback, then keeps ``clients`` scrapers asking ``/probe`` back to back for ``seconds`` per
module (``options``, then ``call``: a 5 s call with capture and analysis). Prints probes per
minute answered (and how many had probe_success 1), probe wall times, and the RSS of the
exporter and of its whole process tree (the probes' children included), sampled every 0.25 s.
A last phase sends more scrapers than slots plus queue: the excess must get HTTP 503 at once,
counted in /metrics, and the exporter must go on.

    python benchmarks/exporter.py [--concurrency 2] [--queue 4] [--seconds 60]

Needs root for the calls' capture (without it calls still run, measured from RTCP). A
benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from sipprobe.run.demo import free_udp_port, start_responder, stop, wait_ready


def tree_rss_mib(root: int) -> tuple[float, float]:
    """RSS of ``root`` alone and of ``root`` with every process below it, in MiB."""
    parents: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents.setdefault(int(stat[1]), []).append(pid)
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[pid] = int(line.split()[1])
    total, queue = 0, [root]
    while queue:
        pid = queue.pop()
        total += rss.get(pid, 0)
        queue.extend(parents.get(pid, []))
    return rss.get(root, 0) / 1024, total / 1024


def probe(base: str, target: str, module: str, timeout_s: float) -> tuple[int, bool, float]:
    url = f"{base}/probe?target={target}&module={module}"
    request = urllib.request.Request(
        url, headers={"X-Prometheus-Scrape-Timeout-Seconds": f"{timeout_s:g}"}
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s + 10) as response:
            body = response.read().decode()
            return response.status, "\nprobe_success 1.0\n" in body, time.monotonic() - started
    except urllib.error.HTTPError as error:
        error.close()
        return error.code, False, time.monotonic() - started


def phase(
    base: str,
    target: str,
    module: str,
    clients: int,
    seconds: float,
    timeout_s: float,
    exporter_pid: int,
) -> dict[str, float]:
    stop_at = time.monotonic() + seconds
    results: list[tuple[int, bool, float]] = []
    lock = threading.Lock()
    rss: list[tuple[float, float]] = []

    def client() -> None:
        while time.monotonic() < stop_at:
            outcome = probe(base, target, module, timeout_s)
            with lock:
                results.append(outcome)
            if outcome[0] == 503:
                time.sleep(0.2)  # as Prometheus would: the next scrape, not a busy loop

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        rss.append(tree_rss_mib(exporter_pid))
        time.sleep(0.25)
    wall = time.monotonic() - started
    answered = [r for r in results if r[0] == 200]
    return {
        "wall_s": wall,
        "answered": len(answered),
        "success": sum(1 for r in answered if r[1]),
        "rejected_503": sum(1 for r in results if r[0] == 503),
        "per_minute": 60 * len(answered) / wall,
        "median_probe_s": statistics.median(r[2] for r in answered) if answered else 0.0,
        "exporter_rss_mib": max(r[0] for r in rss),
        "tree_rss_peak_mib": max(r[1] for r in rss),
        "tree_rss_mean_mib": statistics.fmean(r[1] for r in rss),
    }


def metric(base: str, name: str) -> str:
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        lines = response.read().decode().splitlines()
    return "; ".join(line for line in lines if line.startswith(name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--queue", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sipprobe-bench-exporter-") as name:
        work = Path(name)
        port = free_udp_port()
        responder = start_responder("127.0.0.1", port, work / "responder.log")
        wait_ready(responder, work / "responder.log")
        (work / "exporter.yaml").write_text(
            f"concurrency: {args.concurrency}\nqueue: {args.queue}\nkeep_runs: 3\n"
        )
        http_port = free_udp_port()
        exporter = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sipprobe",
                "exporter",
                "--listen",
                f"127.0.0.1:{http_port}",
                "--config",
                str(work / "exporter.yaml"),
                "--runs-dir",
                str(work / "runs"),
            ],
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{http_port}"
        try:
            assert exporter.stderr is not None
            exporter.stderr.readline()  # "listening on ..."
            target = f"sip:echo@127.0.0.1:{port}"
            for module, timeout_s in (("options", 10.0), ("call", 30.0)):
                figures = phase(
                    base, target, module, args.concurrency, args.seconds, timeout_s, exporter.pid
                )
                print(f"{module}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()))
            clients = 3 * (args.concurrency + args.queue)
            figures = phase(base, target, "options", clients, args.seconds / 2, 10.0, exporter.pid)
            print(
                f"overload ({clients} scrapers, {args.concurrency} slots, queue {args.queue}): "
                + ", ".join(f"{k} {v:.1f}" for k, v in figures.items())
            )
            print("exporter alive:", exporter.poll() is None)
            print(metric(base, "sipprobe_exporter_requests_rejected_total"))
            print(metric(base, "sipprobe_exporter_queue_limit"))
        finally:
            stop(exporter)
            stop(responder)


if __name__ == "__main__":
    main()
