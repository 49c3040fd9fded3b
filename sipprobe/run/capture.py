"""The run's packet capture: started once the SIP stack knows its ports, analysed at the end.

Capture is best effort by design: where it is not permitted the run goes on, the report says
why in one line, and media figures come from pjmedia's RTCP statistics instead.
"""

from __future__ import annotations

import random
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sipprobe.capture.live import LiveCapture, bpf_filter, interface_towards
from sipprobe.capture.redact import redact_pcap
from sipprobe.errors import CaptureError
from sipprobe.model.limits import RTP_PORT_SPAN
from sipprobe.model.results import CaptureSummary, SipEvent, StepResult

_RTP_PORT_LOW, _RTP_PORT_HIGH = 20000, 60000


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

    @classmethod
    def start(
        cls, remote_host: str, sip_port: int, rtp_base: int, workdir: Path | None
    ) -> RunCapture:
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
            live = LiveCapture(path, interface_towards(remote_host), expression)
            live.start()
        except CaptureError as exc:
            return cls(None, path, workdir is not None, str(exc), tempdir)
        return cls(live, path, workdir is not None, None, tempdir)

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
            )
            try:
                redact_pcap(self.path)  # before anything can copy it into evidence
                analysis = analyse_run_capture(self.path, calls_media_ends(steps, timeline))
            except CaptureError as exc:
                return steps, CaptureSummary(
                    summary.path,
                    stats.interface,
                    stats.bpf_filter,
                    stats.captured,
                    stats.missed,
                    f"capture unreadable: {exc}",
                )
            with_streams = attach_streams(steps, timeline, analysis)
            try:
                return attach_echo(with_streams, timeline, self.path), summary
            except CaptureError:
                return with_streams, summary  # the streams stand; only the echo is missing
        finally:
            self.path.with_suffix(".tcpdump.log").unlink(missing_ok=True)
            if self._tempdir is not None:
                shutil.rmtree(self._tempdir, ignore_errors=True)
