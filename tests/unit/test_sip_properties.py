"""Property tests of the SIP and SDP readers: any input parses or raises ValueError, in both
modes, and what is written in the expected form is read back field for field."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from sipprobe.sip.message import parse_message
from sipprobe.sip.sdp import DIRECTIONS, parse_sdp
from sipprobe.sip.uri import contact_endpoint

PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1)
HEADER_NAMES = st.sampled_from(["Via", "v", "Call-ID", "i", "Contact", "m", "X-Probe", "Allow"])
HEADER_VALUE = PRINTABLE.map(str.strip).filter(bool)
_CANONICAL = {"v": "Via", "i": "Call-ID", "m": "Contact"}


@given(st.binary(max_size=400), st.booleans())
def test_parse_message_any_bytes_parse_or_raise_value_error(data: bytes, tolerant: bool) -> None:
    try:
        message = parse_message(data, tolerant=tolerant)
    except ValueError:
        return
    message.header("call-id")
    message.header_values("contact")
    message.sdp_body()
    assert message.cseq_number is None or message.cseq_number >= 0


@given(st.text(max_size=400), st.booleans())
def test_parse_message_any_text_parse_or_raise_value_error(text: str, tolerant: bool) -> None:
    with contextlib.suppress(ValueError):
        parse_message(text, tolerant=tolerant)


@given(
    st.binary(max_size=300).map(
        lambda b: b"SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n" + b
    )
)
def test_parse_message_tolerant_reads_any_tail_after_a_status_line(data: bytes) -> None:
    assert parse_message(data, tolerant=True).status_code == 200


@dataclass(frozen=True)
class Written:
    start: str
    headers: list[tuple[str, str]]
    body_lines: list[str]

    def wire(self, padding: bytes = b"") -> bytes:
        body = "\r\n".join(self.body_lines).encode()
        lines = [self.start, *(f"{n}: {v}" for n, v in self.headers)]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body + padding


_REQUEST = st.builds(
    lambda method, uri: f"{method} sip:{uri} SIP/2.0",
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=9),
    TOKEN,
)
_RESPONSE = st.builds(
    lambda code, reason: f"SIP/2.0 {code} {reason}".strip(),
    st.integers(100, 699),
    HEADER_VALUE | st.just(""),
)


@given(
    st.builds(
        Written,
        _REQUEST | _RESPONSE,
        st.lists(st.tuples(HEADER_NAMES, HEADER_VALUE), max_size=8),
        st.lists(PRINTABLE, max_size=5),
    ),
    st.binary(max_size=20),
)
def test_parse_message_round_trip_in_both_modes(written: Written, padding: bytes) -> None:
    strict = parse_message(written.wire().decode())
    tolerant = parse_message(written.wire(padding), tolerant=True)
    body = "\n".join(written.body_lines)
    for message in (strict, tolerant):
        assert message.first_line == written.start
        assert message.body == body
        assert [v for _, v in message.headers[:-1]] == [v for _, v in written.headers]
        for name, _ in written.headers:
            same = [
                v for n, v in written.headers if _CANONICAL.get(n, n) == _CANONICAL.get(name, name)
            ]
            assert message.header(name) == same[0]
        if written.start.startswith("SIP/2.0"):
            assert message.status_code == int(written.start.split()[1])
        else:
            assert message.method == written.start.split()[0]


@given(st.text(max_size=400))
def test_parse_sdp_any_text_strict_parses_or_raises_tolerant_always_parses(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_sdp(text)
    for media in parse_sdp(text, tolerant=True).media:
        media.receive_endpoint()
        media.codec_names()
        assert all(0 <= pt < 128 for pt in media.payload_types)
        assert 0 <= media.port < 65536
        assert media.direction in DIRECTIONS


@dataclass(frozen=True)
class Section:
    media: str
    port: int
    proto: str
    rtpmap: dict[int, tuple[str, int]]
    extra_types: list[int]
    ptime: int | None
    direction: str | None
    crypto: str | None

    def lines(self) -> list[str]:
        pts = [*self.rtpmap, *(pt for pt in self.extra_types if pt not in self.rtpmap)]
        out = [f"m={self.media} {self.port} {self.proto} {' '.join(map(str, pts))}".rstrip()]
        out += [f"a=rtpmap:{pt} {name}/{rate}" for pt, (name, rate) in self.rtpmap.items()]
        out += [f"a=ptime:{self.ptime}"] if self.ptime else []
        out += [f"a={self.direction}"] if self.direction else []
        out += [f"a=crypto:{self.crypto}"] if self.crypto else []
        return out


_SECTION = st.builds(
    Section,
    st.sampled_from(["audio", "video"]),
    st.integers(0, 65535),
    st.sampled_from(["RTP/AVP", "RTP/SAVP", "RTP/SAVPF"]),
    st.dictionaries(st.integers(0, 127), st.tuples(TOKEN, st.integers(1, 10**7 - 1)), max_size=4),
    st.lists(st.integers(0, 127), max_size=4),
    st.none() | st.integers(1, 999),
    st.none() | st.sampled_from(DIRECTIONS),
    st.none() | TOKEN,
)


@given(st.ip_addresses(), st.lists(_SECTION, max_size=4), st.booleans())
def test_parse_sdp_round_trip_in_both_modes(
    address: object, sections: list[Section], lf: bool
) -> None:
    family = "IP6" if ":" in str(address) else "IP4"
    lines = ["v=0", f"o=- 1 1 IN {family} {address}", "s=-", f"c=IN {family} {address}", "t=0 0"]
    for section in sections:
        lines += section.lines()
    text = ("\n" if lf else "\r\n").join(lines) + "\r\n"
    for tolerant in (False, True):
        sdp = parse_sdp(text, tolerant=tolerant)
        assert (sdp.origin_address, sdp.connection) == (str(address), str(address))
        assert len(sdp.media) == len(sections)
        for read, section in zip(sdp.media, sections, strict=True):
            assert (read.media, read.port, read.proto) == (
                section.media,
                section.port,
                section.proto,
            )
            assert set(read.payload_types) == {*section.rtpmap, *section.extra_types}
            assert {m.payload_type: (m.name, m.clock_rate) for m in read.rtpmap} == section.rtpmap
            assert read.ptime_ms == (float(section.ptime) if section.ptime else None)
            assert read.direction == (section.direction or "sendrecv")
            assert read.crypto == ((section.crypto,) if section.crypto else ())
            assert read.secure == ("SAVP" in section.proto)
            assert read.connection == str(address)


@given(st.text(max_size=200))
def test_contact_endpoint_any_text_is_an_endpoint_or_none(text: str) -> None:
    found = contact_endpoint(text)
    assert found is None or (found.port is not None and 0 < found.port < 65536)
