"""The command line: argparse wiring (``app``) and one module per command family.

Nothing here decides anything: each command parses its options, calls the layer that does
the work and maps the result to an exit code. See docs/architecture.md.
"""

from sipprobe.cli.app import build_parser, console_main, main

__all__ = ["build_parser", "console_main", "main"]
