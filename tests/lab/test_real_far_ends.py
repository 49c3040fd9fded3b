"""Clean calls to far ends we did not write end in a good verdict and exit 0.

The far ends are a stock SIPp UAS (SIPp's built-in `-sn uas` scenario with `-rtp_echo`, not
the project's XML) and baresip, a real soft phone (Debian package), auto-answering and sending
a tone. Nothing is wrong on either call, so nothing may be a warning or worse; what the probe
sees that differs from its own responder (SIPp's echo is not DSCP-marked; baresip announces
another address in SDP than it sends from) stays in the report as information.

What the information looks like is what docs/demarc.md ("How a side is chosen") promises, no
more:
- the far end's marking is unknown (no `X-Sipprobe-Rtp-Dscp` in its 200 OK, no `expect_dscp`
  given): an INFO finding `dscp-observed` with the value seen;
- the SDP address differing from the RTP source while audio flows both ways: INFO. The spec
  names no code for it, so the test looks for an info finding of the media area that names the
  announced address, whatever its code.
The rx stream's own fields (`dscp`, `sdp_remote`, `from_announced_address`) record the facts
already and must keep doing so.
"""

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.baresip import Baresip
from lab.environment import require_lab
from lab.logs import attach_log
from lab.probe import ProbeRun, run_probe
from lab.sipp import SippUas, start_sipp_builtin_uas

pytestmark = pytest.mark.lab

CALL_S = 4
MIN_PACKETS = 150  # 4 s of 20 ms packets is 200 each way; well above what a broken call shows
MAX_LOSS_PCT = 1.0  # below the default loss_degraded_pct


@pytest.fixture
def stock_sipp_uas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SippUas]:
    require_lab("sipp")
    directory = tmp_path / "sipp-stock-uas"
    for log in ("screen.log", "messages.log", "errors.log"):
        attach_log(request.node, f"sipp stock uas {log}", directory / log)
    uas, process = start_sipp_builtin_uas(directory)
    with contextlib.ExitStack() as stack:
        stack.callback(process.stop)
        yield uas


def _clean_call(request: pytest.FixtureRequest, tmp_path: Path, uri: str) -> ProbeRun:
    require_lab("tcpdump", root=True)  # the streams are measured from the probe's capture
    evidence = tmp_path / "evidence"
    attach_log(request.node, "sipprobe sip.log", evidence / "sip.log")
    return run_probe("call", uri, "--duration", str(CALL_S), "--out", str(evidence))


def _streams(run: ProbeRun) -> dict[str, dict[str, Any]]:
    calls = run.report["calls"]
    assert len(calls) == 1, calls
    return {stream["direction"]: stream for stream in calls[0]["streams"]}


def _assert_good(run: ProbeRun) -> dict[str, dict[str, Any]]:
    """Verdict good in both areas, exit 0, no warning or critical finding, media both ways."""
    verdict = run.report["verdict"]
    alarms = [
        (f["severity"], f["code"], f["side"], f["summary"])
        for f in run.findings()
        if f["severity"] in ("warning", "critical")
    ]
    assert alarms == [], verdict["summary"]
    assert (verdict["messaging"], verdict["media"]) == ("good", "good"), verdict["summary"]
    assert run.returncode == 0, verdict["summary"]
    assert run.report["exit_code"] == 0
    assert run.report["capture"]["error"] is None
    streams = _streams(run)
    assert set(streams) == {"rx", "tx"}
    for direction, stream in streams.items():
        assert stream["source"] == "capture", direction
        assert stream["packets"] >= MIN_PACKETS, (direction, stream["packets"])
        assert stream["loss_pct"] < MAX_LOSS_PCT, (direction, stream["loss_pct"])
    return streams


def _info(run: ProbeRun, code: str | None = None) -> list[dict[str, Any]]:
    return [f for f in run.findings(code) if f["severity"] == "info"]


def _assert_dscp_observed(run: ProbeRun, value: int) -> None:
    """Spec: marking unknown -> INFO `dscp-observed` with the value seen."""
    observed = _info(run, "dscp-observed")
    assert len(observed) == 1, run.findings()
    assert observed[0]["area"] == "media"
    assert re.search(rf"\b{value}\b", observed[0]["summary"]), observed[0]["summary"]
    assert not run.findings("dscp-removed") and not run.findings("dscp-changed")


def test_stock_sipp_uas_with_rtp_echo_clean_call_is_good(
    request: pytest.FixtureRequest, tmp_path: Path, stock_sipp_uas: SippUas
) -> None:
    run = _clean_call(request, tmp_path, stock_sipp_uas.uri("service"))
    streams = _assert_good(run)
    rx = streams["rx"]
    # SIPp echoes the probe's RTP from the address and port its SDP announced, unmarked.
    assert rx["src"] == f"{stock_sipp_uas.host}:{stock_sipp_uas.media_port}"
    assert rx["from_announced_address"] is True
    assert rx["dscp"] == [0]
    assert streams["tx"]["dscp"] == [46]  # the probe marks EF; SIPp's echo does not keep it
    _assert_dscp_observed(run, 0)


def test_baresip_auto_answer_clean_call_is_good(
    request: pytest.FixtureRequest, tmp_path: Path, baresip: Callable[..., Baresip]
) -> None:
    phone = baresip()
    run = _clean_call(request, tmp_path, phone.uri())
    streams = _assert_good(run)
    rx = streams["rx"]
    # baresip marks its RTP with rtp_tos 184 (DSCP 46), the value of its config template.
    assert rx["dscp"] == [46]
    _assert_dscp_observed(run, 46)
    # baresip announces its default-route interface address and sends from 127.0.0.1.
    source_host = rx["src"].rsplit(":", 1)[0]
    announced_host = rx["sdp_remote"].rsplit(":", 1)[0]
    assert source_host == phone.host
    if phone.announced_ipv4 is not None:  # from baresip's "Local network address" line
        assert announced_host == phone.announced_ipv4
    assert rx["from_announced_address"] is (announced_host == source_host)
    if announced_host == source_host:
        pytest.skip(
            "baresip announced the address it sends from (no interface but lo on this "
            "machine?), so the SDP/source difference of the issue did not occur"
        )
    # Spec: SDP address differing from the RTP source while audio flows both ways -> INFO.
    mismatch = [f for f in _info(run) if f["area"] == "media" and announced_host in f["summary"]]
    assert len(mismatch) == 1, run.findings()
