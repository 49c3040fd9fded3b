"""DTMF and hold in real calls: through the responder (RFC 4733 events, SIP INFO and in-band
tones, a sendonly and an inactive hold) and a stock SIPp UAS that offers no telephone-event
(in-band tones come back from its -rtp_echo)."""

import re
from collections.abc import Callable
from itertools import pairwise

from lab.environment import require_lab
from lab.probe import run_probe
from lab.responder import Responder
from lab.sipp import SippUas


def test_probe_dtmf_rfc4733_comes_back_from_the_responder(responder: Responder) -> None:
    require_lab("tcpdump", root=True)
    run = run_probe("call", responder.uri(), "--duration", "3", "--dtmf", "159#", "--no-history")
    assert run.returncode == 0, run.report["verdict"]
    dtmf = run.report["calls"][0]["dtmf"]
    assert dtmf["sent"] == "159#" and dtmf["method"] == "rfc4733"
    assert dtmf["received"] == "159#"
    assert dtmf["received_method"] == "rfc4733"
    assert dtmf["matched"] is True and dtmf["send_error"] is None
    assert dtmf["far_end_received"] == "159#"  # the responder's X-Sipprobe-Dtmf
    assert "".join(d["digit"] for d in dtmf["sent_digits"]) == "159#"
    # pjmedia sends each digit for the requested 160 ms; the reflector keeps the durations
    assert [d["duration_ms"] for d in dtmf["received_digits"]] == [
        d["duration_ms"] for d in dtmf["sent_digits"]
    ]
    assert all(d["ended"] and d["duration_ms"] == 160.0 for d in dtmf["received_digits"])
    assert not [f for f in run.report["verdict"]["findings"] if f["code"] == "dtmf-mismatch"]


def test_probe_hold_3_s_media_stops_and_resumes_with_the_responder(responder: Responder) -> None:
    require_lab("tcpdump", root=True)
    run = run_probe("call", responder.uri(), "--duration", "8", "--hold-s", "3", "--no-history")
    assert run.returncode == 0, run.report["verdict"]
    call = run.report["calls"][0]
    hold = call["hold"]
    assert hold["error"] is None and hold["hold_s"] == 3
    first, second = hold["reinvites"]
    assert (first["purpose"], first["offered"], first["status_code"], first["answered"]) == (
        "hold",
        "sendonly",
        200,
        "recvonly",
    )
    assert (second["purpose"], second["offered"], second["status_code"]) == (
        "resume",
        "sendrecv",
        200,
    )
    assert second["answered"] == "sendrecv"
    assert 1.9 <= first["at_s"] <= 2.5 and 4.9 <= second["at_s"] <= 5.5
    assert first["response_ms"] < 100 and second["response_ms"] < 100  # loopback
    rx, tx = hold["media"]
    # The responder stops reflecting while it is held; the probe goes on sending (sendonly)
    assert (rx["direction"], rx["stopped"], rx["resumed"]) == ("rx", True, True)
    assert 2.7 <= rx["longest_gap_s"] <= 3.3
    assert (tx["direction"], tx["stopped"], tx["resumed"]) == ("tx", False, None)
    assert call["hold_s"] is not None and call["hold_s"] >= 7.5  # answer -> BYE, as before
    assert not run.report["verdict"]["findings"]
    assert hold["mode"] == "sendonly"


def test_probe_hold_inactive_stops_media_both_ways_and_resumes(responder: Responder) -> None:
    require_lab("tcpdump", root=True)
    run = run_probe(
        "call",
        responder.uri(),
        *("--duration", "8", "--hold-s", "3", "--hold-mode", "inactive", "--no-history"),
    )
    assert run.returncode == 0, run.report["verdict"]
    hold = run.report["calls"][0]["hold"]
    assert (hold["mode"], hold["error"]) == ("inactive", None)
    first, second = hold["reinvites"]
    assert (first["purpose"], first["offered"], first["status_code"], first["answered"]) == (
        "hold",
        "inactive",
        200,
        "inactive",
    )
    assert (second["purpose"], second["offered"], second["status_code"]) == (
        "resume",
        "sendrecv",
        200,
    )
    assert second["answered"] == "sendrecv"
    rx, tx = hold["media"]
    # Neither side sends while the call is inactive; both come back after the resume.
    assert (rx["direction"], rx["stopped"], rx["resumed"]) == ("rx", True, True)
    assert (tx["direction"], tx["stopped"], tx["resumed"]) == ("tx", True, True)
    assert 2.7 <= rx["longest_gap_s"] <= 3.5 and 2.7 <= tx["longest_gap_s"] <= 3.5
    assert not run.report["verdict"]["findings"]


def test_probe_dtmf_sip_info_received_as_the_responder_says(responder: Responder) -> None:
    require_lab("tcpdump", root=True)
    run = run_probe(
        "call",
        responder.uri(),
        "--duration",
        "3",
        "--dtmf",
        "42",
        "--dtmf-method",
        "sip-info",
        "--no-history",
    )
    assert run.returncode == 0, run.report["verdict"]
    dtmf = run.report["calls"][0]["dtmf"]
    assert (dtmf["method"], dtmf["send_error"], dtmf["received"], dtmf["matched"]) == (
        "sip-info",
        None,
        "42",
        True,
    )
    assert (dtmf["received_method"], dtmf["far_end_received"]) == ("sip-info", "42")
    infos = [m for m in run.report["sip"] if m["method"] == "INFO"]
    signals = [re.findall(r"Signal=(\S+)", m["text"]) for m in infos if m["direction"] == "tx"]
    assert signals == [["4"], ["2"]]
    assert [m["status_code"] for m in infos if m["direction"] == "rx"] == [200, 200]


def test_probe_dtmf_to_sipp_without_telephone_event_is_not_sent(
    sipp_uas: Callable[..., SippUas],
) -> None:
    require_lab("tcpdump", root=True)
    uas = sipp_uas("echo")  # answers PCMU alone: no telephone-event to send RFC 4733 with
    run = run_probe(
        "call",
        uas.uri(),
        "--duration",
        "3",
        "--dtmf",
        "159#",
        "--no-history",
        "--expect-dscp",
        "none",
    )
    assert run.returncode == 1  # WARNING: the call itself is clean
    dtmf = run.report["calls"][0]["dtmf"]
    assert dtmf["send_error"] == "Remote does not support RFC 2833 (PJMEDIA_RTP_EREMNORFC2833)"
    assert (dtmf["matched"], dtmf["sent_digits"], dtmf["far_end_received"]) == (False, [], None)
    (finding,) = [f for f in run.report["verdict"]["findings"] if f["code"].startswith("dtmf")]
    assert (finding["code"], finding["severity"], finding["side"]) == (
        "dtmf-not-sent",
        "warning",
        "unknown",
    )


def _inband_digits_back(dtmf: dict) -> None:  # type: ignore[type-arg]
    assert dtmf["sent"] == "159#" and dtmf["method"] == "inband"
    assert (dtmf["received"], dtmf["received_method"], dtmf["matched"]) == ("159#", "inband", True)
    assert dtmf["inband_received"] == "159#" and dtmf["send_error"] is None
    # pjmedia's tones leave the probe and come back 160 ms long, to the detector's 12.75 ms hop
    for digits in (dtmf["sent_digits"], dtmf["received_digits"]):
        assert "".join(d["digit"] for d in digits) == "159#"
        assert all(abs(d["duration_ms"] - 160) < 12.75 for d in digits), digits
    gaps = [b["start_s"] - a["start_s"] for a, b in pairwise(dtmf["received_digits"])]
    assert all(0.23 <= gap <= 0.27 for gap in gaps), gaps  # 160 ms tone + 90 ms pause


def test_probe_dtmf_inband_detected_in_the_echo_and_by_the_responder(
    responder: Responder,
) -> None:
    require_lab("tcpdump", root=True)
    run = run_probe(
        "call",
        responder.uri(),
        "--duration",
        "3",
        "--dtmf",
        "159#",
        "--dtmf-method",
        "inband",
        "--no-history",
    )
    assert run.returncode == 0, run.report["verdict"]
    dtmf = run.report["calls"][0]["dtmf"]
    _inband_digits_back(dtmf)
    assert dtmf["far_end_received"] == "159#"  # the responder's own detector, X-Sipprobe-Dtmf
    # The reference speech around the digits was not taken for any (both ends looked).
    assert not run.report["verdict"]["findings"]
    assert run.report["calls"][0]["listening"]["mos_lqo"] > 4.0


def test_probe_dtmf_inband_comes_back_from_sipp_rtp_echo(
    sipp_uas: Callable[..., SippUas],
) -> None:
    require_lab("tcpdump", root=True)
    uas = sipp_uas("echo")  # no telephone-event: in-band is what such a far end can carry
    run = run_probe(
        "call",
        uas.uri(),
        "--duration",
        "3",
        "--dtmf",
        "159#",
        "--dtmf-method",
        "inband",
        "--no-history",
        "--expect-dscp",
        "none",
    )
    assert run.returncode == 0, run.report["verdict"]
    dtmf = run.report["calls"][0]["dtmf"]
    _inband_digits_back(dtmf)
    assert dtmf["far_end_received"] is None  # SIPp says nothing of what it received


def test_probe_dtmf_rfc4733_and_speech_detect_no_tones(responder: Responder) -> None:
    """RFC 4733 digits leave no tone in the audio: the speech alone must give no in-band
    digit, at the probe (capture) nor at the responder (its header names no inband)."""
    require_lab("tcpdump", root=True)
    run = run_probe("call", responder.uri(), "--duration", "4", "--dtmf", "7", "--no-history")
    assert run.returncode == 0, run.report["verdict"]
    dtmf = run.report["calls"][0]["dtmf"]
    assert (dtmf["received_method"], dtmf["inband_received"]) == ("rfc4733", "")
    bye_ok = [
        m
        for m in run.report["sip"]
        if m["direction"] == "rx" and m["method"] == "BYE" and m["status_code"] == 200
    ]
    assert [re.findall(r"X-Sipprobe-Dtmf: (.*)", m["text"]) for m in bye_ok] == [["rfc4733=7"]]


def test_probe_dtmf_hold_and_timer_in_8_parallel_calls_through_call_workers(
    responder: Responder,
) -> None:
    """Beyond 4 calls the call workers do what each call of the step does: each of 8 calls'
    digits come back in its own echo and the responder heard them in each; each call is held
    (inactive: both directions stop and resume) and asks for a 90 s session timer."""
    require_lab("tcpdump", root=True)
    run = run_probe(
        "call", responder.uri(), "--calls", "8", "--duration", "7", "--dtmf", "12",
        "--dtmf-method", "inband", "--hold-s", "2", "--hold-mode", "inactive",
        "--session-expires", "90", "--no-history",
    )  # fmt: skip
    assert run.returncode == 0, run.report["verdict"]
    calls = run.report["calls"]
    assert len(calls) == 8 and len({c["call_id"] for c in calls}) == 8
    for call in calls:
        dtmf = call["dtmf"]
        assert (dtmf["sent"], dtmf["received"], dtmf["received_method"]) == ("12", "12", "inband")
        assert (dtmf["far_end_received"], dtmf["matched"]) == ("12", True)
        hold = call["hold"]
        assert [(r["offered"], r["answered"]) for r in hold["reinvites"]] == [
            ("inactive", "inactive"),
            ("sendrecv", "sendrecv"),
        ]
        assert [(m["stopped"], m["resumed"]) for m in hold["media"]] == [(True, True)] * 2
        timer = call["session_timer"]
        assert (timer["offered_s"], timer["answered_s"], timer["refresher"]) == (90, 90, "uac")
