"""The facade exports what it promises."""

from __future__ import annotations

import sipprobe
from sipprobe.errors import SipProbeError


def test_public_api_all_names_exist() -> None:
    for name in sipprobe.__all__:
        assert hasattr(sipprobe, name), name


def test_public_api_errors_share_one_root() -> None:
    errors = [getattr(sipprobe, n) for n in sipprobe.__all__ if n.endswith("Error")]
    assert len(errors) == 7
    assert all(issubclass(e, SipProbeError) for e in errors)


def test_public_api_cli_import_loads_neither_sip_stack_nor_numpy() -> None:
    # `sipprobe options`, usage errors and --help must not pay for pjsua2 or numpy.
    import subprocess
    import sys

    code = "import sys, sipprobe.cli; print(sorted({'pjsua2', 'numpy'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
