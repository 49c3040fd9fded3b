"""The narrowband E-model of ITU-T G.107: rating factor R and its MOS.

``R = Ro - Is - Id - Ie_eff + A``, every term computed with the full G.107 chain rather than
the popular shortcuts (``R = 93.2 - Id - Ie`` with a linear delay term), which drift from the
standard above 300 ms and hide where a number comes from. The intermediate values are part of
the result so a report or a test can show the whole derivation.

Delay enters as docs/measurement.md says: one one-way delay ``Ta``, with the talker-echo path
``T = Ta`` and the listener-echo round trip ``Tr = 2 Ta``. The advantage factor A is 0: a
probe measures the network, not what a user of a particular service would forgive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EModelParameters:
    """G.107 Table 3 defaults (dB, or dBm0p for noise). LSTR already holds Dr: STMR + Dr."""

    slr: float = 8.0
    rlr: float = 2.0
    stmr: float = 15.0
    lstr: float = 18.0
    ds: float = 3.0
    telr: float = 65.0
    wepl: float = 110.0
    qdu: float = 1.0
    nc: float = -70.0
    nfor: float = -64.0
    ps: float = 35.0
    pr: float = 35.0
    a: float = 0.0


DEFAULT_PARAMETERS = EModelParameters()


@dataclass(frozen=True, slots=True)
class EModelResult:
    """R and MOS with the terms they come from (G.107 names, lower case)."""

    ro: float
    is_: float
    idte: float
    idle: float
    idd: float
    ie_eff: float
    r: float
    mos: float

    @property
    def id_(self) -> float:
        """Delay impairment ``Id = Idte + Idle + Idd``."""
        return self.idte + self.idle + self.idd


def _log10_power_sum(*levels_db: float) -> float:
    return 10.0 * math.log10(sum(math.pow(10.0, level / 10.0) for level in levels_db))


def _noise_floor(p: EModelParameters) -> float:
    """No: circuit, room (send and receive) and receive-side noise floor, summed in power."""
    olr = p.slr + p.rlr
    nos = p.ps - p.slr - p.ds - 100.0 + 0.004 * (p.ps - olr - p.ds - 14.0) ** 2
    pre = p.pr + 10.0 * math.log10(1.0 + 10.0 ** ((10.0 - p.lstr) / 10.0))
    nor = p.rlr - 121.0 + pre + 0.008 * (pre - 35.0) ** 2
    nfo = p.nfor + p.rlr
    return _log10_power_sum(p.nc, nos, nor, nfo)


def _sidetone_impairment(stmr_o: float) -> float:
    """Ist: impairment from a sidetone that is too loud or too quiet (STMRo in dB)."""
    return (
        12.0 * math.pow(1.0 + ((stmr_o - 13.0) / 6.0) ** 8, 1.0 / 8.0)
        - 28.0 * math.pow(1.0 + ((stmr_o + 1.0) / 19.4) ** 35, 1.0 / 35.0)
        - 13.0 * math.pow(1.0 + ((stmr_o - 3.0) / 33.0) ** 13, 1.0 / 13.0)
        + 29.0
    )


def _simultaneous_impairment(
    p: EModelParameters, ro: float, no: float, t_ms: float
) -> tuple[float, float]:
    """Is = Iolr + Ist + Iq; also returns Ist, which the echo terms need."""
    olr = p.slr + p.rlr
    x_olr = olr + 0.2 * (64.0 + no - p.rlr)
    iolr = 20.0 * ((1.0 + (x_olr / 8.0) ** 8) ** (1.0 / 8.0) - x_olr / 8.0)
    stmr_o = -10.0 * math.log10(
        10.0 ** (-p.stmr / 10.0) + math.exp(-t_ms / 4.0) * 10.0 ** (-p.telr / 10.0)
    )
    ist = _sidetone_impairment(stmr_o)
    q = 37.0 - 15.0 * math.log10(p.qdu)
    g = 1.07 + 0.258 * q + 0.0602 * q * q
    y = (ro - 100.0) / 15.0 + 46.0 / 8.4 - g / 9.0
    z = 46.0 / 30.0 - g / 40.0
    iq = 15.0 * math.log10(1.0 + 10.0**y + 10.0**z)
    return iolr + ist + iq, ist


def _talker_echo_impairment(p: EModelParameters, no: float, ist: float, t_ms: float) -> float:
    """Idte; below 1 ms G.107 treats talker echo as sidetone, so it is 0."""
    if t_ms < 1.0:
        return 0.0
    terv = (
        p.telr
        - 40.0 * math.log10((1.0 + t_ms / 10.0) / (1.0 + t_ms / 150.0))
        + 6.0 * math.exp(-0.3 * t_ms**2)
    )
    if p.stmr < 9.0:
        terv += ist / 2.0
    roe = -1.5 * (no - p.rlr)
    re = 80.0 + 2.5 * (terv - 14.0)
    idte = ((roe - re) / 2.0 + math.sqrt((roe - re) ** 2 / 4.0 + 100.0) - 1.0) * (
        1.0 - math.exp(-t_ms)
    )
    if p.stmr > 20.0:
        idte = math.sqrt(idte**2 + ist**2)
    return idte


def _listener_echo_impairment(p: EModelParameters, ro: float, tr_ms: float) -> float:
    rle = 10.5 * (p.wepl + 7.0) * math.pow(tr_ms + 1.0, -0.25)
    return (ro - rle) / 2.0 + math.sqrt((ro - rle) ** 2 / 4.0 + 169.0)


def absolute_delay_impairment(ta_ms: float) -> float:
    """Idd: 0 up to 100 ms, then the G.107 curve (not the linear approximation)."""
    if ta_ms <= 100.0:
        return 0.0
    x = math.log2(ta_ms / 100.0)
    return 25.0 * (
        math.pow(1.0 + x**6, 1.0 / 6.0) - 3.0 * math.pow(1.0 + (x / 3.0) ** 6, 1.0 / 6.0) + 2.0
    )


def effective_equipment_impairment(ie: float, bpl: float, ppl_pct: float, burst_r: float) -> float:
    """Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl), Ppl in percent."""
    return ie + (95.0 - ie) * ppl_pct / (ppl_pct / burst_r + bpl)


def mos_from_r(r: float) -> float:
    """G.107 Annex B: MOS (conversational quality estimate) from R."""
    if r <= 0.0:
        return 1.0
    if r >= 100.0:
        return 4.5
    return 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6


def e_model(
    *,
    ie: float,
    bpl: float,
    ppl_pct: float,
    burst_r: float,
    ta_ms: float,
    parameters: EModelParameters = DEFAULT_PARAMETERS,
) -> EModelResult:
    """R and MOS for a codec (``ie``, ``bpl``), its loss and a one-way delay ``ta_ms``."""
    if ta_ms < 0.0 or not 0.0 <= ppl_pct <= 100.0 or burst_r < 1.0:
        raise ValueError(
            f"E-model inputs out of range: Ta {ta_ms} ms, Ppl {ppl_pct} %, BurstR {burst_r}"
        )
    no = _noise_floor(parameters)
    ro = 15.0 - 1.5 * (parameters.slr + no)
    is_, ist = _simultaneous_impairment(parameters, ro, no, ta_ms)
    idte = _talker_echo_impairment(parameters, no, ist, ta_ms)
    idle = _listener_echo_impairment(parameters, ro, 2.0 * ta_ms)
    idd = absolute_delay_impairment(ta_ms)
    ie_eff = effective_equipment_impairment(ie, bpl, ppl_pct, burst_r)
    r = ro - is_ - (idte + idle + idd) - ie_eff + parameters.a
    return EModelResult(ro, is_, idte, idle, idd, ie_eff, r, mos_from_r(r))
