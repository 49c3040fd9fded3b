"""MOS-LQO (P.862, measured on echoed speech) against the E-model's MOS-LQ under random loss.

For each loss rate: fresh customer/router/platform namespaces (tests/lab/netns.py), the
responder in echo mode in the platform namespace, the router dropping that share of the
downstream RTP at random (iptables statistic match), and ``--calls-per-rate`` calls of
``--duration`` seconds from the customer namespace. Prints, per rate, the median over calls of
the received stream's measured loss, MOS-LQO (``calls[].listening``) and MOS-LQ (the E-model
on the received stream, G.711 with PLC planning values), and a markdown table of the same.

    python benchmarks/listening_vs_loss.py [--rates 0,1,3,5,10] [--calls-per-rate 3]

Needs root (namespaces, iptables, tcpdump) and the `listening` extra. A benchmark, not a
test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from lab.netns import Netlab, build


class _Node:
    """Stands in for the pytest item the lab attaches peer logs to."""

    def __init__(self) -> None:
        self.stash: dict[object, object] = {}


def one_rate(
    percent: float, calls: int, duration_s: float, workdir: Path
) -> list[dict[str, float]]:
    token = secrets.token_hex(4)
    lab = Netlab(
        customer=f"sp-cust-{token}",
        router=f"sp-rtr-{token}",
        platform=f"sp-plat-{token}",
        workdir=workdir / f"loss-{percent:g}",
        node=_Node(),  # type: ignore[arg-type]
    )
    rows = []
    try:
        build(lab, token)
        responder = lab.start_responder()
        if percent:
            lab.drop_random("downstream", percent / 100.0)
        for _ in range(calls):
            run = lab.call(responder.uri(), duration_s, "--no-history")
            (call,) = run.report["calls"]
            (rx,) = [s for s in call["streams"] if s["direction"] == "rx"]
            listening = call["listening"]
            rows.append(
                {
                    "loss_pct": rx["loss_pct"],
                    "mos_lqo": listening["mos_lqo"] if listening else float("nan"),
                    "mos_lq": rx["mos_lq"],
                }
            )
    finally:
        lab.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="0,1,3,5,10", help="loss rates in percent")
    parser.add_argument("--calls-per-rate", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    table = []
    with tempfile.TemporaryDirectory(prefix="sipprobe-listening-") as directory:
        for rate in (float(r) for r in args.rates.split(",")):
            rows = one_rate(rate, args.calls_per_rate, args.duration, Path(directory))
            medians = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            scores = " ".join(f"{r['mos_lqo']:.2f}" for r in rows)
            print(
                f"drop {rate:g}%: measured loss {medians['loss_pct']:.2f}%, "
                f"MOS-LQO {medians['mos_lqo']:.2f} (calls: {scores}), "
                f"MOS-LQ {medians['mos_lq']:.2f}",
                flush=True,
            )
            table.append((rate, medians))
    print(
        "\n| router drop | measured rx loss (median) | MOS-LQO, P.862 (median) | MOS-LQ, E-model |"
    )
    print("|---|---|---|---|")
    for rate, medians in table:
        print(
            f"| {rate:g} % | {medians['loss_pct']:.2f} % | {medians['mos_lqo']:.2f} "
            f"| {medians['mos_lq']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
