"""Test-wide hooks: lab fixtures, peer logs on failure, and no silent skips in CI.

- The lab fixtures (`kamailio`, `kamailio_factory`, `sipp_uas`, `sipp_uac`, `baresip`,
  `background_probe`) come from the `lab` package in tests/lab/ and are available to every
  test.
- When a phase of a test fails, the logs of the peers its fixtures started are added to the
  report (sections "kamailio log (...)", "sipp busy messages.log", ...).
- Every test gets an XDG_DATA_HOME of its own, so the runs it makes (and the probes it
  starts) record into a fresh history rather than the user's.
- With CI set (CI=true), a skipped test is reported as failed: CI must run everything. A skip
  during collection (module-level pytest.skip, importorskip) fails the session instead.
  Expected failures (xfail) are left alone. `lab.environment.require_lab()` skips or fails
  by the same rule when the machine lacks root or a lab binary.
"""

from collections.abc import Generator

import pytest
from lab.environment import in_ci
from lab.logs import log_sections

pytest_plugins = (
    "lab.kamailio",
    "lab.rtpengine",
    "lab.sipp",
    "lab.responder",
    "lab.netns",
    "lab.exporter",
    "lab.baresip",
    "lab.background",
)


@pytest.fixture(autouse=True)
def _private_history(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs a test starts record into a history of that test's own, never the user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {_skip_reason(report)}"
    if report.failed:
        for title, text in log_sections(item):
            report.sections.append((f"{title} ({report.when})", text))
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not in_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    # Test skips became failures above; what is left was skipped while collecting.
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if not skipped:
        return
    reporter.write_line("error: CI skipped these while collecting, and CI must run every test:")
    for report in skipped:
        reporter.write_line(f"  {report.nodeid}: {_skip_reason(report)}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    return str(report.longrepr)
