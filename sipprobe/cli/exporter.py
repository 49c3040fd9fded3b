"""``sipprobe exporter``: the blackbox_exporter-style HTTP server for Prometheus."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any


def add_exporter_parser(commands: Any) -> None:
    exporter = commands.add_parser(
        "exporter",
        help="serve /probe?target=URI&module=NAME for Prometheus (blackbox_exporter style)",
    )
    exporter.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="address to serve on (default: the config's listen:, else 127.0.0.1:9166)",
    )
    exporter.add_argument(
        "--config",
        metavar="FILE",
        help="YAML: modules (scenario templates), allow-list, limits, where bundles are kept",
    )
    exporter.add_argument(
        "--runs-dir", metavar="DIR", help="keep evidence bundles here (default: the config's)"
    )


def run_exporter_command(args: argparse.Namespace) -> int:
    from sipprobe.exporter.config import load_config, parse_listen
    from sipprobe.exporter.server import serve

    config = load_config(args.config)
    if args.listen:
        config = replace(config, listen=parse_listen(args.listen, "--listen"))
    if args.runs_dir:
        config = replace(config, runs_dir=Path(args.runs_dir))
    return serve(config)
