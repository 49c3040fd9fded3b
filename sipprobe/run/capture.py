"""The run's packet capture: started once the SIP stack knows its ports, analysed at the end.

Capture is best effort by design: where it is not permitted the run goes on, the report says
why in one line, and media figures come from pjmedia's RTCP statistics instead.
"""

from __future__ import annotations

import random
import shutil
import socket
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from sipprobe.capture.live import LiveCapture, bpf_filter, interface_towards
from sipprobe.capture.redact import redact_pcap
from sipprobe.errors import CaptureError
from sipprobe.model.limits import RTP_PORT_SPAN
from sipprobe.model.results import CaptureSummary, SipEvent, StepResult

_RTP_PORT_LOW, _RTP_PORT_HIGH = 20000, 60000

# The capture's cap, sized for the run's calls: a call's RTP is 50 packets a second each way
# at 20 ms, plus RTCP and SIP; twice that per second of the call's time bounds (answer, hold,
# BYE) leaves room for anything legitimate, and a flood stops at it instead of filling the
# disk and the evidence bundle. G.711 RTP is ~214 bytes a packet on the wire.
PACKETS_PER_CALL_S = 240
MIN_PACKETS = 5000
BYTES_PER_PACKET = 600


def capture_bounds(call_seconds: float) -> tuple[int, int]:
    """(packets, bytes) the run's capture may hold, for calls that may last ``call_seconds``
    in all (each call's answer bound, planned duration and BYE bound, summed)."""
    packets = max(MIN_PACKETS, int(PACKETS_PER_CALL_S * call_seconds))
    return packets, packets * BYTES_PER_PACKET


def choose_rtp_base(host: str) -> int:
    """An even port with free neighbours, so the capture filter is known before any call."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    rng = random.Random()
    for _ in range(50):
        base = rng.randrange(_RTP_PORT_LOW, _RTP_PORT_HIGH - RTP_PORT_SPAN, 2)
        try:
            for port in (base, base + 1):
                with socket.socket(family, socket.SOCK_DGRAM) as sock:
                    sock.bind((host or "0.0.0.0", port))
        except OSError:
            continue
        return base
    return 0  # let pjsua choose; the capture then filters on the SIP port only


@dataclass
class RunCapture:
    """A live capture for one run, and where its file goes."""

    capture: LiveCapture | None
    path: Path
    keep: bool
    error: str | None
    _tempdir: str | None = None

    max_packets: int | None = None
    max_bytes: int | None = None

    @classmethod
    def start(
        cls,
        remote_host: str,
        sip_port: int,
        rtp_base: int,
        workdir: Path | None,
        call_seconds: float = 0.0,
        also: tuple[str, ...] = (),
    ) -> RunCapture:
        """``also``: more BPF expressions to capture (the call workers' ports)."""
        tempdir = None
        if workdir is None:
            tempdir = tempfile.mkdtemp(prefix="sipprobe-capture-")
            directory = Path(tempdir)
        else:
            directory = workdir
            directory.mkdir(parents=True, exist_ok=True)
        path = directory / "capture.pcap"
        try:
            expression = (
                bpf_filter(sip_port, rtp_base, rtp_base + RTP_PORT_SPAN)
                if rtp_base
                else f"port {sip_port}"
            )
            expression = " or ".join(f"({e})" for e in (expression, *also)) if also else expression
            packets, size = capture_bounds(call_seconds)
            live = LiveCapture(path, interface_towards(remote_host), expression, packets, size)
            live.start()
        except CaptureError as exc:
            return cls(None, path, workdir is not None, str(exc), tempdir)
        return cls(live, path, workdir is not None, None, tempdir, packets, size)

    def discard(self) -> None:
        """Stop and clean up without analysing (the run failed before it measured anything)."""
        if self.capture is not None:
            self.capture.stop()
        self.path.with_suffix(".tcpdump.log").unlink(missing_ok=True)
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)

    def finish(
        self, steps: tuple[StepResult, ...], timeline: tuple[SipEvent, ...]
    ) -> tuple[tuple[StepResult, ...], CaptureSummary]:
        """Stop, analyse, fill each call's streams; the capture file stays only with --out."""
        # numpy and the analysis engine load only for runs that captured something.
        from sipprobe.run.callmedia import (
            analyse_run_capture,
            attach_echo,
            attach_streams,
            calls_media_ends,
        )

        try:
            if self.capture is None:
                return steps, CaptureSummary(None, None, None, None, None, self.error)
            stats = self.capture.stop()
            summary = CaptureSummary(
                str(self.path) if self.keep else None,
                stats.interface,
                stats.bpf_filter,
                stats.captured,
                stats.missed,
                limit=stats.limit,
                max_packets=self.max_packets,
                max_bytes=self.max_bytes,
            )
            try:
                redact_pcap(self.path)  # before anything can copy it into evidence
                analysis = analyse_run_capture(self.path, calls_media_ends(steps, timeline))
            except CaptureError as exc:
                return steps, replace(summary, error=f"capture unreadable: {exc}")
            summary = replace(summary, rtp_packets=sum(s.metrics.packets for s in analysis.streams))
            with_streams = attach_streams(steps, timeline, analysis)
            try:
                return attach_echo(with_streams, timeline, self.path), summary
            except CaptureError:
                return with_streams, summary  # the streams stand; only the echo is missing
        finally:
            self.path.with_suffix(".tcpdump.log").unlink(missing_ok=True)
            if self._tempdir is not None:
                shutil.rmtree(self._tempdir, ignore_errors=True)
