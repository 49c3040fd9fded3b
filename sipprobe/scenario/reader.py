"""Scenario YAML to checked values, with ``file:line: key: problem`` errors.

The file is composed into YAML nodes (not loaded into plain data) so every value keeps its
line number until it has been checked. ``${NAME}`` and ``${NAME:-default}`` in any value are
replaced from ``--var`` first, then the environment. The loader (loader.py) and the step
parsers (steps.py, call_step.py, answer_step.py) read every value through ``Reader``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from sipprobe.errors import ScenarioError

# A scenario is a few dozen lines. These bounds keep a hostile or broken file (a generated
# 20 MB name, thousands of nested lists, a 4,300-digit number, 200,000 keys) a one-line error
# found in well under a second, before PyYAML's recursive composer or Python's int parser
# meets it.
MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 16  # mappings and lists inside each other (a scenario needs 5)
MAX_NODES = 10_000  # scalars, mappings and lists in the whole file
MAX_SCALAR_CHARS = 4096  # one value, also after ${VAR} substitution
MAX_NUMBER_CHARS = 32  # digits, sign, point and exponent of a number
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
T = TypeVar("T")

# A mapping's entries by key name: (key node, value node), as Reader.mapping returns them.
Fields = dict[str, tuple[yaml.Node, yaml.Node]]


class Reader:
    """Turns YAML nodes into checked values; every error names file, line and key."""

    def __init__(self, path: str, variables: Mapping[str, str]) -> None:
        self.path = path
        self.variables = variables

    def fail(self, node: yaml.Node | None, key: str, problem: str) -> ScenarioError:
        line = node.start_mark.line + 1 if node is not None else None
        return ScenarioError(self.path, line, key, problem)

    def mapping(self, node: yaml.Node, key: str, allowed: tuple[str, ...]) -> Fields:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key, "expected a mapping of keys to values")
        entries: Fields = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            where = f"{key}.{name}" if key else name
            if name not in allowed:
                raise self.fail(
                    key_node, where, f"unknown key (expected one of: {', '.join(allowed)})"
                )
            if name in entries:
                raise self.fail(key_node, where, "key given twice")
            entries[name] = (key_node, value_node)
        return entries

    def expanded(self, node: yaml.Node, key: str) -> str:
        """A scalar's text with ``${...}`` replaced, bounded in length."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, key, "expected a single value")
        text = _VARIABLE.sub(lambda m: self._variable(m, node, key), str(node.value))
        if len(text) > MAX_SCALAR_CHARS:
            raise self.fail(
                node, key, f"value is {len(text)} characters long (at most {MAX_SCALAR_CHARS})"
            )
        return text

    def scalar(self, node: yaml.Node, key: str) -> Any:
        text = self.expanded(node, key)
        if isinstance(node, yaml.ScalarNode) and node.style is not None:  # quoted: text
            return text
        if not text.strip():
            return "" if text != node.value else None
        try:  # plain scalar: typed as YAML types it (also after ${...} substitution)
            value = yaml.safe_load(text)
        except (yaml.YAMLError, ValueError) as exc:
            raise self.fail(node, key, f"cannot read the value {text[:40]!r}") from exc
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and len(text.strip()) > MAX_NUMBER_CHARS:
            raise self.fail(node, key, f"number has more than {MAX_NUMBER_CHARS} characters")
        return value

    def _variable(self, match: re.Match[str], node: yaml.Node, key: str) -> str:
        name, default = match.group(1), match.group(2)
        if name in self.variables:
            return self.variables[name]
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise self.fail(
            node,
            key,
            f"variable ${{{name}}} is not set (use --var {name}=VALUE "
            f"or set it in the environment)",
        )

    def text(self, node: yaml.Node, key: str, numbers: bool = False) -> str:
        """A text value; ``numbers`` also takes a plain number as its digits (a user name
        or a dialled number such as ``1001``), elsewhere a number is a mistake."""
        value = self.scalar(node, key)
        if isinstance(value, str):
            return value
        if numbers and isinstance(value, int) and not isinstance(value, bool):
            return self.expanded(node, key).strip()
        raise self.fail(node, key, f"expected text, got {_yaml_type(value)}")

    def number(self, node: yaml.Node, key: str, low: float, high: float) -> float:
        value = self.scalar(node, key)
        if isinstance(value, str):  # "5" or "${DURATION}" quoted: a number all the same
            try:
                value = float(value)
            except ValueError:
                raise self.fail(node, key, f"expected a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(node, key, f"expected a number, got {value!r}")
        if not low <= value <= high:
            raise self.fail(node, key, f"{value} is out of range ({low:g} to {high:g})")
        return float(value)

    def integer(self, node: yaml.Node, key: str, low: int, high: int) -> int:
        value = self.number(node, key, low, high)
        if value != int(value):
            raise self.fail(node, key, f"expected a whole number, got {value}")
        return int(value)

    def boolean(self, node: yaml.Node, key: str) -> bool:
        value = self.scalar(node, key)
        if not isinstance(value, bool):
            raise self.fail(node, key, "expected true or false")
        return value

    def choice(self, node: yaml.Node, key: str, choices: tuple[str, ...]) -> str:
        value = self.text(node, key).lower()
        if value not in choices:
            raise self.fail(node, key, f"{value!r} is not one of: {', '.join(choices)}")
        return value

    def text_list(self, node: yaml.Node, key: str) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, key, "expected a non-empty list")
        return tuple(self.text(item, f"{key}[{i}]") for i, item in enumerate(node.value))

    def file_path(self, node: yaml.Node, key: str) -> str:
        value = Path(self.text(node, key)).expanduser()
        if not value.is_absolute():
            value = Path(self.path).parent / value
        return str(value)


def _yaml_type(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    return type(value).__name__


def _line(mark: Any) -> int | None:
    return int(mark.line) + 1 if mark is not None else None


def compose(text: str, path: str) -> yaml.Node | None:
    """YAML nodes of ``text``, after checking size, nesting and node count on the parser's
    event stream (which needs no recursion), so that only a bounded document is composed."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            path, None, "", f"the file is {size} bytes; a scenario is at most {MAX_FILE_BYTES}"
        )
    depth = nodes = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ScenarioError(
                        path,
                        _line(event.start_mark),
                        "",
                        f"lists and mappings are nested more than {MAX_DEPTH} deep",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    raise ScenarioError(
                        path,
                        _line(event.start_mark),
                        "",
                        f"the file has more than {MAX_NODES} values; a scenario needs far fewer",
                    )
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ScenarioError(
            path, mark.line + 1 if mark else None, "", f"invalid YAML: {exc.problem}"
        ) from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(path, None, "", f"invalid YAML: {exc}") from exc


def optional(
    entries: Fields,
    name: str,
    read: Callable[[yaml.Node], T],
    default: T,
) -> T:
    """``read`` of the value of key ``name`` if the mapping has it, else ``default``."""
    return read(entries[name][1]) if name in entries else default
