"""E-model (ITU-T G.107): published check values and every intermediate value, derived here.

The derivation below is written out from the G.107 equations with the Table 3 defaults, one
line per equation, without calling sipprobe; the code under test must agree to 1e-9.
"""

from __future__ import annotations

import math

import pytest

from sipprobe.analysis.emodel import (
    EModelParameters,
    absolute_delay_impairment,
    e_model,
    mos_from_r,
)

# G.107 Table 3 defaults.
SLR, RLR, STMR, LSTR, DS, TELR, WEPL, QDU = 8.0, 2.0, 15.0, 18.0, 3.0, 65.0, 110.0, 1.0
NC, NFOR, PS, PR = -70.0, -64.0, 35.0, 35.0

# Basic signal-to-noise ratio Ro (G.107 7.1).
OLR = SLR + RLR  # 10
NOS = PS - SLR - DS - 100 + 0.004 * (PS - OLR - DS - 14) ** 2  # -75.952
PRE = PR + 10 * math.log10(1 + 10 ** ((10 - LSTR) / 10))
NOR = RLR - 121 + PRE + 0.008 * (PRE - 35) ** 2
NFO = NFOR + RLR  # -62
NO = 10 * math.log10(10 ** (NC / 10) + 10 ** (NOS / 10) + 10 ** (NOR / 10) + 10 ** (NFO / 10))
RO = 15 - 1.5 * (SLR + NO)

# Simultaneous impairment Is = Iolr + Ist + Iq (G.107 7.2), at T = 0.
XOLR = OLR + 0.2 * (64 + NO - RLR)
IOLR = 20 * ((1 + (XOLR / 8) ** 8) ** (1 / 8) - XOLR / 8)


def stmr_o(t_ms: float, stmr: float = STMR) -> float:
    return -10 * math.log10(10 ** (-stmr / 10) + math.exp(-t_ms / 4) * 10 ** (-TELR / 10))


def ist(t_ms: float, stmr: float = STMR) -> float:
    s = stmr_o(t_ms, stmr)
    return (
        12 * (1 + ((s - 13) / 6) ** 8) ** (1 / 8)
        - 28 * (1 + ((s + 1) / 19.4) ** 35) ** (1 / 35)
        - 13 * (1 + ((s - 3) / 33) ** 13) ** (1 / 13)
        + 29
    )


Q = 37 - 15 * math.log10(QDU)
G = 1.07 + 0.258 * Q + 0.0602 * Q**2
Y = (RO - 100) / 15 + 46 / 8.4 - G / 9
Z = 46 / 30 - G / 40
IQ = 15 * math.log10(1 + 10**Y + 10**Z)


def is_(t_ms: float) -> float:
    return IOLR + ist(t_ms) + IQ


# Delay impairment Id = Idte + Idle + Idd (G.107 7.3), with T = Ta and Tr = 2 Ta.
def idte(t_ms: float, stmr: float = STMR) -> float:
    terv = TELR - 40 * math.log10((1 + t_ms / 10) / (1 + t_ms / 150)) + 6 * math.exp(-0.3 * t_ms**2)
    if stmr < 9:
        terv += ist(t_ms, stmr) / 2
    roe = -1.5 * (NO - RLR)
    re = 80 + 2.5 * (terv - 14)
    value = ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-t_ms))
    if stmr > 20:
        value = math.sqrt(value**2 + ist(t_ms, stmr) ** 2)
    return value


def idle(tr_ms: float) -> float:
    rle = 10.5 * (WEPL + 7) * (tr_ms + 1) ** -0.25
    return (RO - rle) / 2 + math.sqrt((RO - rle) ** 2 / 4 + 169)


def idd(ta_ms: float) -> float:
    if ta_ms <= 100:
        return 0.0
    x = math.log10(ta_ms / 100) / math.log10(2)
    return 25 * ((1 + x**6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2)


def test_e_model_derivation_constants_are_the_textbook_ones() -> None:
    assert round(NO, 4) == -61.1792
    assert round(RO, 4) == 94.7688
    assert is_(0) == pytest.approx(1.4136, abs=1e-4)
    # Ro - Is = 93.3553 (a popular misquote says 93.2062); the 0.1490 of listener echo
    # (Idle at Tr = 0) brings R to 93.2062 (docs/measurement.md, "E-model").
    assert RO - is_(0) == pytest.approx(93.3553, abs=1e-4)
    assert idle(0) == pytest.approx(0.1490, abs=1e-4)


@pytest.mark.parametrize("ta_ms", [0.0, 0.5, 1.0, 50.0, 100.0, 150.0, 200.0, 400.0, 800.0])
def test_e_model_intermediate_values_follow_g107(ta_ms: float) -> None:
    result = e_model(ie=0.0, bpl=25.1, ppl_pct=0.0, burst_r=1.0, ta_ms=ta_ms)
    assert result.ro == pytest.approx(RO, abs=1e-9)
    assert result.is_ == pytest.approx(is_(ta_ms), abs=1e-9)
    # G.107: below T = 1 ms talker echo is sidetone, so Idte is 0.
    assert result.idte == pytest.approx(idte(ta_ms) if ta_ms >= 1 else 0.0, abs=1e-9)
    assert result.idle == pytest.approx(idle(2 * ta_ms), abs=1e-9)
    assert result.idd == pytest.approx(idd(ta_ms), abs=1e-9)
    assert result.id_ == pytest.approx(result.idte + result.idle + result.idd)
    assert result.r == pytest.approx(RO - is_(ta_ms) - result.id_, abs=1e-9)


@pytest.mark.parametrize(
    ("ie", "bpl", "ta_ms", "ppl_pct", "burst_r", "r", "mos"),
    [
        (0.0, 25.1, 0.0, 0.0, 1.0, 93.2062, 4.4094),
        (0.0, 25.1, 0.0, 1.0, 1.0, 89.5664, 4.3282),
        (0.0, 25.1, 200.0, 0.0, 1.0, 85.8047, 4.2232),
        (11.0, 19.0, 100.0, 1.0, 1.0, 75.4637, 3.8417),
    ],
)
def test_e_model_published_check_values(
    ie: float, bpl: float, ta_ms: float, ppl_pct: float, burst_r: float, r: float, mos: float
) -> None:
    result = e_model(ie=ie, bpl=bpl, ppl_pct=ppl_pct, burst_r=burst_r, ta_ms=ta_ms)
    assert round(result.r, 4) == r
    assert round(result.mos, 4) == mos


def test_e_model_200ms_terms() -> None:
    result = e_model(ie=0.0, bpl=25.1, ppl_pct=0.0, burst_r=1.0, ta_ms=200.0)
    assert (round(result.idte, 4), round(result.idle, 4), round(result.idd, 4)) == (
        3.5708,
        0.9353,
        3.0444,
    )


def test_e_model_effective_equipment_impairment_with_bursts() -> None:
    result = e_model(ie=11.0, bpl=19.0, ppl_pct=2.0, burst_r=2.0, ta_ms=0.0)
    assert result.ie_eff == pytest.approx(11 + (95 - 11) * 2 / (2 / 2 + 19))
    random = e_model(ie=11.0, bpl=19.0, ppl_pct=2.0, burst_r=1.0, ta_ms=0.0)
    assert result.r < random.r


def test_absolute_delay_impairment_is_not_the_linear_approximation() -> None:
    x = 2.0  # log2(400 / 100)
    expected = 25 * ((1 + x**6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2)
    assert absolute_delay_impairment(400.0) == pytest.approx(expected)
    assert absolute_delay_impairment(100.0) == 0.0
    assert absolute_delay_impairment(400.0) != pytest.approx(0.024 * 400 + 0.11 * (400 - 177.3))


@pytest.mark.parametrize("stmr", [5.0, 8.9, 9.0, 20.0, 20.1, 25.0])
def test_e_model_sidetone_branches(stmr: float) -> None:
    """STMR < 9 adds Ist/2 to TERV; STMR > 20 folds Ist into Idte (G.107 7.3).

    LSTR is left at 18 so that Ro, and with it the rest of the derivation above, is unchanged.
    """
    result = e_model(
        ie=0.0,
        bpl=25.1,
        ppl_pct=0.0,
        burst_r=1.0,
        ta_ms=50.0,
        parameters=EModelParameters(stmr=stmr),
    )
    assert result.idte == pytest.approx(idte(50.0, stmr), abs=1e-9)
    assert result.is_ == pytest.approx(IOLR + ist(50.0, stmr) + IQ, abs=1e-9)


def test_mos_from_r_limits() -> None:
    assert mos_from_r(-10.0) == 1.0
    assert mos_from_r(0.0) == 1.0
    assert mos_from_r(100.0) == 4.5
    assert mos_from_r(130.0) == 4.5
    assert mos_from_r(50.0) == pytest.approx(1 + 0.035 * 50 + 50 * (50 - 60) * (100 - 50) * 7e-6)


@pytest.mark.parametrize(
    ("ta_ms", "ppl_pct", "burst_r"), [(-1.0, 0.0, 1.0), (0.0, 101.0, 1.0), (0.0, 1.0, 0.5)]
)
def test_e_model_rejects_impossible_inputs(ta_ms: float, ppl_pct: float, burst_r: float) -> None:
    with pytest.raises(ValueError, match="out of range"):
        e_model(ie=0.0, bpl=25.1, ppl_pct=ppl_pct, burst_r=burst_r, ta_ms=ta_ms)
