"""Listening quality through a real router: P.862 MOS-LQO of the echoed speech, beside MOS-LQ.

The probe calls the responder (echo mode) from a customer namespace through a router
namespace (lab/netns.py) and plays its reference speech; the responder sends it back. Clean,
the speech that comes back scores as G.711 speech does (above 3.8); with 5 % of the downstream
RTP dropped at random by the router it scores clearly lower, and the E-model's MOS-LQ of the
received stream falls with it. The echo round trip is measured on the lossy call too: the
windows the lost packets cut into are skipped, the others still match.
"""

from typing import Any

import pytest

from lab.netns import Netlab
from lab.probe import ProbeRun

pytestmark = pytest.mark.lab

CALL_S = 10.0
LOSS_PROBABILITY = 0.05
CLEAN_MOS_LQO = 3.8
CLEARLY_LOWER = 0.5  # MOS points: 5 % loss without concealment costs well over a point


def _listening(run: ProbeRun, earliest_ms: float = 0.0) -> tuple[dict[str, Any], float]:
    """The call's listening result and its rx MOS-LQ. ``earliest_ms``: the lowest alignment
    offset the call may show (negative when the echo's first packets may have been lost)."""
    (call,) = run.report["calls"]
    listening = call["listening"]
    assert listening is not None, call["echo"]
    (rx,) = [s for s in call["streams"] if s["direction"] == "rx"]
    assert listening["model"].startswith("ITU-T P.862 narrowband")
    assert listening["active_speech_s"] > 4.0
    assert earliest_ms <= listening["aligned_delay_ms"] < 1000.0
    return listening, rx["mos_lq"]


def test_listening_netns_clean_and_lossy_echo(netlab: Netlab) -> None:
    responder = netlab.start_responder()
    clean_run = netlab.call(responder.uri(), CALL_S)
    clean, clean_mos_lq = _listening(clean_run)
    assert clean["mos_lqo"] > CLEAN_MOS_LQO
    loss = netlab.drop_random("downstream", LOSS_PROBABILITY)
    lossy_run = netlab.call(responder.uri(), CALL_S)
    # Both decoded signals start at their first captured packet: when the echo's first
    # packets are among the lost ones, the received audio starts later in the speech and the
    # offset is negative by whole 20 ms packets (a 5 % loss loses the first 3 in 1 of 8000).
    lossy, lossy_mos_lq = _listening(lossy_run, earliest_ms=-60.0)
    assert loss.hits() > 0
    assert lossy["mos_lqo"] < clean["mos_lqo"] - CLEARLY_LOWER
    assert lossy_mos_lq < clean_mos_lq
    (clean_call,) = clean_run.report["calls"]
    (lossy_call,) = lossy_run.report["calls"]
    clean_echo, lossy_echo = clean_call["echo"], lossy_call["echo"]
    assert clean_echo is not None and lossy_echo is not None
    assert lossy_echo["correlation"] > 0.9
    # fewer packets matched (only whole windows count), about the same round trip
    assert 0 < lossy_echo["packets"] < clean_echo["packets"]
    assert abs(lossy_echo["rtt_ms"]["median"] - clean_echo["rtt_ms"]["median"]) < 40.0
    print(f"echo clean: {clean_echo['packets']} packets, rtt_ms {clean_echo['rtt_ms']}")
    print(f"echo lossy: {lossy_echo['packets']} packets, rtt_ms {lossy_echo['rtt_ms']}")
