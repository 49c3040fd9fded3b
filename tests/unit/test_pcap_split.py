"""Reading a pcap in two processes: the same rows as one process, whatever goes wrong."""

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from data import pcapbuild as pb
from data.rtpcapture import T0, Path4, Rtp, frame
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from sipprobe.analysis import forked as forked_module
from sipprobe.analysis import packets as packets_module
from sipprobe.analysis import pcap
from sipprobe.analysis.packets import ColumnSink
from sipprobe.analysis.pcap import Capture, read_capture
from sipprobe.errors import CaptureError

SIP = b"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n"
RTCP = bytes.fromhex("80c80006") + bytes(24)


def _frames() -> dict[str, tuple[bytes, int]]:
    """Frame templates and where their RTP sequence number sits (-1: none). Each kind has
    its own addresses, and "late" ones appear only in the second half, so the two processes
    meet the addresses in different orders and number them differently."""
    rtp = Rtp(T0, 0, 0).payload()
    short = Rtp(T0, 0, 0, size=20, pt=18).payload()

    def way(n: int, **more: Any) -> Path4:
        return Path4(src=f"10.0.0.{n}", dst=f"10.0.1.{n}", **more)

    return {
        "rtp": (bytes(frame(rtp, way(1))), 42 + 2),
        "short": (bytes(frame(short, way(2, sport=4100))), 44),
        "vlan": (bytes(frame(rtp, way(3, link="vlan", sport=4200))), 46 + 2),
        "rtcp": (bytes(frame(RTCP, way(1, sport=4001))), -1),
        "sip": (bytes(frame(SIP, way(4, sport=5060, dport=5060))), -1),
        "late": (bytes(frame(rtp, way(5, sport=4300))), 42 + 2),
    }


def _capture(
    path: Path,
    records: int = 3000,
    absurd_at: int | None = None,
    inserts: dict[int, bytes] | None = None,
    pcapng: dict[int, bytes] | None = None,
) -> bytes:
    """RTP of two sizes, with RTCP, SIP and VLAN-tagged frames among it; record
    ``absurd_at`` claims 2147483647 bytes (a framing error, fatal); ``inserts`` replace the
    frames of the records they name. With ``pcapng`` (blocks to put before the records they
    name), a pcapng file of one section with nanosecond Ethernet interface 0."""
    templates = _frames()
    body = bytearray(pb.pcap_header() if pcapng is None else pb.shb() + pb.idb(1, tsresol=9))
    for k in range(records):
        kind = (
            "sip"
            if k % 500 == 7
            else "rtcp"
            if k % 97 == 5
            else "vlan"
            if k % 53 == 9
            else "late"
            if k >= 2000 and k % 7 == 0
            else ("short" if k % 3 == 0 else "rtp")
        )
        data, seq_at = templates[kind]
        if inserts and k in inserts:
            data, seq_at = inserts[k], -1
        if seq_at >= 0:
            data = data[:seq_at] + (k & 0xFFFF).to_bytes(2, "big") + data[seq_at + 2 :]
        if pcapng is not None:
            body += pcapng.get(k, b"")
            body += pb.epb(0, (int(T0) + k // 50) * 10**9 + (k % 50) * 20_000_000, data)
            continue
        record = pb.pcap_record(int(T0) + k // 50, (k % 50) * 20_000, data)
        if k == absurd_at:
            record = record[:8] + (0x7FFFFFFF).to_bytes(4, "little") + record[12:]
        body += record
    path.write_bytes(body)
    return bytes(body)


def _same(one: Capture, two: Capture) -> None:
    """The same rows; address numbers may differ (they follow the order the reader met the
    addresses in), the addresses they stand for may not."""
    for name in packets_module._COLUMNS:
        if name in ("src_addr", "dst_addr"):
            texts = [[p.addresses[i] for i in getattr(p, name)] for p in (one.packets, two.packets)]
            assert texts[0] == texts[1], name
        else:
            assert np.array_equal(getattr(one.packets, name), getattr(two.packets, name)), name
    assert one.packets.payloads == two.packets.payloads
    assert sorted(one.packets.addresses) == sorted(two.packets.addresses)
    assert (one.skipped, one.info, one.packets.origin_s) == (
        two.skipped,
        two.info,
        two.packets.origin_s,
    )


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Any file may be split, even if an earlier test left a thread running (its own test
    checks that rule); returns a list that counts the halves this process took over."""
    monkeypatch.setattr(pcap, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(pcap, "may_fork", lambda: True)
    taken: list[int] = []
    real = ColumnSink.over.__func__  # type: ignore[attr-defined]

    def over(cls: type[ColumnSink], memory: Any, capacity: int) -> ColumnSink:
        taken.append(os.getpid())
        sink: ColumnSink = real(cls, memory, capacity)
        return sink

    monkeypatch.setattr(ColumnSink, "over", classmethod(over))
    return taken


def _no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_two_processes_read_the_same_rows_as_one(tmp_path: Path, split: list[int]) -> None:
    _capture(tmp_path / "c.pcap")
    alone = read_capture(tmp_path / "c.pcap", chunk_bytes=4096)
    shared = read_capture(tmp_path / "c.pcap", chunk_bytes=4096, workers=2)
    assert split.count(os.getpid()) == 1  # the child's half was taken over here
    assert shared.info.udp_packets == 3000
    assert [data for _, data in shared.packets.payloads if data == SIP] == [SIP] * 6
    _same(alone, shared)
    _no_child_left()


def test_a_wrong_boundary_is_caught_and_the_file_read_alone(
    tmp_path: Path, split: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _capture(tmp_path / "c.pcap")
    alone = read_capture(tmp_path / "c.pcap")
    real = pcap._boundary_after_middle

    def inside_a_record(*args: Any) -> int | None:
        boundary = real(*args)
        return None if boundary is None else boundary + 20  # mid-record: must not be used

    monkeypatch.setattr(pcap, "_boundary_after_middle", inside_a_record)
    _same(alone, read_capture(tmp_path / "c.pcap", workers=2))
    assert split == []  # nothing taken over from the child
    _no_child_left()


def test_a_child_that_dies_costs_time_not_rows(
    tmp_path: Path, split: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _capture(tmp_path / "c.pcap")
    alone = read_capture(tmp_path / "c.pcap")
    monkeypatch.setattr(pcap, "_read_tail", lambda *args: os._exit(9))  # dies silently
    _same(alone, read_capture(tmp_path / "c.pcap", workers=2))
    assert split == []
    _no_child_left()


@pytest.mark.parametrize("damage", ["absurd-length", "cut-last-record"])
def test_damage_in_the_second_half_reads_as_in_one_process(
    tmp_path: Path, split: list[int], damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = bytearray(_capture(tmp_path / "c.pcap", absurd_at=2700))
    if damage == "cut-last-record":
        body = bytearray(_capture(tmp_path / "c.pcap"))[:-30]
    (tmp_path / "d.pcap").write_bytes(body)
    results: list[object] = []
    alone: list[int] = []
    real = pcap._read_pcap

    def read_alone(*args: Any) -> Any:
        alone.append(1)
        return real(*args)

    monkeypatch.setattr(pcap, "_read_pcap", read_alone)
    for workers in (1, 2):
        try:
            results.append(read_capture(tmp_path / "d.pcap", workers=workers))
        except CaptureError as exc:
            results.append(str(exc))
    assert alone == [1]  # the two-process read reported it: it did not fall back
    if damage == "absurd-length":
        assert results[0] == results[1]
        assert "claims 2147483647 bytes" in str(results[1])
    else:
        one, two = results
        assert isinstance(one, Capture) and isinstance(two, Capture)
        assert two.skipped == {"truncated-record": 1}
        _same(one, two)
    _no_child_left()


def test_no_second_process_while_other_threads_run(
    tmp_path: Path, split: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _capture(tmp_path / "c.pcap")
    monkeypatch.setattr(pcap, "may_fork", forked_module.may_fork)  # the real rule, here
    forks: list[int] = []

    def fork() -> int:
        forks.append(1)
        raise AssertionError("forked with another thread running")

    monkeypatch.setattr(os, "fork", fork)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        capture = read_capture(tmp_path / "c.pcap", workers=2)
    finally:
        release.set()
        other.join()
    assert forks == []
    assert capture.info.udp_packets == 3000


@pytest.mark.parametrize("short_of", ["processes", "memory"])
def test_no_child_to_be_had_means_one_process_reads(
    tmp_path: Path, split: list[int], monkeypatch: pytest.MonkeyPatch, short_of: str
) -> None:
    _capture(tmp_path / "c.pcap")
    alone = read_capture(tmp_path / "c.pcap")

    def refuse(*args: object) -> None:
        raise OSError(11 if short_of == "processes" else 12, "refused by the test")

    if short_of == "processes":
        monkeypatch.setattr(os, "fork", refuse)
    else:
        monkeypatch.setattr(pcap.mmap, "mmap", refuse)
    _same(alone, read_capture(tmp_path / "c.pcap", workers=2))
    assert split == []
    _no_child_left()


def test_fragments_on_both_sides_of_the_boundary_are_put_together(
    tmp_path: Path, split: list[int]
) -> None:
    invite = SIP + b"a=x\r\n" * 800  # over 4 KiB: three fragments
    whole = IP(src="10.0.0.1", dst="10.0.0.2", id=5) / UDP(sport=5060, dport=5060) / Raw(invite)
    pieces = [bytes(Ether() / piece) for piece in fragment(whole, fragsize=1480)]
    assert len(pieces) == 3
    # 27 s apart (under the 30 s reassembly window), at 47 % and 90 % of the file
    _capture(tmp_path / "c.pcap", inserts={1400: pieces[0], 2700: pieces[2], 2750: pieces[1]})
    alone = read_capture(tmp_path / "c.pcap")
    shared = read_capture(tmp_path / "c.pcap", workers=2)
    assert split.count(os.getpid()) == 1
    assert [data for _, data in shared.packets.payloads if len(data) > 4000] == [invite]
    _same(alone, shared)


@pytest.mark.parametrize(
    ("blocks", "taken"),
    [
        ({}, 1),  # one section, its interface named up front: split
        ({2900: pb.idb(113)}, 0),  # an interface added in the child's half: it gives up
        ({100: pb.idb(113)}, 0),  # added in this process's half: the child's table was short
        ({2900: pb.shb() + pb.idb(1, tsresol=9)}, 0),  # a new section in the child's half
    ],
)
def test_pcapng_is_read_in_two_unless_its_interfaces_change(
    tmp_path: Path, split: list[int], blocks: dict[int, bytes], taken: int
) -> None:
    _capture(tmp_path / "c.pcapng", pcapng=blocks)
    alone = read_capture(tmp_path / "c.pcapng", chunk_bytes=4096)
    shared = read_capture(tmp_path / "c.pcapng", chunk_bytes=4096, workers=2)
    assert shared.info.format == "pcapng" and shared.info.udp_packets == 3000
    assert split.count(os.getpid()) == taken
    _same(alone, shared)
    _no_child_left()
