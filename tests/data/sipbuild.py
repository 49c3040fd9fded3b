"""SIP messages with SDP bodies and RTCP packets, as bytes, for crafted captures."""

from __future__ import annotations

import struct


def sdp(
    address: str,
    port: int,
    payload_types: tuple[int, ...] = (0,),
    rtpmap: tuple[str, ...] = (),
    ptime_ms: int | None = None,
    *,
    session_level: bool = False,
) -> str:
    family = "IP6" if ":" in address else "IP4"
    connection = f"c=IN {family} {address}\r\n"
    lines = ["v=0\r\n", f"o=- 1 1 IN {family} {address}\r\n", "s=-\r\n"]
    lines += [connection] if session_level else []
    lines += ["t=0 0\r\n", f"m=audio {port} RTP/AVP {' '.join(map(str, payload_types))}\r\n"]
    lines += [] if session_level else [connection]
    lines += [f"a=rtpmap:{entry}\r\n" for entry in rtpmap]
    lines += [f"a=ptime:{ptime_ms}\r\n"] if ptime_ms else []
    return "".join(lines)


def sip(first_line: str, call_id: str, body: str = "", *, compact: bool = False) -> bytes:
    """A SIP message; with ``compact`` the Call-ID and Content-Type use their short names."""
    headers = [
        first_line,
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1",
        "From: <sip:a@example.com>;tag=1",
        "To: <sip:b@example.com>",
        f"{'i' if compact else 'Call-ID'}: {call_id}",
        "CSeq: 1 INVITE",
    ]
    if body:
        headers.append(f"{'c' if compact else 'Content-Type'}: application/sdp")
    headers.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def report_block(
    source: int,
    *,
    fraction: int = 0,
    lost: int = 0,
    highest: int = 0,
    jitter: int = 0,
    lsr: int = 0,
    dlsr: int = 0,
) -> bytes:
    return struct.pack(
        "!IIIIII", source, (fraction << 24) | (lost & 0xFFFFFF), highest, jitter, lsr, dlsr
    )


def rtcp_sr(
    ssrc: int,
    ntp_s: int,
    ntp_frac: int,
    blocks: tuple[bytes, ...] = (),
    *,
    packets: int = 0,
    octets: int = 0,
) -> bytes:
    body = struct.pack("!IIIIII", ssrc, ntp_s, ntp_frac, 0, packets, octets) + b"".join(blocks)
    return struct.pack("!BBH", 0x80 | len(blocks), 200, len(body) // 4) + body


def rtcp_rr(ssrc: int, blocks: tuple[bytes, ...] = ()) -> bytes:
    body = struct.pack("!I", ssrc) + b"".join(blocks)
    return struct.pack("!BBH", 0x80 | len(blocks), 201, len(body) // 4) + body


def rtcp_sdes(ssrc: int, cname: bytes = b"probe") -> bytes:
    chunk = struct.pack("!IBB", ssrc, 1, len(cname)) + cname + b"\0"
    chunk += b"\0" * (-len(chunk) % 4)
    return struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk


def rtcp_xr_voip(ssrc: int, source: int, metrics: bytes = bytes(28)) -> bytes:
    """An XR packet with one VoIP metrics block (RFC 3611 4.7); ``metrics`` after its SSRC."""
    block = struct.pack("!BBHI", 7, 0, 8, source) + metrics
    body = struct.pack("!I", ssrc) + block
    return struct.pack("!BBH", 0x80, 207, len(body) // 4) + body
