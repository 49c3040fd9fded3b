"""Capturing a run's SIP and RTP with tcpdump, into a pcap file the analysis engine reads.

Why tcpdump and not a Python sniffer: the kernel's BPF filter and ring buffer keep up with
50+ concurrent calls without a Python call per packet, the timestamps are the kernel's, and
tcpdump reports exactly how many packets the kernel dropped, so the report can say whether the
capture is complete. Reading the file back is numpy work (sipprobe.analysis.pcap).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sipprobe.errors import CaptureError

START_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0
DRAIN_S = 0.1
_BUFFER_KIB = 16384  # kernel buffer: a burst of tens of thousands of packets fits
WATCH_INTERVAL_S = 0.05  # how often the file's size is checked against its byte cap
_COUNTS = {
    "captured": re.compile(r"(\d+) packets? captured"),
    "received": re.compile(r"(\d+) packets? received by filter"),
    "dropped": re.compile(r"(\d+) packets? dropped by kernel"),
}


@dataclass(frozen=True, slots=True)
class CaptureStats:
    """What tcpdump said when it stopped; ``dropped`` > 0 means the pcap is incomplete."""

    interface: str
    bpf_filter: str
    captured: int | None
    received: int | None
    dropped: int | None
    limit: str | None = None  # why the capture stopped before it was asked to, in words

    @property
    def missed(self) -> int | None:
        """Packets the kernel dropped before tcpdump read them (Linux's "received by filter"
        also counts packets the filter rejected, so it cannot tell more)."""
        return self.dropped


def interface_towards(address: str) -> str:
    """The network interface the kernel routes ``address`` through (``lo`` for loopback)."""
    try:
        output = subprocess.run(
            ["ip", "-j", "route", "get", address],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
        return str(json.loads(output)[0]["dev"])
    except (OSError, subprocess.SubprocessError, ValueError, LookupError) as exc:
        raise CaptureError(f"cannot tell which interface leads to {address}: {exc}") from exc


def bpf_filter(sip_port: int, rtp_low: int, rtp_high: int) -> str:
    """SIP on the probe's port (any transport) and UDP on its RTP/RTCP port range."""
    return f"(port {sip_port}) or (udp and portrange {rtp_low}-{rtp_high})"


class LiveCapture:
    """A tcpdump process writing to ``path``; ``stop()`` returns its counts.

    ``max_packets`` (tcpdump's ``-c``) and ``max_bytes`` (the file's size, watched from a
    thread that stops tcpdump once it is passed) bound what a flood can put in the file: the
    capture then ends early and ``CaptureStats.limit`` says so.
    """

    def __init__(
        self,
        path: Path,
        interface: str,
        expression: str,
        max_packets: int | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.path = path
        self.interface = interface
        self.expression = expression
        self.max_packets = max_packets
        self.max_bytes = max_bytes
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr = path.with_suffix(".tcpdump.log")
        self._started = 0.0
        self._limit: str | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """Start capturing; raises CaptureError with the reason when it cannot."""
        binary = shutil.which("tcpdump") or next(
            (p for p in ("/usr/bin/tcpdump", "/usr/sbin/tcpdump") if os.path.exists(p)), None
        )
        if binary is None:
            raise CaptureError("tcpdump is not installed (Debian package tcpdump)")
        count = ["-c", str(self.max_packets)] if self.max_packets else []
        with self._stderr.open("wb") as log:
            self._process = subprocess.Popen(
                # --immediate-mode: without it TPACKET_V3 hands packets over in blocks that
                # retire only when full or after a timeout, and the last block is lost at stop.
                [
                    binary,
                    "-i",
                    self.interface,
                    "-n",
                    "-U",
                    "--immediate-mode",
                    "-B",
                    str(_BUFFER_KIB),
                    "-s",
                    "0",
                    "--time-stamp-precision=nano",
                    *count,
                    "-w",
                    str(self.path),
                    self.expression,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            text = self._log_text()
            if "listening on" in text:
                self._started = time.monotonic()
                if self.max_bytes:
                    self._watcher = threading.Thread(
                        target=self._watch_size, name="capture-size", daemon=True
                    )
                    self._watcher.start()
                return
            if self._process.poll() is not None:
                self._process = None
                raise CaptureError(f"capture not possible: {_first_error(text)}")
            time.sleep(0.02)
        self.stop()
        raise CaptureError(f"tcpdump did not start within {START_TIMEOUT_S:g} s")

    def _watch_size(self) -> None:
        """Stop tcpdump once the file passes ``max_bytes`` (it may pass by what arrives
        within one interval)."""
        process, cap = self._process, self.max_bytes or 0
        while process is not None and not self._stopping.wait(WATCH_INTERVAL_S):
            if process.poll() is not None:
                return
            try:
                size = self.path.stat().st_size
            except OSError:
                continue
            if size > cap:
                self._limit = (
                    f"the capture stopped at its limit of {cap / 1e6:.1f} MB, "
                    f"{time.monotonic() - self._started:.1f} s after it started"
                )
                process.send_signal(signal.SIGINT)
                return

    def stop(self) -> CaptureStats:
        process = self._process
        self._process = None
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=STOP_TIMEOUT_S)
            self._watcher = None
        ended_alone = process is not None and process.poll() is not None
        if process is not None and process.poll() is None:
            # SIGINT ends pcap's loop at once: a short grace lets tcpdump read what the
            # kernel still holds.
            time.sleep(DRAIN_S)
            process.send_signal(signal.SIGINT)  # tcpdump flushes and prints its counts
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
        text = self._log_text()
        counts = {name: _count(pattern, text) for name, pattern in _COUNTS.items()}
        limit = self._limit
        captured = counts["captured"]
        if limit is None and ended_alone and self.max_packets and captured == self.max_packets:
            limit = f"the capture stopped at its limit of {self.max_packets} packets"
        return CaptureStats(
            self.interface,
            self.expression,
            captured,
            counts["received"],
            counts["dropped"],
            limit,
        )

    def _log_text(self) -> str:
        try:
            return self._stderr.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


def _count(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    return int(match.group(1)) if match else None


def _first_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "tcpdump exited without saying why"
    message = lines[-1].removeprefix("tcpdump: ")
    if "permission" in message.lower() or "not permitted" in message.lower():
        return f"{message} (needs root or CAP_NET_RAW)"
    return message
