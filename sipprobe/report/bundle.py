"""The evidence bundle: one folder per run, to attach to a ticket, and optionally its zip.

    report.json  report.html  report.md  report.txt  sip.log  [extra files]  manifest.json

Everything is rendered in memory before the first byte is written, so a report that cannot
be rendered leaves nothing behind; every file is written atomically, and manifest.json (the
size and sha256 of every other file) comes last, so a folder with a manifest is complete.
Files another layer produces (the media work's capture.pcap) are passed as ``extra_files``.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from sipprobe.atomic import atomic_file, write_atomically
from sipprobe.model.results import RunReport
from sipprobe.report.formats import OutputFormat
from sipprobe.report.siplog import render_sip_log
from sipprobe.report.text import printable

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
DEFAULT_ROOT = Path("sipprobe-runs")
_RENDERED = {
    "report.json": OutputFormat.JSON,
    "report.html": OutputFormat.HTML,
    "report.md": OutputFormat.MARKDOWN,
    "report.txt": OutputFormat.TEXT,
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class BundleFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Bundle:
    directory: Path
    files: tuple[BundleFile, ...]  # every file but the manifest, in the order written
    zip_path: Path | None


def default_directory(report: RunReport, root: Path = DEFAULT_ROOT) -> Path:
    """``root/<UTC start time>-<scenario>``, with ``-2``, ``-3``... if that folder exists."""
    stamp = re.sub(r"[-:]|\.\d+", "", report.started_at)  # 20250102T030405Z
    base = f"{stamp}-{_UNSAFE.sub('-', report.scenario).strip('-.') or 'run'}"
    candidate, number = root / base, 1
    while candidate.exists():
        number += 1
        candidate = root / f"{base}-{number}"
    return candidate


def render_bundle(report: RunReport) -> dict[str, bytes]:
    """The bundle's own files, by name."""
    files = {name: fmt.render(report).encode() for name, fmt in _RENDERED.items()}
    files["sip.log"] = printable(render_sip_log(report.timeline)).encode()
    return files


def _entry(name: str, data: bytes) -> BundleFile:
    return BundleFile(name, len(data), hashlib.sha256(data).hexdigest())


def _copy(source: Path, target: Path) -> BundleFile:
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as reader, atomic_file(target) as writer:
        while chunk := reader.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
    return BundleFile(target.name, size, digest.hexdigest())


def _manifest(report: RunReport, files: list[BundleFile]) -> bytes:
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "created_by": f"sipprobe {report.probe.get('version', '')}".strip(),
        "scenario": report.scenario,
        "target": report.target,
        "started_at": report.started_at,
        "algorithm": "sha256",
        "files": [asdict(entry) for entry in files],
    }
    return (json.dumps(manifest, indent=2) + "\n").encode()


def _zip(directory: Path, names: list[str]) -> Path:
    """DIR.zip beside DIR, its members under one folder named like DIR."""
    folder = directory if directory.name else directory.resolve()
    target = folder.with_name(f"{folder.name}.zip")
    with atomic_file(target) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            zf.write(folder / name, f"{folder.name}/{name}")
    return target


def write_bundle(
    report: RunReport,
    directory: Path,
    extra_files: Mapping[str, Path] | None = None,
    make_zip: bool = False,
) -> Bundle:
    """Write the bundle into ``directory`` (created if needed); raises OSError."""
    extras = dict(extra_files or {})
    contents = render_bundle(report)
    for name in extras:
        if name in contents or name == MANIFEST or Path(name).name != name:
            raise ValueError(f"{name!r} cannot be an extra file of the bundle")
    directory.mkdir(parents=True, exist_ok=True)
    written: list[BundleFile] = []
    for name, data in contents.items():
        write_atomically(directory / name, data)
        written.append(_entry(name, data))
    for name, source in extras.items():
        written.append(_copy(source, directory / name))
    write_atomically(directory / MANIFEST, _manifest(report, written))
    names = [entry.name for entry in written] + [MANIFEST]
    return Bundle(directory, tuple(written), _zip(directory, names) if make_zip else None)
