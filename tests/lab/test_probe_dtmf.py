"""DTMF sent in real calls: RFC 4733 events through the responder's reflector and SIPp's echo."""

from lab.environment import require_lab
from lab.probe import run_probe
from lab.responder import Responder


def test_probe_dtmf_rfc4733_comes_back_from_the_responder(responder: Responder) -> None:
    require_lab("tcpdump", root=True)
    run = run_probe("call", responder.uri(), "--duration", "3", "--dtmf", "159#", "--no-history")
    assert run.returncode == 0, run.report["verdict"]
    dtmf = run.report["calls"][0]["dtmf"]
    assert dtmf["sent"] == "159#" and dtmf["method"] == "rfc4733"
    assert dtmf["received"] == "159#"
    assert dtmf["received_method"] == "rfc4733"
    assert dtmf["matched"] is True and dtmf["send_error"] is None
    assert "".join(d["digit"] for d in dtmf["sent_digits"]) == "159#"
    # pjmedia sends each digit for the requested 160 ms; the reflector keeps the durations
    assert [d["duration_ms"] for d in dtmf["received_digits"]] == [
        d["duration_ms"] for d in dtmf["sent_digits"]
    ]
    assert all(d["ended"] and d["duration_ms"] == 160.0 for d in dtmf["received_digits"])
    assert not [f for f in run.report["verdict"]["findings"] if f["code"] == "dtmf-mismatch"]
