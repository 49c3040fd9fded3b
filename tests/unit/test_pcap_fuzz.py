"""Fuzz: mutated and truncated captures give a result or one CaptureError, never anything else.

Seeded, so a failure names its case and reproduces. Each case runs the whole ``analyze``
pipeline (reader, SIP/SDP, stream grouping, RTCP, metrics), since garbage that survives the
reader must not trip the later stages either.
"""

import os
import random
import time
from decimal import Decimal
from pathlib import Path

import pytest
from data import pcapbuild as pb
from data import sipbuild
from data.rtpcapture import T0, Path4, frame, stream, write, write_frames
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from sipprobe.analysis import packets as packets_module
from sipprobe.analysis import pcap
from sipprobe.analysis.analyze import analyze_file
from sipprobe.analysis.pcap import read_capture
from sipprobe.errors import CaptureError
from sipprobe.report.analysis import analysis_json, render_analysis_text

CASES = 300


def _items() -> list[tuple[Decimal, bytes]]:
    offer = sipbuild.sdp("10.0.0.1", 40000, (96, 101), ("96 PCMA/8000", "101 telephone-event/8000"))
    items = [
        (T0, sipbuild.sip("INVITE sip:b@example.com SIP/2.0", "fuzz", offer)),
        (
            T0 + Decimal("0.1"),
            sipbuild.sip("SIP/2.0 200 OK", "fuzz", sipbuild.sdp("10.0.0.2", 50000)),
        ),
    ]
    items += [(p.arrival, p.payload()) for p in stream(30, t0=T0 + 1, pt=96, seq0=65530)]
    items.append(
        (T0 + 2, sipbuild.rtcp_sr(0x11223344, 3_900_000_000, 0, (sipbuild.report_block(5, lsr=9),)))
    )
    items.append((T0 + 3, sipbuild.rtcp_rr(5, (sipbuild.report_block(0x11223344, lsr=1),))))
    items.append((T0 + 4, sipbuild.rtcp_xr_voip(5, 0x11223344)))
    return items


def _bases(tmp_path: Path) -> list[bytes]:
    items = _items()
    bases = [
        write(tmp_path / "a.pcap", items).read_bytes(),
        write(tmp_path / "b.pcapng", items, Path4(link="vlan"), "pcapng").read_bytes(),
        write(
            tmp_path / "c.pcap", items, Path4(src="::1", dst="::2", link="sll2"), "pcap-ns"
        ).read_bytes(),
    ]
    frames = [bytes(frame(data, Path4(link="raw"))) for _, data in items]
    big = pb.pcap_header(endian=">", link=101)
    big += b"".join(pb.pcap_record(1000 + k, k, f, endian=">") for k, f in enumerate(frames))
    ng = (
        pb.shb(endian=">")
        + pb.idb(101, endian=">", tsresol=9)
        + pb.block(0x99, b"x" * 7, endian=">")
    )
    ng += b"".join(pb.epb(0, k * 10**9, f, endian=">") for k, f in enumerate(frames))
    invite = _items()[0][1] + b"a=x\r\n" * 600  # over the MTU: three fragments
    signalling = IP(src="10.0.0.1", dst="10.0.0.2", id=4) / UDP(sport=5060, dport=5060)
    pieces = [Ether() / piece for piece in fragment(signalling / Raw(invite), fragsize=1400)]
    rtp = [frame(data, Path4()) for _, data in items[2:]]
    for k, packet in enumerate([*pieces, *rtp]):
        packet.time = T0 + k
    write_frames(tmp_path / "d.pcap", [*pieces, *rtp], 1)
    return [*bases, big, ng, (tmp_path / "d.pcap").read_bytes()]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["flip", "word", "truncate", "insert", "zero"])
        at = rng.randrange(len(buf)) if buf else 0
        if kind == "flip" and buf:  # (a truncation may have emptied it)
            for _ in range(rng.randint(1, 16)):
                buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif kind == "word":
            word = rng.choice([0, 0xFFFFFFFF, 0x7FFFFFFF, 262145, rng.randrange(1 << 32), 12, 13])
            buf[at : at + 4] = word.to_bytes(4, rng.choice(["little", "big"]))
        elif kind == "truncate":
            del buf[rng.randrange(len(buf) + 1) :]
        elif kind == "insert":
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        else:
            buf[at : at + rng.randint(1, 64)] = bytes(rng.randint(1, 64))
    return bytes(buf)


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    return _bases(tmp_path_factory.mktemp("fuzz"))


def test_fuzz_bases_are_read_cleanly(bases: list[bytes], tmp_path: Path) -> None:
    for number, data in enumerate(bases):
        (tmp_path / f"{number}").write_bytes(data)
        result = analyze_file(tmp_path / f"{number}")
        assert len(result.streams) == 1, number
        assert result.streams[0].metrics.packets == 30, number
        assert set(result.skipped) <= {"udp-not-rtp", "unknown-pcapng-block"}, number


@pytest.mark.parametrize("block", range(10))
def test_fuzz_mutated_captures_never_crash_or_hang(
    bases: list[bytes], tmp_path: Path, block: int
) -> None:
    outcomes = {"read": 0, "error": 0}
    for case in range(block * CASES // 10, (block + 1) * CASES // 10):
        rng = random.Random(case)
        data = _mutate(rng.choice(bases), rng)
        path = tmp_path / f"case{case}"
        path.write_bytes(data)
        started = time.monotonic()
        try:
            result = analyze_file(path)
        except CaptureError as exc:
            message = str(exc)
            assert message.endswith(".") and "\n" not in message, (case, message)
            outcomes["error"] += 1
        else:
            assert result.capture.udp_packets <= result.capture.records, case
            assert all(count > 0 for count in result.skipped.values()), case
            render_analysis_text(result)
            analysis_json(result)
            outcomes["read"] += 1
        assert time.monotonic() - started < 5, f"case {case} took too long"
    assert outcomes["read"] > 0


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_fuzz_two_processes_read_what_one_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    # Mutations in either half, near the boundary or in the headers the boundary scan
    # trusts: the two-process read must give the same rows or the same error as one process.
    monkeypatch.setattr(pcap, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(pcap, "may_fork", lambda: True)
    items = _items()[:2] + [(p.arrival, p.payload()) for p in stream(400, t0=T0 + 1)]
    base = write(tmp_path / f"base.{fmt}", items, fmt=fmt).read_bytes()
    split: list[int] = []
    real = pcap.ColumnSink.over.__func__  # type: ignore[attr-defined]

    def over(cls: type, memory: object, capacity: int) -> object:
        split.append(os.getpid())  # the parent taking over the child's half
        return real(cls, memory, capacity)

    monkeypatch.setattr(pcap.ColumnSink, "over", classmethod(over))
    read = 0
    for case in range(60):
        rng = random.Random(1000 + case)
        path = tmp_path / f"two{case}"
        path.write_bytes(_mutate(base, rng) if case else base)
        results: list[object] = []
        for workers in (1, 2):
            try:
                capture = read_capture(path, chunk_bytes=2048, workers=workers)
            except CaptureError as exc:
                results.append(str(exc))
            else:
                packets = capture.packets
                columns = [  # addresses as text: their numbers follow the reading order
                    [packets.addresses[i] for i in column]
                    if name in ("src_addr", "dst_addr")
                    else column.tolist()
                    for name in packets_module._COLUMNS
                    for column in [getattr(packets, name)]
                ]
                results.append(
                    (columns, packets.payloads, capture.skipped, capture.info, packets.origin_s)
                )
        assert results[0] == results[1], case
        read += isinstance(results[1], tuple)
    assert read > 20
    assert split.count(os.getpid()) > 10  # so the split was really exercised
