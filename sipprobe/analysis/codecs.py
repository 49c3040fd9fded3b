"""Codecs: RTP clock rate and the E-model planning values of each.

The clock rate turns RTP timestamps into time, so jitter in milliseconds and the de-jitter
buffer depend on it. The planning values (equipment impairment ``Ie`` and packet-loss
robustness ``Bpl``, ITU-T G.113 Appendix I; docs/measurement.md, "E-model") feed the E-model. A
codec without a published value gets ``None``: a borrowed number would make MOS look precise
when it is not.

Names follow the SDP ``a=rtpmap`` encoding names (case-insensitive, RFC 4855); static payload
types follow RFC 3551, Table 4.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodecInfo:
    """What the analysis needs to know about a payload format.

    ``ptime_ms`` is the default packetisation interval (RFC 3551 section 4.5, or ``a=ptime``
    when the caller knows it); the analysis prefers the interval it measures on the stream.
    """

    name: str
    clock_rate: int
    ie: float | None
    bpl: float | None
    ptime_ms: float | None

    def __post_init__(self) -> None:
        if self.clock_rate <= 0:
            raise ValueError(f"codec {self.name} has a clock rate of {self.clock_rate} Hz")


@dataclass(frozen=True, slots=True)
class PlanningValues:
    """E-model inputs of one codec: equipment impairment and packet-loss robustness."""

    ie: float
    bpl: float


# G.711 without packet-loss concealment is far less robust (Bpl 4.3 instead of 25.1).
_G711 = frozenset({"PCMU", "PCMA"})
_G711_BPL_WITHOUT_PLC = 4.3

_KNOWN: dict[str, CodecInfo] = {
    codec.name.upper(): codec
    for codec in (
        CodecInfo("PCMU", 8000, 0.0, 25.1, 20.0),
        CodecInfo("PCMA", 8000, 0.0, 25.1, 20.0),
        # RTP cannot tell G.729 from G.729A; G.113 planning values used here: G.729A (+VAD).
        CodecInfo("G729", 8000, 11.0, 19.0, 20.0),
        # The header does not say 6.3 or 5.3 kbit/s; the 6.3 kbit/s planning value is used.
        CodecInfo("G723", 8000, 15.0, 16.1, 30.0),
        CodecInfo("GSM-EFR", 8000, 5.0, 10.0, 20.0),
        CodecInfo("GSM", 8000, None, None, 20.0),
        CodecInfo("G722", 8000, None, None, 20.0),
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
    return CodecInfo(known.name, clock_rate, known.ie, known.bpl, known.ptime_ms)


def planning_values(codec: CodecInfo, *, plc: bool) -> PlanningValues | None:
    """Return ``Ie`` and ``Bpl`` for ``codec``, or ``None`` when no value is published.

    ``plc`` only changes G.711, the one codec whose concealment is optional and for which a
    value without it is published; the others conceal losses by design.
    """
    if codec.ie is None or codec.bpl is None:
        return None
    if codec.name in _G711 and not plc:
        return PlanningValues(codec.ie, _G711_BPL_WITHOUT_PLC)
    return PlanningValues(codec.ie, codec.bpl)


def no_planning_value_reason(codec: CodecInfo) -> str:
    """Say why ``codec`` has no MOS, in a sentence for the report."""
    if codec.name == "G722":
        return "G.722 is wideband: its E-model is G.107.1, which sipprobe does not implement"
    return (
        f"no ITU-T G.113 planning values (Ie, Bpl) for codec {codec.name}: "
        "MOS is not estimated rather than borrowed from another codec"
    )
