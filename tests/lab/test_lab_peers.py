"""The lab peers behave as documented, checked with raw sockets and SIPp only (no sipprobe)."""

import socket
import ssl
import time
from collections.abc import Callable

import pytest

from lab.digest import authorization
from lab.environment import require_lab
from lab.kamailio import Kamailio
from lab.sipclient import SipClient
from lab.sipmsg import SipRequest, SipResponse, ack_for, cancel_for, in_dialog, new_request
from lab.sipp import SippRun, SippUas

pytestmark = pytest.mark.lab

KamailioFactory = Callable[..., Kamailio]
SippUasFactory = Callable[..., SippUas]
SippUacRunner = Callable[..., SippRun]


def _sdp(host: str, rtp_port: int) -> str:
    return (
        f"v=0\r\no=lab 1 1 IN IP4 {host}\r\ns=lab\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )


def _options(client: SipClient, uri: str) -> SipRequest:
    host = client.peer[0]
    return new_request(
        "OPTIONS",
        uri,
        transport=client.transport,
        local=client.local,
        from_uri="sip:probe@127.0.0.1",
        to_uri=f"sip:{host}" if ":" not in host else f"sip:[{host}]",
    )


def _invite(client: SipClient, uri: str, *, from_uri: str = "sip:probe@127.0.0.1") -> SipRequest:
    host, port = client.local
    return new_request(
        "INVITE",
        uri,
        transport=client.transport,
        local=client.local,
        from_uri=from_uri,
        to_uri=uri.split(";", maxsplit=1)[0],
        extra=(("Contact", f"<sip:probe@{host}:{port}>"), ("Content-Type", "application/sdp")),
        body=_sdp(host, 40000),
    )


def _register(client: SipClient, kamailio: Kamailio, password: str) -> list[SipResponse]:
    """REGISTER the test user, answering one challenge; all final responses in order."""
    host, port = client.local
    request = new_request(
        "REGISTER",
        f"sip:{kamailio.domain}",
        transport=client.transport,
        local=client.local,
        from_uri=kamailio.aor(),
        to_uri=kamailio.aor(),
        extra=(("Contact", f"<sip:{kamailio.user}@{host}:{port}>"), ("Expires", "60")),
    )
    challenge = client.transaction(request)[-1]
    assert challenge.status == 401
    answer = request.next_transaction().with_header(
        "Authorization",
        authorization(
            challenge.header("WWW-Authenticate") or "",
            method="REGISTER",
            uri=request.uri,
            user=kamailio.user,
            password=password,
        ),
    )
    return [challenge, client.transaction(answer)[-1]]


def _statuses(responses: list[SipResponse]) -> list[int]:
    return [response.status for response in responses]


def test_kamailio_options_udp_200_with_server_header(kamailio: Kamailio) -> None:
    with SipClient("udp", kamailio.address("udp")) as client:
        responses = client.transaction(_options(client, kamailio.uri("udp")))
    assert _statuses(responses) == [200]
    assert responses[0].header("Server") == "kamailio (sipprobe lab)"


def test_kamailio_options_tcp_200(kamailio: Kamailio) -> None:
    with SipClient("tcp", kamailio.address("tcp")) as client:
        responses = client.transaction(_options(client, kamailio.uri("tcp")))
    assert _statuses(responses) == [200]


def test_kamailio_options_tls_verified_against_ca_200(kamailio: Kamailio) -> None:
    context = ssl.create_default_context(cafile=str(kamailio.ca_file))
    with SipClient("tls", kamailio.address("tls"), ssl_context=context) as client:
        responses = client.transaction(_options(client, kamailio.uri("tls")))
    assert _statuses(responses) == [200]


def test_kamailio_tls_rejected_without_lab_ca(kamailio: Kamailio) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        SipClient("tls", kamailio.address("tls"), ssl_context=ssl.create_default_context())


def test_kamailio_options_udp6_200(kamailio: Kamailio) -> None:
    require_lab(ipv6=True)
    assert kamailio.udp6_port is not None
    with SipClient("udp", ("::1", kamailio.udp6_port), local_host="::1") as client:
        responses = client.transaction(_options(client, f"sip:[::1]:{kamailio.udp6_port}"))
    assert _statuses(responses) == [200]


def test_kamailio_register_digest_200_echoes_contact(kamailio: Kamailio) -> None:
    with SipClient("udp", kamailio.address()) as client:
        challenge, final = _register(client, kamailio, kamailio.password)
        contact = f"sip:{kamailio.user}@127.0.0.1:{client.local[1]}"
    assert 'qop="auth"' in (challenge.header("WWW-Authenticate") or "")
    assert final.status == 200
    assert (final.header("Contact") or "").startswith(f"<{contact}>;expires=")


def test_kamailio_register_wrong_password_401_again(kamailio: Kamailio) -> None:
    with SipClient("udp", kamailio.address()) as client:
        _, final = _register(client, kamailio, "wrong-" + kamailio.password)
    assert final.status == 401
    assert final.header("WWW-Authenticate")


def test_kamailio_register_wrong_password_403_when_rejecting(
    kamailio_factory: KamailioFactory,
) -> None:
    kamailio = kamailio_factory(reject_bad_auth=True, password="s3cret")
    with SipClient("udp", kamailio.address()) as client:
        _, final = _register(client, kamailio, "not-s3cret")
    assert final.status == 403


def test_kamailio_invite_unknown_user_404(kamailio: Kamailio) -> None:
    with SipClient("udp", kamailio.address()) as client:
        responses = client.transaction(_invite(client, kamailio.aor("nobody")))
    assert _statuses(responses) == [404]


def test_kamailio_invite_registered_aor_reaches_contact(
    kamailio: Kamailio, sipp_uas: SippUasFactory
) -> None:
    busy = sipp_uas("busy")
    with SipClient("udp", kamailio.address()) as registrar_client:
        request = new_request(
            "REGISTER",
            f"sip:{kamailio.domain}",
            transport="udp",
            local=registrar_client.local,
            from_uri=kamailio.aor(),
            to_uri=kamailio.aor(),
            extra=(("Contact", f"<{busy.uri(kamailio.user)}>"), ("Expires", "60")),
        )
        challenge = registrar_client.transaction(request)[-1]
        answer = request.next_transaction().with_header(
            "Authorization",
            authorization(
                challenge.header("WWW-Authenticate") or "",
                method="REGISTER",
                uri=request.uri,
                user=kamailio.user,
                password=kamailio.password,
            ),
        )
        assert registrar_client.transaction(answer)[-1].status == 200
    with SipClient("udp", kamailio.address()) as client:
        invite = _invite(client, kamailio.aor())
        responses = client.transaction(invite)
        client.send(ack_for(invite, responses[-1]))
    assert _statuses(responses) == [100, 486]


def test_kamailio_invite_auth_407_then_relayed(
    kamailio_factory: KamailioFactory, sipp_uas: SippUasFactory
) -> None:
    busy = sipp_uas("busy")
    kamailio = kamailio_factory(uas=busy.address, invite_auth=True)
    with SipClient("udp", kamailio.address()) as client:
        invite = _invite(client, kamailio.uri("udp", "uas"), from_uri=kamailio.aor())
        challenge = client.transaction(invite)
        client.send(ack_for(invite, challenge[-1]))
        retry = invite.next_transaction().with_header(
            "Proxy-Authorization",
            authorization(
                challenge[-1].header("Proxy-Authenticate") or "",
                method="INVITE",
                uri=invite.uri,
                user=kamailio.user,
                password=kamailio.password,
            ),
        )
        responses = client.transaction(retry)
        client.send(ack_for(retry, responses[-1]))
    assert _statuses(challenge) == [407]
    assert _statuses(responses) == [100, 486]


def test_kamailio_without_uas_answers_404(kamailio: Kamailio) -> None:
    with SipClient("udp", kamailio.address()) as client:
        responses = client.transaction(_invite(client, kamailio.uri("udp", "uas")))
    assert _statuses(responses) == [404]
    assert responses[0].reason == "No UAS"


def test_sipp_busy_answers_100_486(sipp_uas: SippUasFactory) -> None:
    busy = sipp_uas("busy")
    with SipClient("udp", busy.address) as client:
        invite = _invite(client, busy.uri())
        responses = client.transaction(invite)
        client.send(ack_for(invite, responses[-1]))
    assert [(r.status, r.reason) for r in responses] == [(100, "Trying"), (486, "Busy Here")]


def test_sipp_silent_sends_nothing_within_1s(sipp_uas: SippUasFactory) -> None:
    silent = sipp_uas("silent")
    with SipClient("udp", silent.address) as client:
        responses = client.transaction(_invite(client, silent.uri()), timeout=1.0)
    assert responses == []


def test_sipp_silent_behind_kamailio_gets_408(
    kamailio_factory: KamailioFactory, sipp_uas: SippUasFactory
) -> None:
    silent = sipp_uas("silent")
    kamailio = kamailio_factory(uas=silent.address, fr_timer_ms=1000)
    with SipClient("udp", kamailio.address()) as client:
        invite = _invite(client, kamailio.uri("udp", "uas"))
        responses = client.transaction(invite, timeout=5.0)
        client.send(ack_for(invite, responses[-1]))
    assert _statuses(responses) == [100, 408]


def test_sipp_auth_challenges_then_answers_right_credentials(sipp_uas: SippUasFactory) -> None:
    uas = sipp_uas("auth", password="pa55")
    with SipClient("udp", uas.address) as client:
        invite = _invite(client, uas.uri())
        challenge = client.transaction(invite)
        client.send(ack_for(invite, challenge[-1]))
        retry = invite.next_transaction().with_header(
            "Authorization",
            authorization(
                challenge[-1].header("WWW-Authenticate") or "",
                method="INVITE",
                uri=invite.uri,
                user=uas.user,
                password="pa55",
            ),
        )
        answer = client.transaction(retry)[-1]
        client.send(in_dialog("ACK", retry, answer))
        bye = client.transaction(in_dialog("BYE", retry, answer))
    assert _statuses(challenge) == [401]
    assert answer.status == 200
    assert "m=audio" in answer.body
    assert _statuses(bye) == [200]


def test_sipp_auth_wrong_password_403(sipp_uas: SippUasFactory) -> None:
    uas = sipp_uas("auth", password="pa55")
    with SipClient("udp", uas.address) as client:
        invite = _invite(client, uas.uri())
        challenge = client.transaction(invite)[-1]
        client.send(ack_for(invite, challenge))
        retry = invite.next_transaction().with_header(
            "Authorization",
            authorization(
                challenge.header("WWW-Authenticate") or "",
                method="INVITE",
                uri=invite.uri,
                user=uas.user,
                password="wrong",
            ),
        )
        responses = client.transaction(retry)
        client.send(ack_for(retry, responses[-1]))
    assert _statuses(responses) == [403]


def test_sipp_ring_rings_then_answers(sipp_uas: SippUasFactory) -> None:
    uas = sipp_uas("ring", ring_ms=300)
    with SipClient("udp", uas.address) as client:
        invite = _invite(client, uas.uri())
        started = time.monotonic()
        responses = client.transaction(invite)
        answered_s = time.monotonic() - started
        client.send(in_dialog("ACK", invite, responses[-1]))
        bye = client.transaction(in_dialog("BYE", invite, responses[-1]))
    assert _statuses(responses) == [100, 180, 200]
    assert 0.3 <= answered_s < 2.0
    assert "m=audio" in responses[-1].body
    assert _statuses(bye) == [200]


def test_sipp_ring_cancel_behind_kamailio_gets_487(
    kamailio_factory: KamailioFactory, sipp_uas: SippUasFactory
) -> None:
    uas = sipp_uas("ring", ring_ms=10000)
    kamailio = kamailio_factory(uas=uas.address)
    with SipClient("udp", kamailio.address()) as client:
        invite = _invite(client, kamailio.uri("udp", "uas"))
        provisional = client.transaction(invite, timeout=1.0)
        client.send(cancel_for(invite))
        finals = {}
        while len(finals) < 2 and (response := client.receive(2.0)) is not None:
            finals[response.header("CSeq")] = response
        client.send(ack_for(invite, finals["1 INVITE"]))
    assert _statuses(provisional) == [100, 180]
    assert finals["1 CANCEL"].status == 200
    assert finals["1 INVITE"].status == 487
    assert len(finals["1 INVITE"].header_all("Via")) == 1


def test_sipp_echo_call_through_kamailio_with_sipp_uac(
    kamailio_factory: KamailioFactory, sipp_uas: SippUasFactory, sipp_uac: SippUacRunner
) -> None:
    echo = sipp_uas("echo")
    kamailio = kamailio_factory(uas=echo.address)
    run = sipp_uac(kamailio.address(), calls=2, call_length_ms=200)
    assert run.returncode == 0
    messages = run.message_log.read_text()
    assert messages.count("SIP/2.0 200 OK") >= 4
    assert "Record-Route:" in messages


def test_sipp_echo_returns_rtp_on_media_port(sipp_uas: SippUasFactory) -> None:
    echo = sipp_uas("echo")
    packet = bytes([0x80, 0x00, 0x00, 0x01]) + bytes(8) + bytes(160)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtp:
        rtp.bind(("127.0.0.1", 0))
        rtp.settimeout(2.0)
        rtp.sendto(packet, (echo.host, echo.media_port))
        echoed, source = rtp.recvfrom(2048)
    assert echoed == packet
    assert source == (echo.host, echo.media_port)


def test_sipp_busy_over_tcp_behind_kamailio_486(
    kamailio_factory: KamailioFactory, sipp_uas: SippUasFactory
) -> None:
    busy = sipp_uas("busy", transport="tcp")
    kamailio = kamailio_factory(uas=busy.address, uas_transport="tcp")
    with SipClient("tcp", kamailio.address("tcp")) as client:
        invite = _invite(client, kamailio.uri("tcp", "uas"))
        responses = client.transaction(invite)
        client.send(ack_for(invite, responses[-1]))
    assert _statuses(responses) == [100, 486]


def test_kamailio_tls_caller_full_dialog_with_udp_uas(
    kamailio_factory: KamailioFactory, sipp_uas: SippUasFactory
) -> None:
    uas = sipp_uas("ring", ring_ms=100)
    kamailio = kamailio_factory(uas=uas.address)
    context = ssl.create_default_context(cafile=str(kamailio.ca_file))
    with SipClient("tls", kamailio.address("tls"), ssl_context=context) as client:
        invite = _invite(client, kamailio.uri("tls", "uas"))
        responses = client.transaction(invite)
        answer = responses[-1]
        client.send(in_dialog("ACK", invite, answer))
        bye = client.transaction(in_dialog("BYE", invite, answer))
    assert _statuses(responses) == [100, 180, 200]
    # Double Record-Route, one entry per side of the UDP <- TLS hop (SIPp joins them in one line).
    routes = [route for value in answer.header_all("Record-Route") for route in value.split(",")]
    assert [";transport=tls" in route for route in routes] == [False, True]
    assert _statuses(bye) == [200]
