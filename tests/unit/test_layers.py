"""Imports go one way: the layers contract in pyproject.toml, run with import-linter.

The contract (``[tool.importlinter]``, explained in docs/architecture.md, "Layers") puts cli
on top and model, errors and atomic at the bottom; a package may import only the ones below
it, and siblings in one layer (signalling, capture, analysis, scenario) not each other. Imports
under ``if TYPE_CHECKING:`` count too: a type a module names is a dependency of its design.

The contract is checked in a child process with the package directory as its first import
path, so that the mutated copy in ``tmp_path`` is the one analysed, not the installed one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_LINT = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
_BROKEN_LAYER = re.compile(r"^(sipprobe\.\S+) is not allowed to import (sipprobe\.\S+):$", re.M)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Check the contract of ``root``/pyproject.toml against the package under ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", _LINT, "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _violations(result: subprocess.CompletedProcess[str]) -> set[tuple[str, str]]:
    assert "Could not" not in result.stdout + result.stderr, result.stdout + result.stderr
    return set(_BROKEN_LAYER.findall(result.stdout))


def test_layers_contract_kept() -> None:
    result = _lint_imports(REPO)
    assert _violations(result) == set(), result.stdout
    assert result.returncode == 0, result.stdout + result.stderr


def _copy_of_package(tmp_path: Path) -> Path:
    shutil.copytree(
        REPO / "sipprobe", tmp_path / "sipprobe", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "added", "broken"),
    [
        ("model/thresholds.py", "import sipprobe.cli\n", ("sipprobe.model", "sipprobe.cli")),
        (
            "model/outcome.py",
            "import typing\nif typing.TYPE_CHECKING:\n    import sipprobe.report.text\n",
            ("sipprobe.model", "sipprobe.report"),
        ),
        ("analysis/jitter.py", "import sipprobe.capture.live\n", None),
    ],
    ids=["model-imports-cli", "type-checking-import-counts", "siblings-independent"],
)
def test_layers_contract_catches_an_upward_import(
    tmp_path: Path, module: str, added: str, broken: tuple[str, str] | None
) -> None:
    root = _copy_of_package(tmp_path)
    path = root / "sipprobe" / module
    path.write_text(path.read_text() + added)
    result = _lint_imports(root)
    assert result.returncode != 0, result.stdout
    importer = "sipprobe." + module.removesuffix(".py").replace("/", ".")
    assert f"- {importer} -> " in result.stdout, result.stdout
    if broken is not None:
        assert broken in _violations(result), result.stdout
    else:  # siblings of one layer: reported as independence, not as a broken layer order
        assert "sipprobe.analysis is not allowed to import sipprobe.capture" in result.stdout


def test_layers_contract_is_exhaustive(tmp_path: Path) -> None:
    """A new package must be placed in a layer before it can be imported from anywhere."""
    root = _copy_of_package(tmp_path)
    (root / "sipprobe" / "newpart").mkdir()
    (root / "sipprobe" / "newpart" / "__init__.py").write_text("")
    result = _lint_imports(root)
    assert result.returncode != 0, result.stdout
    assert "sipprobe.newpart" in result.stdout
