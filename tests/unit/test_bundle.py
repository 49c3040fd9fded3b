"""The evidence bundle: every file with its sha256 in the manifest, a zip, nothing half-written."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest
from report_samples import clean_report

from sipprobe.atomic import write_atomically
from sipprobe.report.bundle import default_directory, write_bundle
from sipprobe.report.formats import OutputFormat

BUNDLE = ["report.json", "report.html", "report.md", "report.txt", "sip.log"]


def test_bundle_manifest_has_size_and_sha256_of_every_file(tmp_path: Path) -> None:
    directory = tmp_path / "run"
    bundle = write_bundle(clean_report(), directory)
    assert sorted(p.name for p in directory.iterdir()) == sorted([*BUNDLE, "manifest.json"])
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["algorithm"] == "sha256"
    assert manifest["created_by"] == "sipprobe 0.1.0"
    assert [entry["name"] for entry in manifest["files"]] == BUNDLE
    for entry in manifest["files"]:
        data = (directory / entry["name"]).read_bytes()
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert [f.name for f in bundle.files] == BUNDLE
    assert bundle.zip_path is None
    report_json = json.loads((directory / "report.json").read_text())
    assert report_json["scenario"] == "trunk-check"
    assert (directory / "report.html").stat().st_mode & 0o777 == 0o644


def test_bundle_zip_holds_the_same_files_under_one_folder(tmp_path: Path) -> None:
    directory = tmp_path / "run"
    bundle = write_bundle(clean_report(), directory, make_zip=True)
    assert bundle.zip_path == tmp_path / "run.zip"
    with zipfile.ZipFile(bundle.zip_path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == [f"run/{name}" for name in [*BUNDLE, "manifest.json"]]
        for name in names:
            assert archive.read(name) == (tmp_path / name).read_bytes()


def test_bundle_takes_extra_files_into_the_manifest(tmp_path: Path) -> None:
    capture = tmp_path / "made-elsewhere.pcap"
    capture.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(range(256)) * 100)
    directory = tmp_path / "run"
    write_bundle(clean_report(), directory, extra_files={"capture.pcap": capture}, make_zip=True)
    manifest = json.loads((directory / "manifest.json").read_text())
    entry = manifest["files"][-1]
    assert entry["name"] == "capture.pcap"
    assert entry["sha256"] == hashlib.sha256(capture.read_bytes()).hexdigest()
    assert (directory / "capture.pcap").read_bytes() == capture.read_bytes()
    with zipfile.ZipFile(tmp_path / "run.zip") as archive:
        assert "run/capture.pcap" in archive.namelist()


@pytest.mark.parametrize("name", ["report.json", "manifest.json", "../x", "sub/x.pcap"])
def test_bundle_refuses_extra_files_that_would_clash_or_escape(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="cannot be an extra file"):
        write_bundle(clean_report(), tmp_path / "run", extra_files={name: tmp_path / "x"})
    assert not (tmp_path / "run").exists()


def test_bundle_render_failure_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: OutputFormat, report: object) -> str:
        if self is OutputFormat.MARKDOWN:
            raise RuntimeError("renderer broke")
        return "x\n"

    monkeypatch.setattr(OutputFormat, "render", broken)
    with pytest.raises(RuntimeError):
        write_bundle(clean_report(), tmp_path / "run", make_zip=True)
    assert list(tmp_path.iterdir()) == []


def test_bundle_write_failure_leaves_no_partial_or_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replace = os.replace

    def disk_full(source: str, target: str) -> None:
        if str(target).endswith("report.md"):
            raise OSError(28, "No space left on device")
        replace(source, target)

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_bundle(clean_report(), tmp_path / "run")
    left = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert left == ["report.html", "report.json"]  # whole files only; no manifest: incomplete


def test_write_atomically_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "sipprobe.prom"
    write_atomically(target, b"old\n")
    with pytest.raises(TypeError):
        write_atomically(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["sipprobe.prom"]


def test_default_directory_is_utc_time_and_scenario_and_never_reused(tmp_path: Path) -> None:
    report = clean_report()
    first = default_directory(report, tmp_path)
    assert first == tmp_path / "20250304T050607Z-trunk-check"
    first.mkdir()
    assert default_directory(report, tmp_path) == tmp_path / "20250304T050607Z-trunk-check-2"
