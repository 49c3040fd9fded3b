"""A call's 200 OK from a sipprobe responder: the declared RTP marking, the INVITE as it
arrived against the INVITE sent (one `sip-alg` finding per call), and its side."""

import base64
from dataclasses import replace

from media_samples import call_detail
from test_verdict_media import CALL

from sipprobe.model.demarc import Location, default_equipment
from sipprobe.model.nat import CallAlgCheck, Rewrite
from sipprobe.model.results import Finding, Severity, Side, SipEvent, StepResult
from sipprobe.nat.answer import answered_invite, with_far_end_answer
from sipprobe.nat.diff import diff_as_received
from sipprobe.nat.findings import call_alg_findings
from sipprobe.responder.wire import received_lines
from sipprobe.verdict.attribution import attribute
from sipprobe.verdict.policy import decide

PRIVATE, PUBLIC = "192.168.1.20", "203.0.113.7"
INVITE = (
    "INVITE sip:echo@198.51.100.5:5060 SIP/2.0\r\n"
    f"Via: SIP/2.0/UDP {PRIVATE}:5062;rport;branch=z9hG4bKabc\r\n"
    "Max-Forwards: 70\r\n"
    f"From: <sip:sipprobe@{PRIVATE}>;tag=1\r\n"
    "To: <sip:echo@198.51.100.5>\r\n"
    f"Contact: <sip:sipprobe@{PRIVATE}:5062;ob>\r\n"
    "Call-ID: c\r\n"
    "CSeq: 7 INVITE\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 99\r\n\r\n"
    f"v=0\r\no=- 1 2 IN IP4 {PRIVATE}\r\ns=pjmedia\r\nc=IN IP4 {PRIVATE}\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
# What the kernel's SIP ALG makes of it on the customer's router.
REWRITTEN = INVITE.replace(f"{PRIVATE}:5062", f"{PUBLIC}:5062").replace(
    f"IN IP4 {PRIVATE}", f"IN IP4 {PUBLIC}"
)


def _event(index: int, direction: str, text: str, status: int | None = None) -> SipEvent:
    return SipEvent(
        index=index,
        t_s=float(index),
        direction="rx" if direction == "rx" else "tx",
        transport="UDP",
        peer="198.51.100.5:5060",
        first_line=text.split("\r\n", 1)[0],
        method="INVITE",
        status_code=status,
        call_id="c",
        cseq=7,
        text=text.replace("\r\n", "\n").rstrip("\n"),  # as the timeline keeps it
    )


def _ok(arrived: str | None, source: str = f"{PUBLIC}:5062", dscp: str | None = "46") -> str:
    lines = ["SIP/2.0 200 OK", "Call-ID: c", "CSeq: 7 INVITE"]
    if dscp is not None:
        lines.append(f"X-Sipprobe-Rtp-Dscp: {dscp}")
    if arrived is not None:
        lines.append(f"X-Sipprobe-Received: {received_lines(arrived.encode())}")
        lines.append(f"X-Sipprobe-Source: {source}")
    return "\r\n".join([*lines, "Content-Length: 0", "", ""])


def _answered(arrived: str | None, **ok: str | None) -> list[SipEvent]:
    trying = "SIP/2.0 100 Trying\r\nCall-ID: c\r\nCSeq: 7 INVITE\r\n\r\n"
    return [
        _event(3, "tx", INVITE),
        _event(4, "rx", trying, 100),
        _event(5, "rx", _ok(arrived, **ok), 200),
    ]


def test_diff_as_received_alg_rewrites_exactly() -> None:
    rewrites, proxies = diff_as_received(
        INVITE, base64.b64decode(received_lines(REWRITTEN.encode())).decode()
    )
    assert proxies == ()
    assert rewrites == (
        Rewrite(
            "Via",
            f"SIP/2.0/UDP {PRIVATE}:5062;rport;branch=z9hG4bKabc",
            f"SIP/2.0/UDP {PUBLIC}:5062;rport;branch=z9hG4bKabc",
        ),
        Rewrite("Contact", f"<sip:sipprobe@{PRIVATE}:5062;ob>", f"<sip:sipprobe@{PUBLIC}:5062;ob>"),
        Rewrite("SDP o=", f"o=- 1 2 IN IP4 {PRIVATE}", f"o=- 1 2 IN IP4 {PUBLIC}"),
        Rewrite("SDP c=", f"c=IN IP4 {PRIVATE}", f"c=IN IP4 {PUBLIC}"),
    )


def test_diff_as_received_untouched_and_behind_a_proxy_is_empty() -> None:
    lines = base64.b64decode(received_lines(INVITE.encode())).decode()
    assert diff_as_received(INVITE, lines) == ((), ())
    # a proxy puts its Via on top and notes where the probe's request came from in the
    # probe's own Via (received, rport value): neither is a rewrite; compact names read too
    proxy = "SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKp"
    proxied = (
        INVITE.replace("Via: SIP", f"v: {proxy}\r\nVia: SIP")
        .replace(";rport;", f";rport=1030;received={PUBLIC};")
        .replace("Contact:", "m:")
    )
    received = base64.b64decode(received_lines(proxied.encode())).decode()
    assert diff_as_received(INVITE, received) == ((), (proxy,))


def test_answered_invite_pairs_the_2xx_with_its_invite_by_cseq() -> None:
    events = _answered(REWRITTEN)
    assert answered_invite(events) == (events[0], events[2])
    assert answered_invite(events[:2]) is None
    other = replace(events[0], cseq=6)  # the challenged first INVITE, not the answered one
    assert answered_invite([other, events[2]]) is None


def test_with_far_end_answer_reads_marking_and_alg_check() -> None:
    call = with_far_end_answer(CALL, _answered(REWRITTEN))
    assert call.far_end_dscp == 46
    assert call.sip_alg is not None
    assert call.sip_alg.seen_from == f"{PUBLIC}:5062"
    assert call.sip_alg.public_address == PUBLIC
    assert call.sip_alg.evidence == (3, 5)
    assert [r.part for r in call.sip_alg.rewrites] == ["Via", "Contact", "SDP o=", "SDP c="]
    clean = with_far_end_answer(CALL, _answered(INVITE))
    assert clean.sip_alg is not None and clean.sip_alg.rewrites == ()
    assert call_alg_findings(_step(clean)) == []


def test_with_far_end_answer_from_another_far_end_assumes_nothing() -> None:
    call = with_far_end_answer(CALL, _answered(None, dscp=None))
    assert (call.far_end_dscp, call.sip_alg) == (None, None)
    assert with_far_end_answer(CALL, _answered(None, dscp="64")).far_end_dscp is None
    broken = _answered(REWRITTEN)
    broken[2] = replace(
        broken[2], text=broken[2].text.replace("X-Sipprobe-Received: ", "X-Sipprobe-Received: %")
    )
    check = with_far_end_answer(CALL, broken).sip_alg
    assert check is not None and check.rewrites == ()
    assert check.error is not None and check.error.startswith("x-sipprobe-received could not be")


def test_with_far_end_answer_behind_a_proxy_takes_the_public_address_from_its_via() -> None:
    proxy = "SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKp"
    arrived = REWRITTEN.replace("Via: SIP", f"Via: {proxy}\r\nVia: SIP").replace(
        ";rport;", f";rport=1030;received={PUBLIC};"
    )
    check = with_far_end_answer(CALL, _answered(arrived, source="198.51.100.1:5060")).sip_alg
    assert check is not None
    assert (check.proxies, check.public_address) == ((proxy,), PUBLIC)
    assert [r.part for r in check.rewrites] == ["Via", "Contact", "SDP o=", "SDP c="]


def _step(call: object, index: int = 1) -> StepResult:
    from sipprobe.model.results import CallResult

    assert isinstance(call, CallResult)
    return StepResult(
        index,
        "call",
        "call",
        True,
        200,
        "OK",
        "network",
        {},
        call_detail(),
        call=call,
        events=(3, 4, 5),
    )


def test_call_alg_finding_exact_on_the_customers_router() -> None:
    step = _step(with_far_end_answer(CALL, _answered(REWRITTEN)))
    assert call_alg_findings(step) == [
        Finding(
            Severity.WARNING,
            Side.CUSTOMER_NETWORK,
            "messaging",
            "sip-alg",
            "SIP ALG: 4 lines of the INVITE reached the sipprobe responder other than the "
            f"probe sent them: Via: SIP/2.0/UDP {PRIVATE}:5062;rport;branch=z9hG4bKabc -> "
            f"SIP/2.0/UDP {PUBLIC}:5062;rport;branch=z9hG4bKabc; Contact: "
            f"<sip:sipprobe@{PRIVATE}:5062;ob> -> <sip:sipprobe@{PUBLIC}:5062;ob>; SDP o=: "
            f"o=- 1 2 IN IP4 {PRIVATE} -> o=- 1 2 IN IP4 {PUBLIC}; SDP c=: c=IN IP4 {PRIVATE} "
            f"-> c=IN IP4 {PUBLIC}; the rewritten values carry {PUBLIC}, the address the far "
            "end saw the request come from, so the NAT that owns that address rewrote it: the "
            "customer's router",
            1,
            (3, 5),  # the INVITE sent and the 200 OK that returned it as received
        )
    ]


def test_call_alg_finding_without_the_public_address_names_no_side() -> None:
    # rewritten to an address that is not the one the far end saw: some device, not known
    other = INVITE.replace(f"IN IP4 {PRIVATE}", "IN IP4 198.51.100.77")
    (finding,) = call_alg_findings(_step(with_far_end_answer(CALL, _answered(other))))
    assert (finding.severity, finding.side, finding.code) == (
        Severity.WARNING,
        Side.UNKNOWN,
        "sip-alg",
    )
    assert finding.summary.startswith("SIP ALG: 2 lines of the INVITE reached")
    assert finding.summary.endswith(
        f"do not carry the address the far end saw the request come from ({PUBLIC}), so the "
        "evidence does not say which device on the path rewrote it"
    )
    # a prefix of the public address is not the address
    near = CallAlgCheck(
        PUBLIC,
        "203.0.113.70",
        (),
        (Rewrite("SDP c=", "c=IN IP4 10.0.0.1", f"c=IN IP4 {PUBLIC}"),),
        (),
        None,
    )
    (near_finding,) = call_alg_findings(_step(replace(CALL, sip_alg=near)))
    assert near_finding.side is Side.UNKNOWN


def test_policy_and_attribution_one_sip_alg_finding_per_call() -> None:
    call = with_far_end_answer(replace(CALL, hangup_by="probe"), _answered(REWRITTEN))
    steps = (_step(call, 0),)
    verdict = decide(steps)
    assert [(f.code, f.side, f.evidence) for f in verdict.findings] == [
        ("sip-alg", Side.CUSTOMER_NETWORK, (3, 5))
    ]
    assert verdict.messaging.value == "degraded"
    lan = attribute(
        verdict, steps, "sip-trunk", default_equipment("sip-trunk"), Location.CUSTOMER_LAN
    )
    assert (lan.findings[0].side, lan.findings[0].responsible.value) == (
        Side.CUSTOMER_NETWORK,
        "customer",
    )
    outside = attribute(
        verdict, steps, "sip-trunk", default_equipment("sip-trunk"), Location.INTERNET
    )
    assert (outside.findings[0].side, outside.findings[0].responsible.value) == (
        Side.UNKNOWN,
        "undetermined",
    )
