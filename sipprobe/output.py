"""Progress on the terminal and the run's files on disk."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from sipprobe.errors import SetupError
from sipprobe.models import RunReport
from sipprobe.report.json_report import report_to_json
from sipprobe.report.text import render_text
from sipprobe.signalling.timeline import render_sip_log


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


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so no half-written file is ever left."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_run_files(report: RunReport, directory: Path) -> None:
    """report.json, report.txt and sip.log of a run, in ``directory``."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(
            directory / "report.json", json.dumps(report_to_json(report), indent=2) + "\n"
        )
        _write_atomically(directory / "report.txt", render_text(report))
        _write_atomically(directory / "sip.log", render_sip_log(report.timeline))
    except OSError as exc:
        raise SetupError(f"cannot write the run's files to {directory}: {exc.strerror}") from exc
