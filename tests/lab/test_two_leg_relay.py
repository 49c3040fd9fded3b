"""Two-leg calls through a platform that relays media: Kamailio with rtpengine.

Kamailio (tests/lab/kamailio/lab.cfg with LAB_RTPENGINE) hands each INVITE's SDP offer and its
answer to rtpengine (tests/lab/rtpengine.py: userspace, media on a loopback address of its
own), so each leg's SDP names the relay and RTP goes a -> relay -> b and b -> relay -> a: the
four directions of a two-leg call are four distinct streams in the capture (docs/demarc.md,
"How a side is chosen"). rtpengine's own packet counts are the truth the probe's are checked with.
"""

import json
import re
from collections.abc import Callable
from pathlib import Path

from lab.environment import require_lab
from lab.kamailio import Kamailio
from lab.netns import PLATFORM_ADDRESS, Netlab, teardown
from lab.probe import run_probe, write_scenario
from lab.process import PeerProcess
from lab.relaylab import RELAY_B_ADDRESS, counters, drop_towards_b, run_two_leg_call, start_platform
from lab.rtpengine import RtpEngine, relayed_packets
from lab.test_two_leg_calls import two_leg_scenario


def _stream(leg: dict, direction: str) -> dict:  # type: ignore[type-arg]
    (stream,) = [s for s in leg["streams"] if s["direction"] == direction]
    return stream


def _sdp_connection(report: dict, first_line: str, direction: str) -> set[str]:  # type: ignore[type-arg]
    """The c= addresses of the SDP in the timeline's messages that start with `first_line`."""
    return {
        address
        for event in report["sip"]
        if event["direction"] == direction and event["first_line"].startswith(first_line)
        for address in re.findall(r"^c=IN IP4 (\S+)", event["text"], re.MULTILINE)
    }


def test_two_leg_call_through_rtpengine_measures_four_relayed_directions(
    kamailio_factory: Callable[..., Kamailio], rtpengine: RtpEngine, tmp_path: Path
) -> None:
    kamailio = kamailio_factory(user_b="bob", rtpengine=rtpengine.ng_socket)
    assert kamailio.password_b is not None
    run = run_probe(
        "run",
        write_scenario(tmp_path, two_leg_scenario(kamailio)),
        env={"PASSWORD_A": kamailio.password, "PASSWORD_B": kamailio.password_b},
    )
    (tmp_path / "report.json").write_text(json.dumps(run.report))  # kept with the test's files
    assert run.returncode == 0, (run.report["verdict"], run.stderr)
    assert run.report["verdict"]["messaging"] == run.report["verdict"]["media"] == "good"
    (call,) = run.report["calls"]
    callee = call["callee"]
    assert call["status_code"] == 200 and callee["status_code"] == 200
    a_tx, a_rx = _stream(call, "tx"), _stream(call, "rx")
    b_tx, b_rx = _stream(callee, "tx"), _stream(callee, "rx")

    # Each leg was told the relay's address, not the other leg's: in the SDP a received (the
    # 200 OK) and b received (the INVITE), and so in what each leg sent to.
    assert _sdp_connection(run.report, "SIP/2.0 200", "rx") == {rtpengine.host}
    assert _sdp_connection(run.report, "INVITE ", "rx") == {rtpengine.host}
    assert _sdp_connection(run.report, "INVITE ", "tx") == {"127.0.0.1"}  # a's own offer
    towards_a, towards_b = a_tx["dst"], b_tx["dst"]
    assert towards_a.startswith(rtpengine.host + ":") and towards_b.startswith(rtpengine.host)
    assert towards_a != towards_b
    assert a_tx["sdp_remote"] == a_rx["sdp_remote"] == towards_a
    assert b_tx["sdp_remote"] == b_rx["sdp_remote"] == towards_b
    # Four distinct streams, each leg receiving from where its SDP said the media would be.
    assert (a_tx["src"], a_rx["src"], b_rx["src"], b_tx["src"]) == (
        a_rx["dst"],
        towards_a,
        towards_b,
        b_rx["dst"],
    )
    assert len({(s["src"], s["dst"], s["ssrc"]) for s in (a_tx, a_rx, b_tx, b_rx)}) == 4
    assert a_rx["from_announced_address"] is True and b_rx["from_announced_address"] is True
    for stream in (a_tx, a_rx, b_tx, b_rx):
        assert stream["packets"] >= 100 and stream["loss_pct"] == 0.0, stream  # 3 s, 50/s
    # The relay's own counts: what it received from each leg is what each leg sent.
    counted = relayed_packets(rtpengine.log_path)
    assert counted[(towards_a, a_tx["src"])] == a_tx["packets"]
    # b still sends while the caller's BYE travels through the proxy, which has the relay drop
    # the call first: its last packet or two can arrive after the relay counted (once in a
    # CI run, 150 of 151).
    assert b_tx["packets"] - 2 <= counted[(towards_b, b_tx["src"])] <= b_tx["packets"]

    # The relay's address change is no finding: the path is stated, nothing else said.
    assert {f["severity"] for f in run.findings()} <= {"info"}, run.findings()
    assert not run.findings("rtp-source-mismatch")
    (path,) = run.findings("media-relayed")
    assert path["summary"] == (
        f"callee leg b: media relayed by the platform (media address {towards_a} towards the "
        f"caller, {towards_b} towards b)"
    )
    assert not run.findings("media-direct")


def test_relay_losing_towards_b_is_the_platforms_from_the_customers_lan(
    netlab: Netlab, tmp_path: Path
) -> None:
    """rtpengine in the platform namespace drops every 20th RTP packet it sends towards leg b
    (5 %, counted by the kernel); the caller's direction and the way back are untouched. The
    probe, on the customer's LAN, measures platform -> b lost and the rest whole, and puts
    the loss on the platform's relay from that evidence alone (docs/demarc.md)."""
    require_lab("rtpengine")
    processes: list[PeerProcess] = []
    try:
        platform = start_platform(netlab, processes)
        drop_towards_b(netlab, every=20)
        run = run_two_leg_call(netlab, processes, duration_s=5.0)
    finally:
        teardown(processes, ())
    (tmp_path / "report.json").write_text(json.dumps(run.report))
    kernel = counters(netlab)
    seen, dropped = kernel["relay-b-seen"], kernel["relay-b-dropped"]
    assert seen >= 190 and dropped == (seen - 10 + 19) // 20  # packets 10, 30, 50, ...
    # A drop of the very last packet leaves no later one to show the gap in the sequence.
    invisible = 1 if (seen - 1 - 10) % 20 == 0 else 0
    (call,) = run.report["calls"]
    callee = call["callee"]
    a_tx, a_rx = _stream(call, "tx"), _stream(call, "rx")
    b_tx, b_rx = _stream(callee, "tx"), _stream(callee, "rx")
    assert a_tx["dst"].startswith(f"{PLATFORM_ADDRESS}:")
    assert b_rx["src"].startswith(f"{RELAY_B_ADDRESS}:")
    # What the kernel dropped is what the probe found missing towards b, and only there.
    assert (b_rx["lost"], b_rx["packets"]) == (dropped - invisible, seen - dropped)
    assert a_rx["lost"] == 0 and b_tx["lost"] == 0 and a_tx["lost"] == 0
    assert relayed_packets(platform.rtpengine_log)[(a_tx["dst"], a_tx["src"])] == a_tx["packets"]

    lost = dropped - invisible
    loss = 100.0 * lost / b_rx["expected"]
    (relay,) = run.findings("relay-loss")
    assert relay["side"] == "platform" and relay["responsible"] == "cleartrunk"
    assert relay["severity"] == ("critical" if loss >= 3.0 else "warning")
    assert relay["summary"] == (
        f"platform -> b lost {loss:.2f}% ({lost} of {b_rx['expected']} packets) while "
        f"caller -> platform was sent whole ({a_tx['packets']} packets) and platform -> "
        f"caller, over the same access at the same time, lost none of {a_rx['packets']}: the "
        f"platform's media relay (media address {b_rx['src']}) lost them, not the access"
    )
    assert run.report["verdict"]["media"] == "bad" and run.returncode == 2
    assert not run.findings("rtp-source-mismatch")
    # The loss of that stream, and the MOS it cost, are kept as the relay-loss's consequence.
    (measured,) = run.findings("rx-loss")
    assert measured["summary"].startswith(f"callee leg b: {loss:.2f}% of RTP from {b_rx['src']}")
    assert measured["summary"].endswith("(the platform's relay lost them: relay-loss)")
    assert {f["severity"] for f in run.findings() if f["code"] != "relay-loss"} == {"info"}
    assert "ClearTrunk's side: not good (platform -> b lost" in run.report["verdict"]["headline"]
    # What b heard of a's speech scores lower than what a heard of b's: the relay's loss.
    assert call["listening"]["mos_lqo"] > 3.8, call["listening"]
    assert callee["listening"]["mos_lqo"] < call["listening"]["mos_lqo"] - 0.5, callee["listening"]
