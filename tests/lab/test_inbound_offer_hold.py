"""Inbound calls placed as PBXs and carriers place them: delayed offer, and a caller that holds.

A delayed-offer caller (tests/lab/sipp/uac-delayed-offer.xml) sends its INVITE without SDP:
the probe's 200 OK carries the offer and the caller's ACK the answer. A holding caller
(tests/lab/sipp/uac-hold.xml) sends a re-INVITE offering ``sendonly`` or ``inactive``, stops
its RTP for a while, then resumes with a re-INVITE offering ``sendrecv``. Both callers are
SIPp playing Debian's G.711 A-law recording; the probe answers on its own address
(docs/measurement.md, "Inbound calls").
"""

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw
from scapy.utils import rdpcap, wrpcap

from lab.background import BackgroundProbe
from lab.ports import LOOPBACK_V4, free_port
from lab.sipp import SippRun

RECORDING = Path("/usr/share/sip-tester/g711a.pcap")


def _answer(start: Callable[..., BackgroundProbe], duration_s: int) -> tuple[BackgroundProbe, int]:
    port = free_port((LOOPBACK_V4,))
    probe = start(
        "answer", f"sip:{LOOPBACK_V4}", "--listen", f"{LOOPBACK_V4}:{port}",
        "--timeout", "10", "--duration", str(duration_s),
    )  # fmt: skip
    probe.wait_until_waiting()
    return probe, port


def _streams(call: dict[str, Any], direction: str) -> list[dict[str, Any]]:
    return [s for s in call["streams"] if s["direction"] == direction]


def _recording_pieces(directory: Path, seconds: float, resumed_after_s: float) -> tuple[Path, Path]:
    """The first ``seconds`` of the recording (so that the caller's RTP ends when it holds),
    and the same again as the caller sends it after the resume: its RTP sequence numbers go
    on from the first piece's and its timestamps have moved on by ``resumed_after_s`` of
    8 kHz samples (RFC 3550: one stream, its clock running through the hold)."""
    packets = [p for p in rdpcap(str(RECORDING)) if UDP in p]
    first = float(packets[0].time)
    talk = [p for p in packets if float(p.time) - first < seconds]
    resumed = []
    for packet in talk:
        rtp = bytearray(bytes(packet[UDP].payload))
        seq, stamp = struct.unpack_from("!HI", rtp, 2)
        struct.pack_into(
            "!HI", rtp, 2, (seq + len(talk)) % 65536, (stamp + int(resumed_after_s * 8000)) % 2**32
        )
        copy = packet.copy()
        copy[UDP].remove_payload()
        copy[UDP].add_payload(Raw(bytes(rtp)))
        del copy[UDP].len, copy[UDP].chksum, copy[IP].len, copy[IP].chksum
        resumed.append(copy)
    pieces = directory / "talk.pcap", directory / "resumed.pcap"
    wrpcap(str(pieces[0]), talk)
    wrpcap(str(pieces[1]), resumed)
    return pieces


def test_delayed_offer_call_is_answered_and_measured_both_ways(
    background_probe: Callable[..., BackgroundProbe],
    sipp_uac: Callable[..., SippRun],
    tmp_path: Path,
) -> None:
    probe, port = _answer(background_probe, duration_s=8)
    sipp = sipp_uac(
        (LOOPBACK_V4, port), service="5551234", scenario="uac-delayed-offer",
        call_length_ms=3000, timeout_s=15.0,
    )  # fmt: skip
    code, report, stderr, wall = probe.finish(timeout_s=20)
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert sipp.returncode == 0, sipp.screen_log.read_text()[-2000:]
    assert code == 0, (report["verdict"], stderr)
    (step,) = report["steps"]
    caller = step["detail"]["caller"]
    assert (step["ok"], step["status_code"]) == (True, 200)
    assert caller["user_agent"] == "sipp-lab-uac-delayed-offer"
    assert (caller["delayed_offer"], caller["offered_codecs"]) == (True, [])
    assert caller["ack_after_ms"] is not None and caller["held_by_caller"] == []
    (call,) = report["calls"]
    assert call["codec"] == "PCMA/8000"  # the ACK's answer, not the first of the 200's offer
    (rx,) = _streams(call, "rx")  # the caller's recording, 30 ms packets
    (tx,) = _streams(call, "tx")
    # the caller's end comes from its ACK: the source of its RTP is checked against it
    assert rx["sdp_remote"] == rx["src"] and rx["from_announced_address"] is True
    assert tx["dst"] == rx["src"] and rx["dst"] == tx["src"]
    assert rx["codec"] == tx["codec"] == "PCMA"
    assert rx["packets"] >= 90 and rx["loss_pct"] == 0.0 and rx["mos_lq"] > 4.0
    assert tx["packets"] >= 140 and tx["loss_pct"] == 0.0
    codes = {f["code"]: f["severity"] for f in report["verdict"]["findings"]}
    assert codes["inbound-caller-hung-up"] == "info"
    assert set(codes.values()) == {"info"}, codes
    assert wall < 15


@pytest.mark.parametrize(
    ("mode", "address", "offered", "answered"),
    [
        ("sendonly", LOOPBACK_V4, "sendonly", "recvonly"),
        ("inactive", LOOPBACK_V4, "inactive", "inactive"),
        ("sendrecv", "0.0.0.0", "c=0.0.0.0", "c=0.0.0.0"),  # the older hold: a null address
    ],
)
def test_caller_holds_the_call_and_resumes_it_without_a_media_alarm(
    background_probe: Callable[..., BackgroundProbe],
    sipp_uac: Callable[..., SippRun],
    tmp_path: Path,
    mode: str,
    address: str,
    offered: str,
    answered: str,
) -> None:
    probe, port = _answer(background_probe, duration_s=15)
    talk, resumed = _recording_pieces(tmp_path, 1.5, resumed_after_s=4.5)
    sipp = sipp_uac(
        (LOOPBACK_V4, port), service="5551234", scenario="uac-hold",
        values={"TALK": str(talk), "RESUMED": str(resumed), "HOLD": mode, "HOLD_ADDRESS": address,
                "TALK_MS": "2000", "HELD_MS": "2500"},
        call_length_ms=2000, timeout_s=15.0,
    )  # fmt: skip
    code, report, stderr, wall = probe.finish(timeout_s=20)
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert sipp.returncode == 0, sipp.screen_log.read_text()[-2000:]
    assert code == 0, (report["verdict"], stderr)
    (step,) = report["steps"]
    caller = step["detail"]["caller"]
    assert caller["delayed_offer"] is False and caller["offered_codecs"] == ["PCMA/8000"]
    hold, resume = caller["held_by_caller"]
    assert (hold["purpose"], hold["offered"], hold["status_code"], hold["answered"]) == (
        "hold",
        offered,
        200,
        answered,
    )
    assert (resume["purpose"], resume["offered"], resume["status_code"]) == (
        "resume",
        "sendrecv",
        200,
    )
    assert resume["answered"] == "sendrecv"
    assert 1.9 <= hold["at_s"] <= 2.4  # SIPp talks 2 s, then holds for 2.5 s
    assert 2.4 <= resume["at_s"] - hold["at_s"] <= 2.9
    (call,) = report["calls"]
    assert call["codec"] == "PCMA/8000" and 6.0 <= call["hold_s"] <= 7.5
    (rx,) = _streams(call, "rx")
    (tx,) = _streams(call, "tx")
    assert rx["packets"] == len(rdpcap(str(talk))) + len(rdpcap(str(resumed)))
    assert rx["loss_pct"] == 0.0 and rx["from_announced_address"] is True
    # the probe stops sending while held (its answer is recvonly or inactive): about
    # 2.5 s of its 20 ms packets fewer than the call's length would give
    assert tx["packets"] <= (call["hold_s"] - 2.0) * 50
    assert tx["packets"] >= (call["hold_s"] - 3.2) * 50
    findings = {f["code"]: f for f in report["verdict"]["findings"]}
    held = findings["inbound-caller-held"]
    assert held["severity"] == "info"
    assert held["summary"].startswith(
        f"the caller held the call (its re-INVITE offered {offered}) "
    )
    assert " then resumed it" in held["summary"]
    assert {f["severity"] for f in findings.values()} == {"info"}, findings
    assert wall < 15
