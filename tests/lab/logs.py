"""Peer logs that a failing test report should show.

Fixtures register each log file of a peer they start on the test item; the
`pytest_runtest_makereport` hook in tests/conftest.py appends their text to the report of a
failed phase, so the output of `pytest` shows what Kamailio or SIPp saw.
"""

from pathlib import Path

import pytest

from lab.process import read_tail

PEER_LOGS = pytest.StashKey[list[tuple[str, Path]]]()


def attach_log(node: pytest.Item, title: str, path: Path) -> None:
    """Show `path` under `title` in the report if the test fails."""
    node.stash.setdefault(PEER_LOGS, []).append((title, path))


def log_sections(node: pytest.Item) -> list[tuple[str, str]]:
    """(title, text) for each log registered on `node`."""
    return [(title, read_tail(path)) for title, path in node.stash.get(PEER_LOGS, [])]
