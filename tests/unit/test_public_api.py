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
