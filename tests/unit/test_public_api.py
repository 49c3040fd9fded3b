"""The facade exports what it promises, and the command line loads only what a command uses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from data.rtpcapture import stream, write

import sipprobe
from sipprobe.errors import SipProbeError
from sipprobe.model import results as models

# What probing, history and bundles need, and `analyze` never does.
NOT_FOR_ANALYZE = (
    "concurrent.futures",
    "hashlib",
    "matplotlib",
    "pjsua2",
    "scapy",
    "sipprobe.history.store",
    "sipprobe.report.bundle",
    "sipprobe.run.runner",
    "socket",
    "sqlite3",
    "ssl",
    "yaml",
    "zipfile",
)


def _loaded_by(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after running ``code``."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps(sorted(set({modules!r}) & set(sys.modules))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_public_api_all_names_exist() -> None:
    for name in sipprobe.__all__:
        assert hasattr(sipprobe, name), name


def test_public_api_errors_share_one_root() -> None:
    errors = [getattr(sipprobe, n) for n in sipprobe.__all__ if n.endswith("Error")]
    assert len(errors) == 7
    assert all(issubclass(e, SipProbeError) for e in errors)


def test_public_api_cli_import_loads_neither_sip_stack_nor_numpy() -> None:
    # `sipprobe options`, usage errors and --help must not pay for pjsua2 or numpy.
    assert _loaded_by("import sipprobe.cli", ("numpy", "pjsua2")) == []


def test_public_api_cli_parser_loads_nothing_a_command_needs() -> None:
    # --help, --version and usage errors build the whole parser and nothing else.
    code = "from sipprobe.cli import build_parser\nbuild_parser()"
    assert _loaded_by(code, ("numpy", "sipprobe.model.results", *NOT_FOR_ANALYZE)) == []


def test_public_api_analyze_loads_no_probe_machinery(tmp_path: Path) -> None:
    # `sipprobe analyze` races tshark: importing what only probing commands use costs time.
    capture = write(tmp_path / "clean.pcap", stream(50))
    code = (
        "import contextlib, io\n"
        "from sipprobe.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    exit_code = main(['analyze', {str(capture)!r}])\n"
        "assert exit_code == 0, exit_code"
    )
    assert _loaded_by(code, NOT_FOR_ANALYZE) == []


def test_public_api_models_export_their_records_and_the_outcome_enums() -> None:
    defined = {
        name
        for name, value in vars(models).items()
        if isinstance(value, type)
        and value.__module__ in ("sipprobe.model.results", "sipprobe.model.outcome")
    }
    assert defined <= set(models.__all__)
    assert all(hasattr(models, name) for name in models.__all__)
