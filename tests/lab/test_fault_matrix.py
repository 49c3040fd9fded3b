"""The fault matrix: every fault on every segment where it means something, probed from the
customer's LAN and from outside, against the demarc verdict's contract (spec "Fault matrix lab").

Topology, fault injectors and platform peers: lab/faultlab.py. Each cell builds its own lab
(fresh namespaces, in an address slot of its own while it runs), places one fault, starts
the platform peer, runs probe A (namespace `lan`, location customer-lan) and probe B
(`outside`, location internet) at the same time with the same scenario (calls of 3 s), then
`sipprobe localize A.json B.json`. Cells run in parallel, FAULTLAB_WORKERS at a time
(default 3), all in one module-scoped fixture; each cell is then judged by its own test.

For every cell, against the reports' JSON:
- from the LAN: the verdict is not good (no missed fault) and the exit code is not 0;
- a WARNING or CRITICAL finding that names a side names the cell's side (`unknown` is
  allowed from the LAN), with `responsible` the cell's party; an `unknown` side comes with
  `responsible: undetermined`. INFO findings are observations and are not judged, except
  that from outside no finding at all may name `customer-network`;
- from outside, a fault on the customer's segments (internet access, router, LAN) is not
  seen (exit 0, no WARNING/CRITICAL), and a fault on the platform is;
- `sipprobe localize` names the cell's segment and party;
- each report says where the probe stood (`location`);
- the clean baseline: both runs good, exit 0, no WARNING/CRITICAL finding, localize `none`.

What each cell actually gave is written as a table to `<pytest tmp>/faultlab*/table.txt`
(and table.json), printed by `test_fault_matrix_summary` when any cell is wrong.
"""

import json
import os
import queue
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lab.environment import require_lab
from lab.faultlab import (
    KAMAILIO_USER,
    LOCATION,
    PASSWORD_ENV,
    SEGMENTS,
    WRONG_PASSWORD,
    FaultLab,
    LocalizeResult,
    ProbeResult,
    Segment,
    Vantage,
    delay_variation,
    dscp_remark,
    localize,
    one_way_rtp,
    open_lab,
    require_namespaces,
    rtp_loss,
    short_nat_binding,
    sip_alg,
    sip_blocked,
)

pytestmark = pytest.mark.lab

CALL_S = 3
PATH_FAULTS = ("loss-down", "loss-up", "one-way", "dscp", "sip-blocked", "delay")
PLATFORM_FAULTS = ("503", "silent", "credentials", "codec")
ROUTER_FAULTS = ("sip-alg", "short-binding")
DEFAULT_WORKERS = 3
SERIOUS = ("warning", "critical")


@dataclass(frozen=True, slots=True)
class Cell:
    """One fault placed on one segment, for one service type."""

    fault: str
    segment: Segment
    service: str = "sip-trunk"

    @property
    def id(self) -> str:
        name = f"{self.fault}.{self.segment}"
        return name if self.service == "sip-trunk" else f"{name}.{self.service}"

    @property
    def side(self) -> str | None:
        """The side of the demarc the fault is on (None: no fault)."""
        if self.fault == "baseline":
            return None
        if self.fault in ("credentials", "codec"):
            return "customer-equipment"
        return "platform" if self.segment == "platform" else "customer-network"

    @property
    def responsible(self) -> str:
        if self.side is None:
            return "none"
        if self.side == "customer-equipment":  # the device that registers and calls
            return "cleartrunk" if self.service == "hosted-pbx" else "customer"
        return "cleartrunk" if self.side == "platform" else "customer"

    @property
    def localized(self) -> str:
        return self.side or "none"


CELLS = (
    Cell("baseline", "platform"),
    *(Cell(fault, segment) for fault in PATH_FAULTS for segment in SEGMENTS),
    *(Cell(fault, "platform") for fault in PLATFORM_FAULTS),
    Cell("codec", "platform", "hosted-pbx"),
    *(Cell(fault, "router") for fault in ROUTER_FAULTS),
)


@dataclass
class CellResult:
    cell: Cell
    directory: Path
    probes: dict[str, ProbeResult] = field(default_factory=dict)
    localized: LocalizeResult | None = None
    error: str | None = None
    wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Matrix:
    results: dict[str, CellResult]
    table_path: Path
    wall_s: float
    workers: int


# -- one cell -------------------------------------------------------------------------------


def scenario(cell: Cell, platform: str) -> str:
    """The scenario both probes run: OPTIONS, then a 3 s call to the echo responder."""
    lines = [
        f"name: faultlab-{cell.fault}",
        f"service: {cell.service}",
        f"target: sip:{platform}:5060",
        "transport: udp",
    ]
    call_to = "echo"
    steps = ["  - options: {timeout_s: 3}"]
    if cell.fault == "credentials":  # Kamailio: REGISTER with the wrong password
        lines += [
            "account:",
            f"  user: {KAMAILIO_USER}",
            f"  domain: {platform}",
            f"  password_env: {PASSWORD_ENV}",
        ]
        steps.append("  - register: {expires_s: 60, timeout_s: 5}")
        call_to = "uas"
    if cell.fault == "codec":  # the responder takes PCMU, PCMA and G722 only
        lines.append("codecs: [GSM]")
    steps.append(f"  - call: {{to: {call_to}, duration_s: {CALL_S}, answer_timeout_s: 6}}")
    if cell.fault == "short-binding":  # the spec's NAT binding step, kept short
        steps.append(
            "  - nat_check: {transports: [udp], binding_intervals_s: [2, 8], binding_max_s: 10}"
        )
    return "\n".join([*lines, "steps:", *steps]) + "\n"


def place_fault(lab: FaultLab, cell: Cell) -> None:
    """Put the cell's network fault in place (the platform's behaviour is its peer)."""
    fault, segment = cell.fault, cell.segment
    if fault == "loss-down":
        rtp_loss(lab, segment, "downstream")
    elif fault == "loss-up":
        rtp_loss(lab, segment, "upstream")
    elif fault == "one-way":
        one_way_rtp(lab, segment)
    elif fault == "dscp":
        dscp_remark(lab, segment)
    elif fault == "sip-blocked":
        sip_blocked(lab, segment)
    elif fault == "delay":
        delay_variation(lab, segment)
    elif fault == "sip-alg":
        sip_alg(lab)
    elif fault == "short-binding":
        short_nat_binding(lab)


def start_platform(lab: FaultLab, cell: Cell) -> None:
    if cell.fault == "503":
        lab.start_sipp("unavailable")
    elif cell.fault == "silent":
        lab.start_sipp("mute")
    elif cell.fault == "credentials":
        lab.start_kamailio()
    else:
        lab.start_responder()


def run_cell(cell: Cell, slot: int, workdir: Path) -> CellResult:
    result = CellResult(cell, workdir)
    started = time.monotonic()
    try:
        with open_lab(slot, workdir) as lab:
            place_fault(lab, cell)
            start_platform(lab, cell)
            text = scenario(cell, lab.plan.platform)
            env = {PASSWORD_ENV: WRONG_PASSWORD}
            for probe in lab.run_probes([("lan", text), ("outside", text)], env):
                result.probes[probe.vantage] = probe
            paths = [p.path for p in result.probes.values() if p.report is not None]
            if len(paths) == 2:
                result.localized = localize(paths)
    except Exception:  # noqa: BLE001 - a cell that cannot be built is a wrong cell, not a crash
        result.error = traceback.format_exc(limit=4)
    result.wall_s = time.monotonic() - started
    result.problems = problems(result)
    return result


# -- judging a cell -------------------------------------------------------------------------


def serious(report: dict[str, Any]) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = report["verdict"]["findings"]
    return [f for f in findings if f.get("severity") in SERIOUS]


def is_good(report: dict[str, Any]) -> bool:
    verdict = report["verdict"]
    return bool(verdict["messaging"] == "good" and verdict["media"] in ("good", "unknown"))


def problems(result: CellResult) -> list[str]:
    """What the cell's reports got wrong against the contract; empty when all is right."""
    cell = result.cell
    if result.error:
        return [f"lab error: {result.error.strip().splitlines()[-1]}"]
    found = []
    vantages: tuple[Vantage, ...] = ("lan", "outside")
    for vantage in vantages:
        probe = result.probes.get(vantage)
        if probe is None or probe.report is None:
            stderr = probe.stderr.strip()[-300:] if probe else "not run"
            found.append(f"{vantage}: no report (exit {probe and probe.returncode}): {stderr}")
            continue
        found += [f"{vantage}: {p}" for p in _judge_run(cell, vantage, probe)]
    found += _judge_localize(cell, result.localized)
    return found


def _judge_run(cell: Cell, vantage: Vantage, probe: ProbeResult) -> list[str]:
    report = probe.report
    assert report is not None
    found = []
    location = report.get("location")
    if location != LOCATION[vantage]:
        found.append(f"location {location!r}, expected {LOCATION[vantage]!r}")
    clean = cell.side is None or (vantage == "outside" and cell.side == "customer-network")
    verdict = report["verdict"]
    if clean:
        what = "baseline" if cell.side is None else "a customer-side fault seen from outside"
        if not is_good(report) or probe.returncode != 0:
            found.append(
                f"{what}: verdict {verdict['messaging']}/{verdict['media']}, "
                f"exit {probe.returncode}, expected good and 0"
            )
        for finding in serious(report):
            found.append(f"{what}: {finding['severity']} {finding['code']} ({finding['side']})")
    elif is_good(report) or probe.returncode == 0:
        found.append(
            f"fault missed: verdict {verdict['messaging']}/{verdict['media']}, "
            f"exit {probe.returncode}"
        )
    for finding in report["verdict"]["findings"]:
        side, code = finding.get("side"), finding["code"]
        if vantage == "outside" and side == "customer-network":
            found.append(f"{code}: side customer-network from outside the customer's network")
            continue
        if finding.get("severity") not in SERIOUS or clean:
            continue
        if side == "unknown":
            if finding.get("responsible") != "undetermined":
                found.append(f"{code}: side unknown, responsible {finding.get('responsible')!r}")
            continue
        if side != cell.side:
            found.append(f"{code}: wrong side {side!r}, expected {cell.side!r}")
        elif finding.get("responsible") != cell.responsible:
            found.append(
                f"{code}: responsible {finding.get('responsible')!r}, expected {cell.responsible!r}"
            )
    return found


def _judge_localize(cell: Cell, localized: LocalizeResult | None) -> list[str]:
    if localized is None:
        return ["localize: not run"]
    if localized.report is None:
        line = (localized.stderr.strip().splitlines() or [""])[-1]
        return [f"localize: no report (exit {localized.returncode}): {line[:100]}"]
    found = []
    segment = localized.report.get("segment")
    if segment != cell.localized:
        found.append(f"localize: segment {segment!r}, expected {cell.localized!r}")
    responsible = localized.report.get("responsible")
    if responsible != cell.responsible:
        found.append(f"localize: responsible {responsible!r}, expected {cell.responsible!r}")
    return found


# -- the table ------------------------------------------------------------------------------

COLUMNS = (
    "cell",
    "vantage",
    "messaging/media",
    "exit",
    "sides (warn/crit)",
    "responsible",
    "codes",
    "localized",
    "wrong",
    "cell s",
)


def table_rows(result: CellResult) -> list[dict[str, str]]:
    loc = result.localized
    if loc is None:
        localized = "-"
    elif loc.report is None:
        localized = f"(exit {loc.returncode}, no report)"
    else:
        localized = f"{loc.report.get('segment')}/{loc.report.get('responsible')}"
    rows = []
    for vantage in ("lan", "outside"):
        probe = result.probes.get(vantage)
        row = dict.fromkeys(COLUMNS, "-")
        row |= {"cell": result.cell.id, "vantage": vantage, "localized": localized}
        row["wrong"] = str(len(result.problems))
        row["cell s"] = f"{result.wall_s:.1f}"
        if result.error:
            row["codes"] = "lab error"
        elif probe is not None and probe.report is not None:
            report = probe.report
            findings = serious(report)
            verdict = report["verdict"]
            row["messaging/media"] = f"{verdict['messaging']}/{verdict['media']}"
            row["exit"] = str(probe.returncode)
            row["sides (warn/crit)"] = ",".join(sorted({str(f.get("side")) for f in findings}))
            row["responsible"] = ",".join(
                sorted({str(f.get("responsible", "(none)")) for f in findings})
            )
            row["codes"] = ",".join(f["code"] for f in findings) or "(none)"
        elif probe is not None:
            row["exit"] = str(probe.returncode)
            row["codes"] = "no report"
        rows.append(row)
    return rows


def render_table(results: list[CellResult]) -> str:
    rows = [row for result in results for row in table_rows(result)]
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in COLUMNS)]
    lines.append("  ".join("-" * widths[c] for c in COLUMNS))
    lines += ["  ".join(r[c].ljust(widths[c]) for c in COLUMNS) for r in rows]
    return "\n".join(lines)


def write_table(matrix_dir: Path, results: list[CellResult], wall_s: float, workers: int) -> Path:
    header = (
        f"fault matrix: {len(results)} cells, {wall_s:.1f} s wall, {workers} in parallel; "
        f"wrong cells: {sum(1 for r in results if r.problems)}\n"
    )
    details = [
        f"{r.cell.id} ({r.wall_s:.1f} s):\n" + "\n".join(f"  - {p}" for p in r.problems)
        for r in results
        if r.problems
    ]
    text = header + "\n" + render_table(results) + "\n\nwhat is wrong:\n" + "\n".join(details)
    path = matrix_dir / "table.txt"
    path.write_text(text + "\n")
    rows = [row for result in results for row in table_rows(result)]
    (matrix_dir / "table.json").write_text(json.dumps(rows, indent=1) + "\n")
    return path


# -- running the matrix ---------------------------------------------------------------------


def _selected_cells(session: pytest.Session) -> list[Cell]:
    """The cells whose tests this session runs (all of them for the summary alone)."""
    wanted = set()
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        module = getattr(item, "module", None)
        if module is not None and module.__name__.endswith("test_fault_matrix"):
            if callspec is not None and "cell" in callspec.params:
                wanted.add(callspec.params["cell"])
            elif item.name == "test_fault_matrix_summary":
                return list(CELLS)
    return [cell for cell in CELLS if cell in wanted]


@pytest.fixture(scope="module")
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    """Run the selected cells, FAULTLAB_WORKERS (default 3) labs at a time."""
    require_lab("ip", "iptables", "iptables-save", "tcpdump", "sipp", "kamailio", root=True)
    require_namespaces()
    cells = _selected_cells(request.session)
    workers = max(1, int(os.environ.get("FAULTLAB_WORKERS", DEFAULT_WORKERS)))
    matrix_dir = tmp_path_factory.mktemp("faultlab")
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(workers):
        slots.put(slot)

    def one(index: int, cell: Cell) -> CellResult:
        slot = slots.get()
        try:
            return run_cell(cell, slot, matrix_dir / f"{index:02d}-{cell.id}")
        finally:
            slots.put(slot)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, range(len(cells)), cells))
    wall = time.monotonic() - started
    path = write_table(matrix_dir, results, wall, workers)
    return Matrix({r.cell.id: r for r in results}, path, wall, workers)


@pytest.mark.parametrize("cell", [pytest.param(cell, id=cell.id) for cell in CELLS])
def test_fault_cell(matrix: Matrix, cell: Cell) -> None:
    result = matrix.results[cell.id]
    if result.problems:
        pytest.fail(
            f"{cell.id}: expected side {cell.side}, responsible {cell.responsible}, "
            f"localize {cell.localized}\n{render_table([result])}\n"
            + "\n".join(f"- {p}" for p in result.problems)
            + f"\n(peer logs and reports: {result.directory}; the whole table: "
            f"{matrix.table_path})",
            pytrace=False,
        )


def test_fault_matrix_summary(matrix: Matrix) -> None:
    """One place that shows the whole table when any cell is wrong."""
    if any(r.problems for r in matrix.results.values()):
        pytest.fail(matrix.table_path.read_text(), pytrace=False)
