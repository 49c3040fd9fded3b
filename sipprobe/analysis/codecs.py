"""E-model planning values of a codec (ITU-T G.113 Appendix I, see docs/measurement.md).

The codecs themselves (names, clock rates, static payload types and their planning values)
are the table in ``sipprobe.sip.codecs``; this module turns a row into the E-model's inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipprobe.sip.codecs import CodecInfo

# G.711 without packet-loss concealment is far less robust (Bpl 4.3 instead of 25.1).
_G711 = frozenset({"PCMU", "PCMA"})
_G711_BPL_WITHOUT_PLC = 4.3


@dataclass(frozen=True, slots=True)
class PlanningValues:
    """E-model inputs of one codec: equipment impairment and packet-loss robustness."""

    ie: float
    bpl: float


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
