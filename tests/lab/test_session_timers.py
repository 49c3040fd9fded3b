"""Session timers (RFC 4028) in a real call: the probe asks the responder for 90 s, the
responder answers 90 s with the probe as refresher, and the probe refreshes at half the
interval; a SIPp UAS that ignores the timers is information, not a fault. Read from the
report, which reads the SIP messages, not the SIP stack's word."""

from collections.abc import Callable

from lab.environment import require_lab
from lab.probe import run_probe
from lab.responder import Responder
from lab.sipp import SippUas


def test_session_timer_90_s_refreshed_by_the_probe_at_45_s(responder: Responder) -> None:
    require_lab()
    run = run_probe(
        "call",
        responder.uri(),
        *("--duration", "50", "--session-expires", "90", "--no-capture", "--no-history"),
    )
    assert run.returncode == 0, run.report["verdict"]
    timer = run.report["calls"][0]["session_timer"]
    assert (timer["requested_s"], timer["min_se_s"]) == (90, 90)
    assert (timer["offered_s"], timer["offered_min_se_s"], timer["offered_supported"]) == (
        90,
        90,
        True,
    )
    assert (timer["rejected_min_se_s"], timer["retried_s"]) == (None, None)
    assert (timer["answered_s"], timer["refresher"], timer["required"]) == (90, "uac", True)
    (refresh,) = timer["refreshes"]
    # pjsip refreshes at half the interval, with UPDATE since the responder allows it
    assert (refresh["by"], refresh["method"], refresh["status_code"]) == ("probe", "UPDATE", 200)
    assert 44.0 <= refresh["at_s"] <= 46.5
    assert refresh["session_expires_s"] == 90
    assert timer["expired_after_s"] is None
    assert not run.report["verdict"]["findings"]


def test_session_timer_ignored_by_sipp_is_information_not_a_fault(
    sipp_uas: Callable[..., SippUas],
) -> None:
    require_lab()
    uas = sipp_uas("echo")  # its 200 OK has no Session-Expires: it does not use the extension
    run = run_probe(
        "call",
        uas.uri(),
        *("--duration", "3", "--session-expires", "90", "--no-capture", "--no-history"),
    )
    assert run.returncode == 0, run.report["verdict"]
    timer = run.report["calls"][0]["session_timer"]
    assert (timer["requested_s"], timer["offered_s"], timer["offered_supported"]) == (90, 90, True)
    assert (timer["answered_s"], timer["refresher"], timer["required"]) == (None, None, False)
    assert timer["refreshes"] == [] and timer["expired_after_s"] is None
    assert not run.report["verdict"]["findings"]


def test_session_expired_when_the_far_end_refresher_never_refreshes(
    sipp_uas: Callable[..., SippUas],
) -> None:
    require_lab("tcpdump", root=True)  # the capture: pjmedia's figures end with the call
    uas = sipp_uas("no-refresh")  # its 200 OK: Session-Expires: 90;refresher=uas, no refresh
    run = run_probe(
        "call", uas.uri(), *("--duration", "75", "--session-expires", "90", "--no-history")
    )
    assert run.returncode == 2, run.report["verdict"]
    call = run.report["calls"][0]
    timer = call["session_timer"]
    assert (timer["answered_s"], timer["refresher"], timer["required"]) == (90, "uas", True)
    assert timer["refreshes"] == []
    # The probe's stack, which does not refresh, gave up at 90 - min(32, 30) = 60 s.
    assert 59.0 <= timer["expired_after_s"] <= 61.5
    assert call["hangup_by"] == "probe"
    findings = run.report["verdict"]["findings"]
    found = [(f["code"], f["severity"], f["side"]) for f in findings if f["severity"] != "info"]
    assert found == [("session-expired", "critical", "platform")]  # not call-ended-locally
