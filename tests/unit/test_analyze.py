"""``analyze`` on captures whose truth is known by construction, with tshark as the oracle.

Every scenario asserts exact counts from how it was built, and the jitter, max delta and
loss against ``tshark -q -z rtp,streams`` run on the same file. tshark's "Lost" is
``expected - received`` with ``expected`` from the *last* sequence number seen: it agrees with
``rfc3550_cumulative_lost`` except when the final packet arrives reordered (tshark: -1), and
with sipprobe's ``lost`` (``expected - unique``) except when there are duplicates.
"""

import io
import json
import os
import platform
import random
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from data import sipbuild
from data.rtpcapture import T0, Path4, Rtp, delayed, frame, stream, write, write_frames, write_parts
from data.tshark import rtp_streams
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from sipprobe.analysis import analyze as analyze_module
from sipprobe.analysis.analyze import AnalysisResult, AnalyzeOptions, analyze_file
from sipprobe.cli import analyze as analyze_cli
from sipprobe.cli.analyze import keep_freed_memory, run_analyze
from sipprobe.errors import CaptureError, UsageError
from sipprobe.model.results import Quality
from sipprobe.report.analysis import analysis_json, metrics_json, render_analysis_text

JITTER_TOLERANCE_MS = 0.0006  # tshark prints 3 decimals


def _agree_with_tshark(path: Path, result: AnalysisResult) -> None:
    oracle = {s.ssrc: s for s in rtp_streams(path)}
    assert sorted(oracle) == sorted(s.stream.ssrc for s in result.streams)
    for item in result.streams:
        theirs, ours = oracle[item.stream.ssrc], item.metrics
        assert ours.jitter_ms is not None
        assert theirs.packets == ours.packets
        assert ours.jitter_ms.mean == pytest.approx(theirs.mean_jitter_ms, abs=JITTER_TOLERANCE_MS)
        assert ours.jitter_ms.max == pytest.approx(theirs.max_jitter_ms, abs=JITTER_TOLERANCE_MS)
        assert ours.max_delta_ms == pytest.approx(theirs.max_delta_ms, abs=JITTER_TOLERANCE_MS)


def _tshark_lost(path: Path) -> int:
    (only,) = rtp_streams(path)
    return only.lost


def _jittery(count: int, seed: int, spread_s: float = 0.004, **kwargs: int) -> list[Rtp]:
    rng = random.Random(seed)
    sent = stream(count, **kwargs)
    return delayed(sent, [rng.uniform(0, spread_s) for _ in sent])


def test_analyze_clean_stream(tmp_path: Path) -> None:
    path = write(tmp_path / "clean.pcap", stream(500))
    result = analyze_file(path)
    (item,) = result.streams
    m = item.metrics
    assert (m.packets, m.expected, m.lost, m.duplicates, m.reordered) == (500, 500, 0, 0, 0)
    assert m.jitter_ms is not None and m.jitter_ms.max == pytest.approx(0, abs=1e-6)
    assert m.max_delta_ms == pytest.approx(20.0, abs=1e-6)
    assert m.mos_lq == pytest.approx(4.4094, abs=1e-4)
    assert (item.verdict, result.media, result.exit_code) == (Quality.GOOD, Quality.GOOD, 0)
    assert _tshark_lost(path) == 0
    _agree_with_tshark(path, result)


def test_analyze_loss_across_sequence_and_timestamp_wrap(tmp_path: Path) -> None:
    dropped = {100, 101, 102, 250, 300, 301, 320}  # seq 65300+100.. wraps at packet 236
    sent = _jittery(500, 1, seq0=65300, ts0=2**32 - 40_000)
    kept = [p for p in sent if (p.seq - 65300) % 65536 not in dropped]
    path = write(tmp_path / "wrap.pcap", kept)
    result = analyze_file(path)
    m = result.streams[0].metrics
    assert (m.packets, m.expected, m.lost, m.loss_pct) == (493, 500, 7, 1.4)
    assert m.rfc3550_cumulative_lost == 7
    assert result.streams[0].verdict is Quality.DEGRADED
    assert _tshark_lost(path) == 7
    _agree_with_tshark(path, result)


def test_analyze_reordering_and_a_duplicate(tmp_path: Path) -> None:
    sent = stream(300)
    sent[50], sent[51] = (
        replace(sent[51], arrival=sent[50].arrival),
        replace(sent[50], arrival=sent[51].arrival),
    )
    sent.insert(200, replace(sent[199], arrival=sent[199].arrival + Decimal("0.001")))
    path = write(tmp_path / "reorder.pcap", sent)
    result = analyze_file(path)
    m = result.streams[0].metrics
    assert (m.packets, m.expected, m.lost, m.duplicates, m.reordered) == (301, 300, 0, 1, 1)
    assert m.rfc3550_cumulative_lost == -1
    assert _tshark_lost(path) == -1  # tshark counts the duplicate as a negative loss
    _agree_with_tshark(path, result)


def test_analyze_final_packet_reordered_differs_from_tshark(tmp_path: Path) -> None:
    """tshark takes the last sequence number seen as the highest: it reports -1 lost."""
    sent = stream(200)
    sent[-1], sent[-2] = (
        replace(sent[-2], arrival=sent[-1].arrival),
        replace(sent[-1], arrival=sent[-2].arrival),
    )
    path = write(tmp_path / "last.pcap", sent)
    m = analyze_file(path).streams[0].metrics
    assert (m.expected, m.lost, m.rfc3550_cumulative_lost, m.reordered) == (200, 0, 0, 1)
    assert _tshark_lost(path) == -1


def test_analyze_bursts_of_loss(tmp_path: Path) -> None:
    bursts = {*range(100, 105), *range(400, 406), *range(700, 704)}
    kept = [p for k, p in enumerate(_jittery(1000, 2)) if (p.seq - 1000) not in bursts]
    path = write(tmp_path / "bursts.pcap", kept)
    result = analyze_file(path)
    m = result.streams[0].metrics
    assert (m.expected, m.lost) == (1000, 15)
    assert m.burst_r > 1
    assert m.burst_density > 0
    assert _tshark_lost(path) == 15
    _agree_with_tshark(path, result)


def test_analyze_silence_with_marker_is_not_loss_or_jitter(tmp_path: Path) -> None:
    talk = stream(300)
    spoken = talk[:100] + talk[200:]  # 2 s of DTX silence: timestamps jump, numbers do not
    sent = [replace(p, seq=(1000 + k) & 0xFFFF, marker=k == 100) for k, p in enumerate(spoken)]
    rng = random.Random(3)
    path = write(tmp_path / "dtx.pcap", delayed(sent, [rng.uniform(0, 0.003) for _ in sent]))
    result = analyze_file(path)
    m = result.streams[0].metrics
    assert (m.packets, m.expected, m.lost) == (200, 200, 0)
    assert m.max_delta_ms < 30  # the 2 s gap ends at the marker packet, which is left out
    assert m.jitter_ms is not None and m.jitter_ms.max < 3
    _agree_with_tshark(path, result)


def test_analyze_delay_step(tmp_path: Path) -> None:
    sent = delayed(stream(500), [0.0 if k < 250 else 0.1 for k in range(500)])
    path = write(tmp_path / "step.pcap", sent)
    result = analyze_file(path)
    m = result.streams[0].metrics
    assert m.jitter_ms is not None
    assert m.jitter_ms.max == pytest.approx(100 / 16, abs=1e-6)  # J += (|D| - J) / 16
    assert m.max_delta_ms == pytest.approx(120, abs=1e-6)
    assert m.lost == 0
    _agree_with_tshark(path, result)


@pytest.mark.parametrize(
    ("link", "fmt", "src", "dst"),
    [
        ("ether", "pcap", "2001:db8::1", "2001:db8::2"),
        ("vlan", "pcap", "10.0.0.1", "10.0.0.2"),
        ("qinq", "pcapng", "10.0.0.1", "10.0.0.2"),
        ("sll", "pcap", "10.0.0.1", "10.0.0.2"),
        ("sll2", "pcap-ns", "2001:db8::1", "2001:db8::2"),
        ("raw", "pcapng", "10.0.0.1", "10.0.0.2"),
        ("ether", "pcap-ns", "10.0.0.1", "10.0.0.2"),
    ],
)
def test_analyze_same_stream_in_every_encapsulation(
    tmp_path: Path, link: str, fmt: str, src: str, dst: str
) -> None:
    sent = [p for p in _jittery(400, 4, spread_s=0.03) if p.seq % 37]
    reference = analyze_file(write(tmp_path / "ref.pcap", sent)).streams[0].metrics
    path = write(tmp_path / f"x.{fmt}", sent, Path4(src=src, dst=dst, link=link), fmt)
    result = analyze_file(path)
    (item,) = result.streams
    assert metrics_json(item.metrics) == metrics_json(reference)
    assert item.stream.src == (f"[{src}]:40000" if ":" in src else f"{src}:40000")
    _agree_with_tshark(path, result)


def test_to_json_stream_contract(tmp_path: Path) -> None:
    path = write(
        tmp_path / "j.pcap", stream(100), Path4(src="2001:db8::1", dst="2001:db8::2", dscp=46)
    )
    document = json.loads(json.dumps(analysis_json(analyze_file(path)), allow_nan=False))
    (item,) = document["streams"]
    required = {
        "ssrc",
        "src",
        "dst",
        "payload_type",
        "codec",
        "packets",
        "expected",
        "lost",
        "loss_pct",
        "duplicates",
        "reordered",
        "rfc3550_cumulative_lost",
        "jitter_ms",
        "max_delta_ms",
        "discarded",
        "burst_r",
        "r_factor",
        "mos_lq",
        "mos_cq",
        "dscp",
    }
    assert required <= set(item)
    assert (item["ssrc"], item["src"], item["dst"]) == (
        0x11223344,
        "[2001:db8::1]:40000",
        "[2001:db8::2]:50000",
    )
    assert (item["payload_type"], item["codec"], item["dscp"], item["verdict"]) == (
        0,
        "PCMU",
        [46],
        "good",
    )
    assert set(item["jitter_ms"]) == {"max", "mean", "final"}
    assert item["mos_cq"] is None
    assert document["file"]["format"] == "pcap"
    assert document["media"] == "good"


@pytest.mark.parametrize(
    ("drop_every", "code", "verdict"), [(0, 0, "good"), (50, 1, "degraded"), (20, 2, "bad")]
)
def test_run_analyze_exit_codes_and_formats(
    tmp_path: Path, drop_every: int, code: int, verdict: str
) -> None:
    sent = [p for k, p in enumerate(stream(400)) if not drop_every or k % drop_every != 7]
    path = write(tmp_path / "e.pcap", sent)
    text, document = io.StringIO(), io.StringIO()
    assert run_analyze(path, "text", 60.0, None, (), text) == code
    assert run_analyze(path, "json", 60.0, None, (), document) == code
    assert json.loads(document.getvalue())["streams"][0]["verdict"] == verdict
    assert f"media: {verdict} (1 stream)" in text.getvalue()
    assert "10.0.0.1:40000 -> 10.0.0.2:50000" in text.getvalue()


def test_run_analyze_no_rtp_is_unknown(tmp_path: Path) -> None:
    path = write(tmp_path / "none.pcap", [(T0, b"hello"), (T0 + 1, b"world")])
    out = io.StringIO()
    assert run_analyze(path, "text", 60.0, None, (), out) == 3
    assert "no RTP stream found" in out.getvalue()
    assert "udp-not-rtp 2" in out.getvalue()


def test_run_analyze_rtp_port_hint_and_one_way_delay(tmp_path: Path) -> None:
    path = write(tmp_path / "h.pcap", stream(5))
    assert run_analyze(path, "text", 60.0, None, (), io.StringIO()) == 3
    out = io.StringIO()
    assert run_analyze(path, "json", 60.0, 200.0, (50000,), out) == 1  # 200 ms: degraded
    (item,) = json.loads(out.getvalue())["streams"]
    assert (item["found_by"], item["delay_source"], item["one_way_delay_ms"]) == (
        "rtp-port",
        "option",
        200.0,
    )
    assert item["mos_cq"] is not None


@pytest.mark.parametrize(
    ("fmt", "buffer_ms", "delay_ms", "ports", "message"),
    [
        ("xml", 60.0, None, (), "unknown output format"),
        ("text", -1.0, None, (), "--jitter-buffer-ms must be"),
        ("text", 60.0, float("nan"), (), "--one-way-delay-ms must be"),
        ("text", 60.0, None, (70000,), "--rtp-port 70000 is not a UDP port"),
    ],
)
def test_run_analyze_usage_errors(
    tmp_path: Path,
    fmt: str,
    buffer_ms: float,
    delay_ms: float | None,
    ports: tuple[int, ...],
    message: str,
) -> None:
    with pytest.raises(UsageError, match=message):
        run_analyze(tmp_path / "x.pcap", fmt, buffer_ms, delay_ms, ports, io.StringIO())


def test_run_analyze_unreadable_file_is_a_capture_error(tmp_path: Path) -> None:
    (tmp_path / "x.pcap").write_bytes(b"not a capture at all")
    with pytest.raises(CaptureError, match="is not a pcap or pcapng capture"):
        run_analyze(tmp_path / "x.pcap", "text", 60.0, None, (), io.StringIO())


def test_render_text_reads_at_a_glance(tmp_path: Path) -> None:
    forward = [p for k, p in enumerate(stream(300)) if k % 25 != 3]
    back = stream(300, ssrc=0x55, t0=T0 + Decimal("0.003"))
    reverse = Path4(src="10.0.0.2", dst="10.0.0.1", sport=50000, dport=40000)
    path = write_parts(tmp_path / "t.pcap", [(Path4(), forward), (reverse, back)])
    text = render_analysis_text(analyze_file(path))
    lines = text.splitlines()
    assert lines[1].split()[:5] == ["#", "source", "->", "destination", "SSRC"]
    assert lines[2].split()[-1] == "bad" and "0x11223344" in lines[2]
    assert lines[3].split()[-1] == "good" and "0x00000055" in lines[3]
    assert "#1 bad: loss 4% >= 3%" in text
    assert lines[-1] == "media: bad (2 streams)"


def test_analyze_sequence_restart_differs_from_tshark(tmp_path: Path) -> None:
    """A jump past MAX_DROPOUT is a restart (RFC 3550 A.1), not 30000 lost as tshark says."""
    sent = [
        replace(p, seq=(p.seq + (30000 if k >= 150 else 0)) & 0xFFFF)
        for k, p in enumerate(_jittery(300, 5))
    ]
    path = write(tmp_path / "restart.pcap", sent)
    m = analyze_file(path).streams[0].metrics
    assert (m.packets, m.lost, m.sequence_restarts) == (300, 0, 1)
    assert _tshark_lost(path) == 30000


def test_analyze_telephone_events_do_not_count_as_jitter_unlike_tshark(tmp_path: Path) -> None:
    """RFC 4733 events keep one timestamp per event: tshark counts that as jitter."""
    sent = _jittery(300, 6, spread_s=0.01)
    event_ts = sent[100].ts
    sent = [replace(p, pt=101, ts=event_ts) if 100 <= k < 106 else p for k, p in enumerate(sent)]
    path = write(tmp_path / "dtmf.pcap", sent)
    ours = analyze_file(path).streams[0].metrics.jitter_ms
    clean = analyze_file(write(tmp_path / "clean.pcap", [p for p in sent if p.pt == 0]))
    (theirs,) = rtp_streams(path)
    assert ours is not None and clean.streams[0].metrics.jitter_ms is not None
    assert ours.max == pytest.approx(clean.streams[0].metrics.jitter_ms.max, abs=1e-9)
    assert theirs.max_jitter_ms > ours.max + 1


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_analyze_keeps_freed_memory_with_values_glibc_accepts() -> None:
    # mallopt returns 1 when glibc takes a setting, 0 when it refuses one; this machine and
    # CI run glibc (Debian 12), so both settings must take, or the analyze speed-up is lost.
    assert keep_freed_memory() is True


def _five_streams(tmp_path: Path) -> Path:
    parts = [
        (Path4(sport=4000 + 2 * k, dport=5000 + 2 * k), _jittery(60, seed=k, ssrc=0x100 + k))
        for k in range(5)
    ]
    return write_parts(tmp_path / "five.pcap", parts)


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Any capture may be measured in two processes (even if an earlier test left a thread
    running); returns a list that counts the children made."""
    made: list[int] = []
    real = analyze_module.Forked

    def forked(*args: object) -> object:
        made.append(1)
        return real(*args)

    monkeypatch.setattr(analyze_module, "_FORK_ROWS", 0)
    monkeypatch.setattr(analyze_module, "may_fork", lambda: True)
    monkeypatch.setattr(analyze_module, "Forked", forked)
    return made


def test_analyze_measures_half_the_streams_in_a_child_with_the_same_result(
    tmp_path: Path, forks: list[int]
) -> None:
    path = _five_streams(tmp_path)
    alone = analysis_json(analyze_file(path))
    shared = analysis_json(analyze_file(path, AnalyzeOptions(workers=2)))
    assert forks == [1]
    assert sorted(s["ssrc"] for s in shared["streams"]) == [0x100 + k for k in range(5)]
    assert shared == alone


def test_analyze_measures_itself_what_a_dead_child_did_not(
    tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _five_streams(tmp_path)
    alone = analysis_json(analyze_file(path))
    monkeypatch.setattr(analyze_module, "_measure_each", lambda *args: os._exit(3))
    assert analysis_json(analyze_file(path, AnalyzeOptions(workers=2))) == alone
    assert forks == [1]


@pytest.mark.parametrize(("jobs", "cores", "made"), [(1, 2, 0), (2, 2, 1), (2, 1, 0)])
def test_analyze_jobs_bound_the_processes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    forks: list[int],
    jobs: int,
    cores: int,
    made: int,
) -> None:
    path = _five_streams(tmp_path)
    monkeypatch.setattr(analyze_cli, "_cores", lambda: cores)
    assert run_analyze(path, "text", 60.0, None, (), io.StringIO(), jobs=jobs) in (0, 1)
    assert len(forks) == made


def test_analyze_measures_alone_when_no_child_can_be_made(
    tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _five_streams(tmp_path)
    alone = analysis_json(analyze_file(path))

    def refuse() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    assert analysis_json(analyze_file(path, AnalyzeOptions(workers=2))) == alone
    assert forks == [1]


def test_analyze_reads_the_sdp_of_a_fragmented_invite(tmp_path: Path) -> None:
    # A realistic INVITE over the MTU (ICE candidates): its SDP, in the second fragment, is
    # what names the dynamic payload type and ties the stream to the call.
    offer = sipbuild.sdp("10.0.0.1", 40000, (96, 101), ("96 PCMA/8000", "101 telephone-event/8000"))
    offer += "".join(
        f"a=candidate:{k} 1 UDP 2130706431 10.0.0.1 {40000 + k} typ host\r\n" for k in range(40)
    )
    invite = sipbuild.sip("INVITE sip:b@example.com SIP/2.0", "frag-call", offer)
    assert len(invite) > 2000
    signalling = IP(src="10.0.0.1", dst="10.0.0.2", id=3) / UDP(sport=5060, dport=5060)
    frames = [Ether() / piece for piece in fragment(signalling / Raw(invite), fragsize=1400)]
    back = Path4(src="10.0.0.2", dst="10.0.0.1", sport=50000, dport=40000)
    frames += [frame(p.payload(), back) for p in stream(40, t0=T0 + 1, pt=96, ssrc=8)]
    for k, packet in enumerate(frames[:-40]):
        packet.time = T0 + Decimal(k) / 100
    for packet, sent in zip(frames[-40:], stream(40, t0=T0 + 1, pt=96, ssrc=8), strict=True):
        packet.time = sent.arrival
    write_frames(tmp_path / "frag.pcap", frames, 1)
    (only,) = analyze_file(tmp_path / "frag.pcap").streams
    assert (only.stream.found_by, only.stream.call_id) == ("sdp", "frag-call")
    assert (only.stream.codec, only.stream.clock_rate) == ("PCMA", 8000)


def test_analyze_cores_are_those_this_process_may_use() -> None:
    # taskset, cgroup cpusets: a process pinned to one core has one core, whatever the machine.
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        assert analyze_cli._cores() == 1
    finally:
        os.sched_setaffinity(0, allowed)
    assert analyze_cli._cores() == len(allowed)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_analyze_command_ends_quickly_with_all_its_output(tmp_path: Path, fmt: str) -> None:
    # The analyze process leaves with os._exit after flushing: its output must be whole and
    # its exit code the verdict's, whether stdout is a pipe or a file.
    path = _five_streams(tmp_path)
    expected = run_analyze(path, fmt, 60.0, None, (), io.StringIO())
    command = [sys.executable, "-m", "sipprobe", "analyze", str(path), "--format", fmt]
    piped = subprocess.run(command, capture_output=True, text=True, check=False)
    with (tmp_path / "out").open("w") as out:
        written = subprocess.run(command, stdout=out, check=False)
    assert piped.returncode == written.returncode == expected
    assert piped.stderr == ""
    for text in (piped.stdout, (tmp_path / "out").read_text()):
        if fmt == "json":
            assert len(json.loads(text)["streams"]) == 5
        else:
            assert text.rstrip().endswith("(5 streams)")
