"""``python -m sipprobe``: the same as the ``sipprobe`` command."""

from sipprobe.cli import console_main

console_main()
