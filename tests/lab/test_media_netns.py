"""Media through a real router: what the probe reports when the path loses or re-marks RTP.

The probe calls the responder from a customer namespace through a router namespace (see
lab/netns.py); the router's iptables rules impair one direction of RTP and count every RTP
packet they see and act on. Those kernel counters are the truth: where it is exact (packets
delivered, packets re-marked) the report must match it exactly; where the drops are random,
the loss must fall within 4 standard deviations of the binomial mean.

A dropped packet before the first or after the last one that arrives leaves no gap in the
sequence numbers, so no receiver can count it as lost: measured loss may fall short of the
router's drops by those edge drops (3 or more at one edge: probability 2 * 0.05**3).
"""

import math
from typing import Any

import pytest

from lab.netns import PLATFORM_ADDRESS, Netlab
from lab.probe import ProbeRun

pytestmark = pytest.mark.lab

CALL_S = 10.0  # 500 packets each way at 50 pps; pjmedia sends RTCP about every 5 s
PACKETS_PER_S = 50
LOSS_PROBABILITY = 0.05
SIGMAS = 4.0
EDGE_DROPS = 2
EXPECTED_DSCP = 46  # EF: the responder and the probe mark their RTP with it


def only_call(run: ProbeRun) -> dict[str, Any]:
    calls: list[dict[str, Any]] = run.report["calls"]
    (call,) = calls
    assert call["status_code"] == 200, call
    return call


def stream(call: dict[str, Any], direction: str) -> dict[str, Any]:
    streams: list[dict[str, Any]] = call["streams"]
    (found,) = [s for s in streams if s["direction"] == direction]
    assert found["source"] == "capture"
    return found


def codes(run: ProbeRun) -> set[str]:
    return {finding["code"] for finding in run.findings()}


def binomial_bounds(trials: int, probability: float) -> tuple[float, float]:
    """Mean -/+ SIGMAS standard deviations of the number of hits in `trials` draws."""
    mean = trials * probability
    spread = SIGMAS * math.sqrt(trials * probability * (1 - probability))
    return mean - spread, mean + spread


def assert_call_length(packets: int) -> None:
    """A whole call's worth of RTP: the count the exact checks rest on is not a stub."""
    expected = PACKETS_PER_S * CALL_S
    assert 0.9 * expected <= packets <= 1.1 * expected, packets


def test_media_netns_clean_path_is_good_both_ways(netlab: Netlab) -> None:
    responder = netlab.start_responder()
    down = netlab.count_rtp("downstream")
    up = netlab.count_rtp("upstream")
    run = netlab.call(responder.uri(), CALL_S)
    call = only_call(run)
    rx, tx = stream(call, "rx"), stream(call, "tx")
    assert_call_length(down.seen())
    assert (rx["packets"], rx["expected"], rx["lost"], rx["loss_pct"]) == (
        down.seen(),
        down.seen(),
        0,
        0.0,
    )
    assert tx["packets"] == up.seen()
    assert rx["dscp"] == tx["dscp"] == [EXPECTED_DSCP]
    assert rx["src"].startswith(f"{PLATFORM_ADDRESS}:")
    assert rx["from_announced_address"] is True
    assert tx["far_end"]["reports"] >= 1
    assert tx["far_end"]["cumulative_lost"] == 0
    assert call["rtcp"]["tx_lost_reported"] == 0
    assert run.report["verdict"]["findings"] == []
    assert run.report["verdict"]["media"] == "good"
    assert run.returncode == 0


def test_media_netns_downstream_loss_is_seen_on_rx_only(netlab: Netlab) -> None:
    responder = netlab.start_responder()
    loss = netlab.drop_random("downstream", LOSS_PROBABILITY)
    up = netlab.count_rtp("upstream")
    run = netlab.call(responder.uri(), CALL_S)
    call = only_call(run)
    rx, tx = stream(call, "rx"), stream(call, "tx")
    dropped = loss.hits()
    assert_call_length(loss.seen())
    assert rx["packets"] == loss.seen() - dropped  # every packet the router let through
    assert rx["expected"] == rx["packets"] + rx["lost"]
    assert dropped - EDGE_DROPS <= rx["lost"] <= dropped
    low, high = binomial_bounds(rx["expected"], LOSS_PROBABILITY)
    assert low <= rx["lost"] <= high, (rx["lost"], rx["expected"])
    assert rx["loss_pct"] == pytest.approx(100 * rx["lost"] / rx["expected"])
    (finding,) = run.findings("rx-loss")
    assert finding["severity"] == ("critical" if rx["loss_pct"] >= 3.0 else "warning")
    assert f"({rx['lost']} of {rx['expected']} packets" in finding["summary"]
    # The other direction is clean, by the capture and by the platform's own account.
    assert tx["packets"] == up.seen()
    assert tx["far_end"]["reports"] >= 1
    assert tx["far_end"]["cumulative_lost"] == 0
    assert call["rtcp"]["tx_lost_reported"] == 0
    assert "tx-loss" not in codes(run)
    assert run.report["verdict"]["media"] == "bad"
    assert run.returncode == 2


def test_media_netns_upstream_loss_is_reported_by_the_far_end(netlab: Netlab) -> None:
    responder = netlab.start_responder()
    down = netlab.count_rtp("downstream")
    loss = netlab.drop_random("upstream", LOSS_PROBABILITY)
    run = netlab.call(responder.uri(), CALL_S)
    call = only_call(run)
    rx, tx = stream(call, "rx"), stream(call, "tx")
    dropped = loss.hits()
    # The probe's own direction in: nothing lost.
    assert (rx["packets"], rx["lost"], rx["loss_pct"]) == (down.seen(), 0, 0.0)
    assert not codes(run) & {"rx-loss", "one-way-audio"}
    # The probe's direction out: the capture holds all it sent, the platform's RTCP the loss.
    assert_call_length(loss.seen())
    assert tx["packets"] == loss.seen()
    far_end = tx["far_end"]
    assert far_end["reports"] >= 1
    assert dropped - EDGE_DROPS <= far_end["cumulative_lost"] <= dropped
    low, high = binomial_bounds(tx["packets"], LOSS_PROBABILITY)
    assert low <= far_end["cumulative_lost"] <= high, (far_end, tx["packets"])
    assert 0 < call["rtcp"]["tx_lost_reported"] <= far_end["cumulative_lost"]
    # pjmedia's last report (sent with its RTCP BYE) covers no packets: fraction 0. The
    # verdict must judge the cumulative count over the call, not that last fraction.
    (finding,) = run.findings("tx-loss")
    # Loss only upstream is no evidence of the customer's uplink (the platform's receive side
    # loses packets just the same): unknown, and the headline says to probe from outside.
    assert (finding["side"], finding["responsible"]) == ("unknown", "undetermined")
    assert f"({far_end['cumulative_lost']} of {tx['expected']} packets" in finding["summary"]
    assert "sipprobe localize" in run.report["verdict"]["headline"]


def test_media_netns_dscp_cleared_downstream_is_marking_changed(netlab: Netlab) -> None:
    responder = netlab.start_responder()
    bleach = netlab.clear_dscp("downstream")
    run = netlab.call(responder.uri(), CALL_S)
    call = only_call(run)
    rx, tx = stream(call, "rx"), stream(call, "tx")
    assert_call_length(bleach.seen())
    assert rx["packets"] == bleach.hits() == bleach.seen()  # every one re-marked, all arrived
    assert rx["lost"] == 0
    assert rx["dscp"] == [0]
    assert tx["dscp"] == [EXPECTED_DSCP]  # as the probe sent it; the router left it alone
    # Judged against the marking the responder declares in its 200 OK; one run cannot say
    # where on the path it was re-marked.
    assert call["far_end_dscp"] == EXPECTED_DSCP
    (finding,) = run.findings("dscp-changed")
    assert (finding["side"], finding["severity"]) == ("unknown", "warning")
    assert f"not {EXPECTED_DSCP} as the far end's X-Sipprobe-Rtp-Dscp says" in finding["summary"]
    assert run.report["verdict"]["media"] == "degraded"
    assert run.returncode == 1


def test_media_netns_downstream_rtp_dropped_is_one_way_audio(netlab: Netlab) -> None:
    responder = netlab.start_responder()
    blackhole = netlab.drop_rtp("downstream")
    up = netlab.count_rtp("upstream")
    run = netlab.call(responder.uri(), CALL_S)
    call = only_call(run)
    assert_call_length(blackhole.seen())
    assert blackhole.hits() == blackhole.seen()  # the platform sent, the router dropped all
    assert [s["direction"] for s in call["streams"]] == ["tx"]
    tx = stream(call, "tx")
    assert tx["packets"] == up.seen()
    # The platform's RTCP (not dropped) says it received the probe's audio: one way works.
    assert tx["far_end"]["reports"] >= 1
    assert tx["far_end"]["cumulative_lost"] == 0
    assert call["rtcp"]["rx_packets"] == 0
    (finding,) = run.findings("one-way-audio")
    assert finding["severity"] == "critical"
    assert f"the probe sent {tx['packets']} RTP packets to {tx['dst']}" in finding["summary"]
    assert run.report["verdict"]["media"] == "bad"
    assert run.returncode == 2
