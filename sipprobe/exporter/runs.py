"""Evidence bundles of the last runs of each target, on disk, and the links to them.

    runs_dir/<target key>/<UTC time>-<module>/report.html ...

The target key is the URI made safe for a file name plus a short hash of the URI itself (two
URIs that differ only in characters a file name cannot hold stay apart). After each run the
oldest folders of that target beyond ``keep`` are removed. Links are ``/runs/<key>/<run>/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def target_key(target: str) -> str:
    digest = hashlib.sha256(target.encode()).hexdigest()[:8]
    return f"{_UNSAFE.sub('_', target).strip('._-')[:80]}-{digest}"


class RunStore:
    def __init__(self, root: Path, keep: int) -> None:
        self.root = root
        self.keep = keep

    def new_run(self, target: str, module: str, now: dt.datetime) -> Path:
        """A folder name for a run that does not exist yet (the child creates it)."""
        folder = self.root / target_key(target)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        return folder / f"{stamp}-{_UNSAFE.sub('_', module)}"

    def prune(self, target: str) -> None:
        folder = self.root / target_key(target)
        runs = sorted(p for p in folder.iterdir() if p.is_dir())
        for old in runs[: max(0, len(runs) - self.keep)]:
            shutil.rmtree(old, ignore_errors=True)

    def link(self, run: Path) -> str:
        return "/runs/" + run.relative_to(self.root).as_posix() + "/report.html"

    def file(self, url_path: str) -> Path | None:
        """The file a ``/runs/...`` path names, or ``None`` when it names none under root."""
        parts = url_path.removeprefix("/runs/").split("/")
        if len(parts) != 3 or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            return None
        candidate = self.root.joinpath(*parts)
        try:
            resolved = candidate.resolve(strict=True)
        except OSError:
            return None
        if not resolved.is_relative_to(self.root.resolve()) or not resolved.is_file():
            return None
        return resolved
