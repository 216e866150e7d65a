"""Parsing a scenario document (YAML, or JSON as YAML) into data and the line of every field.

The parser is safe and bounded: duplicated keys, keys that are not text, nesting deeper than
MAX_DEPTH and alias bombs are errors with their line, never a crash or a hang.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from optimizer.errors import FieldProblem, ScenarioError
from optimizer.schema.messages import Loc, format_path

# Values in a document once YAML aliases (*name) are expanded: a 5 MiB file holds fewer
# without aliases, so only an alias "bomb" (a few lines standing for millions) reaches it.
MAX_NODES = 3_000_000
# Levels of mappings and lists: a scenario needs about eight. libyaml stops at 1,000 with its
# own message and Python's recursion limit is near there too; this limit comes first for both.
MAX_DEPTH = 100

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _TooDeepError(Exception):
    """The document nests mappings and lists deeper than MAX_DEPTH."""


try:  # libyaml's scanner and parser when PyYAML was built with them: five times faster
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML without libyaml

    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):  # type: ignore[no-redef]
        """PyYAML's own reader, scanner and parser."""

        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)


class _Loader(
    yaml.composer.Composer, _Parser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
):
    """Safe YAML loader: libyaml's parser under PyYAML's Python composer.

    The composer (which turns events into nodes) is the recursive step: in Python, a file
    nested thousands deep raises RecursionError; libyaml's own composer would crash the process.
    So the composer stops at MAX_DEPTH levels, before the recursion limit and before libyaml's
    scanner gives up at 1,000 ("exceeded maximum nesting depth"); both are the same error for
    the user, "nested too deeply". Integers too long to convert (5,000 digits) are YAML errors
    with their line.
    """

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        """PyYAML's composer, refusing documents nested more than MAX_DEPTH levels."""
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeepError
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """An integer, or a YAML error with its line when it is too long to convert."""
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"number too long ({len(node.value)} characters)",
                node.start_mark,
            ) from None

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:  # type: ignore[override]
        """A date, or the text of an impossible one (2026-02-30), for the schema to name:
        PyYAML would crash the load."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return str(self.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def parse_document(
    text: str, source: str, *, json_only: bool = False
) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML (a superset of JSON) into data and a map from field path to 1-based line.

    Raises ScenarioError for syntax errors, duplicated keys, keys that are not text, too
    deep nesting and alias bombs, always with the line where one is known.
    """
    text = text.removeprefix("\ufeff")
    if json_only:
        return _parse_json(text, source)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines = _lines_of(node, source)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or str(exc)
        if _NESTING_LIMIT in reason:  # libyaml's own cap (1,000 levels), reached while scanning
            raise ScenarioError(source, [_too_deep()]) from None
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(
            source, [FieldProblem("file", f"invalid YAML: {reason}", line)]
        ) from None
    except (RecursionError, _TooDeepError):
        raise ScenarioError(source, [_too_deep()]) from None
    finally:
        loader.dispose()
    return data, lines


def _parse_json(text: str, source: str) -> tuple[Any, dict[Loc, int]]:
    """JSON by the json module (its messages), then composed as YAML for lines and repeated keys."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            source, [FieldProblem("file", f"invalid JSON: {exc.msg}", exc.lineno)]
        ) from None
    except RecursionError:
        raise ScenarioError(source, [_too_deep()]) from None
    # JSON is YAML too: composing it gives the line of every field and finds duplicated keys.
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except (RecursionError, _TooDeepError):
        raise ScenarioError(source, [_too_deep()]) from None
    except yaml.YAMLError as exc:
        if _NESTING_LIMIT in (getattr(exc, "problem", None) or str(exc)):
            raise ScenarioError(source, [_too_deep()]) from None
        return data, {}
    return data, _lines_of(node, source)


_NESTING_LIMIT = "maximum nesting depth"  # libyaml: "exceeded maximum nesting depth"


def _too_deep() -> FieldProblem:
    """Nesting too deep, whichever limit came first: ours, libyaml's or Python's recursion."""
    return FieldProblem(
        "file",
        f"nested too deeply: a scenario needs a few levels of mappings and lists, not "
        f"{MAX_DEPTH} or more",
    )


def _lines_of(node: yaml.Node | None, source: str) -> dict[Loc, int]:
    """The line of every path in the document; ScenarioError for bad keys and alias bombs."""
    lines: dict[Loc, int] = {}
    if node is None:
        return lines
    problems: list[FieldProblem] = []
    size = _collect_lines(node, (), lines, problems, {}, set())
    if problems:
        raise ScenarioError(source, problems)
    if size > MAX_NODES:
        message = (
            f"too large: expected at most {MAX_NODES:,} values, got {size:,} once YAML "
            "aliases (*name) are expanded"
        )
        raise ScenarioError(source, [FieldProblem("file", message)])
    return lines


def _collect_lines(
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    problems: list[FieldProblem],
    sizes: dict[int, int],
    open_nodes: set[int],
) -> int:
    """Record the line of every path under ``node``; return the node count with aliases expanded.

    A node reached again through an alias is counted again but not walked again, so the walk
    stays linear in the file's size however many times aliases repeat it.
    """
    lines.setdefault(loc, node.start_mark.line + 1)
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        problems.append(
            FieldProblem(format_path(loc), "an alias (*name) refers to itself", lines[loc])
        )
        return 1
    open_nodes.add(key)
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += _collect_mapping(node, loc, lines, problems, sizes, open_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            size += _collect_lines(item, (*loc, i), lines, problems, sizes, open_nodes)
    open_nodes.discard(key)
    sizes[key] = size
    return size


def _collect_mapping(
    node: yaml.MappingNode,
    loc: Loc,
    lines: dict[Loc, int],
    problems: list[FieldProblem],
    sizes: dict[int, int],
    open_nodes: set[int],
) -> int:
    """The keys of a mapping (merged ones too) and the lines below them; its node count."""
    size = 0
    seen: dict[str, int] = {}
    merged: list[yaml.Node] = []
    for key, value in node.value:
        line = key.start_mark.line + 1
        if key.tag == _MERGE_TAG:
            merged.extend(value.value if isinstance(value, yaml.SequenceNode) else [value])
            continue
        if not isinstance(key, yaml.ScalarNode) or key.tag != _STR_TAG:
            shown = key.value if isinstance(key, yaml.ScalarNode) else "a mapping or list"
            problems.append(
                FieldProblem(
                    format_path((*loc, str(shown))),
                    f"expected a field name (text), got {shown!r} which YAML reads as "
                    f"{_yaml_kind(key)}: put it in quotes",
                    line,
                )
            )
            continue
        child = (*loc, key.value)
        if key.value in seen:
            problems.append(
                FieldProblem(
                    format_path(child),
                    f"given twice (first on line {seen[key.value]}); only the last would count",
                    line,
                )
            )
        seen.setdefault(key.value, line)
        lines[child] = line
        size += _collect_lines(value, child, lines, problems, sizes, open_nodes)
        lines[child] = line
    for source in merged:  # '<<: *defaults': keys given here win over merged ones
        if isinstance(source, yaml.MappingNode):
            merged_lines: dict[Loc, int] = {}
            size += _collect_mapping(source, loc, merged_lines, problems, sizes, open_nodes)
            for path, line in merged_lines.items():
                lines.setdefault(path, line)
    return size


def _yaml_kind(node: yaml.Node) -> str:
    """What YAML reads a scalar as, in words: true/false, a number, empty."""
    tag = node.tag.rsplit(":", 1)[-1]
    return {"bool": "true/false", "int": "a number", "float": "a number", "null": "empty"}.get(
        tag, tag
    )
