"""Progress on the terminal and the run's files on disk."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

from sipprobe.atomic import write_atomically
from sipprobe.errors import SetupError
from sipprobe.model.results import RunReport
from sipprobe.report.bundle import Bundle, write_bundle
from sipprobe.report.formats import OutputFormat


class Progress:
    """One updating status line on stderr while a run goes on (only on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled and sys.stderr.isatty()
        self._shown = False

    def show(self, text: str) -> None:
        if not self._enabled:
            return
        sys.stderr.write(f"\r\033[K{text[:110]}")
        sys.stderr.flush()
        self._shown = True

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def write_run_files(report: RunReport, directory: Path, make_zip: bool = False) -> Bundle:
    """The run's evidence bundle in ``directory`` (and ``directory``.zip when asked)."""
    extras = {}
    if report.capture is not None and report.capture.path is not None:
        capture = Path(report.capture.path)
        if capture.is_file():
            extras["capture.pcap"] = capture
    try:
        return write_bundle(report, directory, extra_files=extras, make_zip=make_zip)
    except OSError as exc:
        raise SetupError(
            f"cannot write the run's files to {directory}: {exc.strerror or exc}"
        ) from exc


def write_metrics_file(report: RunReport, path: Path) -> None:
    """OpenMetrics text in ``path``, replaced atomically (node_exporter's textfile collector)."""
    try:
        write_atomically(path, OutputFormat.OPENMETRICS.render(report).encode())
    except OSError as exc:
        raise SetupError(f"cannot write the metrics file {path}: {exc.strerror or exc}") from exc
