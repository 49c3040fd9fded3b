"""Digest credentials blanked inside pcap files, checksums kept valid."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.utils import PcapWriter, rdpcap

from sipprobe.capture.redact import redact_pcap
from sipprobe.errors import CaptureError

RESPONSE = "6629fae49393a05397450978507c4ef1"
REGISTER = (
    "REGISTER sip:pbx.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
    'Authorization: Digest username="alice", realm="pbx", nonce="abc", uri="sip:pbx.example", '
    f'response="{RESPONSE}", cnonce="0a4f113b", qop=auth, nc=00000001\r\n'
    "Content-Length: 0\r\n\r\n"
)


def write(path: Path, packets: list[object], nano: bool) -> None:
    writer = PcapWriter(str(path), nano=nano, sync=True)
    for packet in packets:
        writer.write(packet)
    writer.close()


@pytest.mark.parametrize("nano", [False, True])
def test_redact_pcap_blanks_response_and_keeps_checksums(tmp_path: Path, nano: bool) -> None:
    rtp = (
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src="192.0.2.1", dst="192.0.2.2")
        / UDP(sport=4000, dport=4002)
        / (b"\x80\x00" + b"\x00" * 170)
    )
    packets = [
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src="192.0.2.1", dst="192.0.2.2")
        / UDP(sport=5060, dport=5060)
        / REGISTER,
        rtp,
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IPv6(src="2001:db8::1", dst="2001:db8::2")
        / TCP(sport=40000, dport=5060, flags="PA")
        / REGISTER,
    ]
    path = tmp_path / "c.pcap"
    write(path, packets, nano)
    before = path.read_bytes()
    assert redact_pcap(path) == 2
    after = path.read_bytes()
    assert len(after) == len(before)
    assert RESPONSE.encode() not in after
    assert b"0a4f113b" not in after
    assert b'response="' + b"x" * 32 + b'"' in after
    assert b'username="alice"' in after
    for packet in rdpcap(str(path)):
        layer = packet[UDP] if UDP in packet else packet[TCP]
        stored = layer.chksum
        del layer.chksum
        assert packet.__class__(bytes(packet))[layer.__class__].chksum == stored
    tshark = subprocess.run(
        [
            "tshark",
            "-r",
            str(path),
            "-o",
            "udp.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-T",
            "fields",
            "-e",
            "udp.checksum.status",
            "-e",
            "tcp.checksum.status",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    statuses = tshark.stdout.split()
    assert statuses == ["1", "1", "1"]  # 1: good, as Wireshark checks it


def test_redact_pcap_leaves_clean_files_untouched(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    write(
        path,
        [
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / IP()
            / UDP()
            / b"OPTIONS sip:x SIP/2.0\r\n\r\n"
        ],
        nano=False,
    )
    before = path.stat().st_mtime_ns
    assert redact_pcap(path) == 0
    assert path.stat().st_mtime_ns == before


def test_redact_pcap_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(b"\x0a\x0d\x0d\x0a" + b"\0" * 40)
    with pytest.raises(CaptureError, match="not a pcap file"):
        redact_pcap(path)
