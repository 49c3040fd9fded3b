"""Live rx metrics against streams whose truth is known: SIPp replays crafted RTP to the probe."""

import itertools
from collections.abc import Callable
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import PcapWriter

from lab.environment import require_lab
from lab.probe import run_probe
from lab.sipp import SippUas

PACKETS = 150
LOST = (1020, 1021, 1022, 1050)  # a burst of three and a single loss
SWAPPED = (1080, 1081)  # sent in the wrong order
STEP_FROM, STEP_MS = 1100, 40.0  # from here on every packet arrives 40 ms later


def craft(path: Path) -> list[tuple[float, int]]:
    """A 3-second PCMU stream with known loss, reordering and a delay step; returns the
    (send time, sequence number) plan in the order SIPp plays it."""
    plan = []
    for index in range(PACKETS):
        seq = 1000 + index
        if seq in LOST:
            continue
        at = 1_700_000_000.0 + 0.02 * index + (STEP_MS / 1000 if seq >= STEP_FROM else 0.0)
        plan.append((at, seq))
    first, second = (plan.index(next(p for p in plan if p[1] == s)) for s in SWAPPED)
    plan[first], plan[second] = (plan[first][0], plan[second][1]), (plan[second][0], plan[first][1])
    writer = PcapWriter(str(path), sync=True)
    for at, seq in plan:
        marker = 0x80 if seq == 1000 else 0x00
        header = bytes([0x80, marker]) + seq.to_bytes(2, "big")
        header += (160 * (seq - 1000)).to_bytes(4, "big") + (0x5EED).to_bytes(4, "big")
        packet = (
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / IP(src="127.0.0.1", dst="127.0.0.1")
            / UDP(sport=6000, dport=6002)
            / (header + b"\xff" * 160)
        )
        packet.time = at
        writer.write(packet)
    writer.close()
    return plan


def reference_max_jitter_ms(plan: list[tuple[float, int]]) -> float:
    """RFC 3550 6.4.1 in arrival order, written out per packet, on the crafted timing."""
    jitter = peak = 0.0
    for (r0, s0), (r1, s1) in itertools.pairwise(plan):
        d = (r1 - r0) * 8000 - 160 * (s1 - s0)
        jitter += (abs(d) - jitter) / 16
        peak = max(peak, jitter)
    return peak / 8


def test_probe_rx_metrics_equal_the_crafted_truth(
    sipp_uas: Callable[..., SippUas], tmp_path: Path
) -> None:
    require_lab("sipp", "tcpdump", root=True)
    pcap = tmp_path / "replay.pcap"
    plan = craft(pcap)
    uas = sipp_uas("replay", replay_pcap=pcap)
    run = run_probe("call", uas.uri(), "--duration", "4.5", "--no-history", "--expect-dscp", "none")
    rx = next(s for s in run.report["calls"][0]["streams"] if s["direction"] == "rx")
    assert rx["ssrc"] == 0x5EED
    assert rx["expected"] == PACKETS
    assert rx["packets"] == PACKETS - len(LOST)
    assert rx["lost"] == len(LOST)
    assert rx["reordered"] == 1
    assert rx["duplicates"] == 0
    assert rx["loss_pct"] == 100 * len(LOST) / PACKETS
    # The swap and the 40 ms step drive J up as the crafted timing says; SIPp's replay on
    # loopback adds well under a millisecond.
    expected_peak = reference_max_jitter_ms(plan)
    assert expected_peak > 4.0
    assert abs(rx["jitter_ms"]["max"] - expected_peak) < 0.5
    assert 79.0 < rx["max_delta_ms"] < 85.0  # the three-packet burst leaves an 80 ms gap
    codes = {f["code"] for f in run.report["verdict"]["findings"]}
    assert "rx-loss" in codes  # 2.67 % lost: degraded
