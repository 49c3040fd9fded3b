"""The one payload-type and codec table: RTP clock rate, packetisation and E-model planning values.

The clock rate turns RTP timestamps into time, so jitter in milliseconds and the de-jitter
buffer depend on it. The planning values (equipment impairment ``Ie`` and packet-loss
robustness ``Bpl``, ITU-T G.113 Appendix I as quoted in docs/measurement.md) are part of each
codec's row so that a codec is described in one place; the E-model that uses them lives in
``sipprobe.analysis.codecs``. A codec without a published value gets ``None``: a borrowed
number would make MOS look precise when it is not.

Names follow the SDP ``a=rtpmap`` encoding names (case-insensitive, RFC 4855); static payload
types follow RFC 3551, Table 4. The SDP reader (``sipprobe.sip.sdp``), the signalling's list
of offered codecs and the capture analysis all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodecInfo:
    """One payload format: its SDP name, RTP clock rate, E-model values and packetisation.

    ``ptime_ms`` is the default packetisation interval (RFC 3551 section 4.5, or ``a=ptime``
    when the caller knows it); the analysis prefers the interval it measures on the stream.
    """

    name: str
    clock_rate: int
    ie: float | None
    bpl: float | None
    ptime_ms: float | None
    bitrate_bps: int | None = None  # of the payload, for the bandwidth a call needs

    def __post_init__(self) -> None:
        if self.clock_rate <= 0:
            raise ValueError(f"codec {self.name} has a clock rate of {self.clock_rate} Hz")

    @property
    def encoding(self) -> str:
        """``name/clock rate``, as an ``a=rtpmap`` line writes it (``PCMU/8000``)."""
        return f"{self.name}/{self.clock_rate}"


_KNOWN: dict[str, CodecInfo] = {
    codec.name.upper(): codec
    for codec in (
        CodecInfo("PCMU", 8000, 0.0, 25.1, 20.0, 64000),
        CodecInfo("PCMA", 8000, 0.0, 25.1, 20.0, 64000),
        # RTP cannot tell G.729 from G.729A; docs/measurement.md lists G.729A (+VAD) only.
        CodecInfo("G729", 8000, 11.0, 19.0, 20.0, 8000),
        # The header does not say 6.3 or 5.3 kbit/s; 6.3 is the value docs/measurement.md lists.
        CodecInfo("G723", 8000, 15.0, 16.1, 30.0, 6300),
        CodecInfo("GSM-EFR", 8000, 5.0, 10.0, 20.0),
        CodecInfo("GSM", 8000, None, None, 20.0, 13200),
        CodecInfo("G722", 8000, None, None, 20.0, 64000),
        CodecInfo("G728", 8000, None, None, 20.0),
        CodecInfo("iLBC", 8000, None, None, None),
        CodecInfo("speex", 8000, None, None, 20.0),
        CodecInfo("opus", 48000, None, None, 20.0),
        CodecInfo("AMR", 8000, None, None, 20.0),
        CodecInfo("AMR-WB", 16000, None, None, 20.0),
        CodecInfo("CN", 8000, None, None, None),
        CodecInfo("telephone-event", 8000, None, None, None),
    )
}
_KNOWN["G729A"] = _KNOWN["G729"]

# RFC 3551 Table 4 and 5: static payload types (19 is reserved, 20-24 unassigned).
_STATIC: dict[int, CodecInfo] = {
    0: _KNOWN["PCMU"],
    3: _KNOWN["GSM"],
    4: _KNOWN["G723"],
    5: CodecInfo("DVI4", 8000, None, None, 20.0),
    6: CodecInfo("DVI4", 16000, None, None, 20.0),
    7: CodecInfo("LPC", 8000, None, None, 20.0),
    8: _KNOWN["PCMA"],
    9: _KNOWN["G722"],
    10: CodecInfo("L16", 44100, None, None, 20.0),
    11: CodecInfo("L16", 44100, None, None, 20.0),
    12: CodecInfo("QCELP", 8000, None, None, 20.0),
    13: _KNOWN["CN"],
    14: CodecInfo("MPA", 90000, None, None, None),
    15: _KNOWN["G728"],
    16: CodecInfo("DVI4", 11025, None, None, 20.0),
    17: CodecInfo("DVI4", 22050, None, None, 20.0),
    18: _KNOWN["G729"],
    25: CodecInfo("CelB", 90000, None, None, None),
    26: CodecInfo("JPEG", 90000, None, None, None),
    28: CodecInfo("nv", 90000, None, None, None),
    31: CodecInfo("H261", 90000, None, None, None),
    32: CodecInfo("MPV", 90000, None, None, None),
    33: CodecInfo("MP2T", 90000, None, None, None),
    34: CodecInfo("H263", 90000, None, None, None),
}


def codec_for_payload_type(pt: int) -> CodecInfo | None:
    """Return the RFC 3551 static assignment of ``pt``, or ``None`` (dynamic or unassigned)."""
    return _STATIC.get(pt)


def codec_by_name(name: str, clock_rate: int) -> CodecInfo:
    """Return the codec an SDP ``a=rtpmap:<pt> <name>/<clock_rate>`` line describes.

    The clock rate always comes from the rtpmap line (G.722 says 8000 although it samples at
    16 kHz, RFC 3551 section 4.5.2). Unknown names keep their spelling and get no planning
    values.
    """
    known = _KNOWN.get(name.upper())
    if known is None:
        return CodecInfo(name, clock_rate, None, None, None)
    return CodecInfo(known.name, clock_rate, known.ie, known.bpl, known.ptime_ms, known.bitrate_bps)
