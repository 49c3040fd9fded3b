"""The output formats: one Enum, one render function per format, each in its own module.

Every format turns a finished ``RunReport`` into text; none of them measures or decides
anything. The renderers are imported when asked for, so a ``--format nagios`` check never
loads matplotlib.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, assert_never

if TYPE_CHECKING:  # the command line builds --format from this Enum before any report exists
    from sipprobe.model.results import RunReport


class OutputFormat(StrEnum):
    """What ``--format`` accepts."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"
    JUNIT = "junit"
    NAGIOS = "nagios"
    OPENMETRICS = "openmetrics"

    def render(self, report: RunReport) -> str:
        match self:
            case OutputFormat.TEXT:
                from sipprobe.report.text import render_run_text

                return render_run_text(report)
            case OutputFormat.JSON:
                from sipprobe.report.json_report import render_json

                return render_json(report)
            case OutputFormat.MARKDOWN:
                from sipprobe.report.markdown import render_markdown

                return render_markdown(report)
            case OutputFormat.HTML:
                from sipprobe.report.html import render_html

                return render_html(report)
            case OutputFormat.JUNIT:
                from sipprobe.report.junit import render_junit

                return render_junit(report)
            case OutputFormat.NAGIOS:
                from sipprobe.report.nagios import render_nagios

                return render_nagios(report)
            case OutputFormat.OPENMETRICS:
                from sipprobe.report.openmetrics import render_openmetrics

                return render_openmetrics(report)
            case _:
                assert_never(self)
