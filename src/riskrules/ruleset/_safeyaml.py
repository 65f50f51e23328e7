"""Safe YAML with positions: parse ruleset text into located nodes, and dump data back.

PyYAML's loaders keep the last of two duplicate keys, read ``yes``/``no``/``on``/``off`` as
booleans and dates as timestamps, and expand aliases without limit. This module composes nodes
itself from the parser's events (LibYAML's when available) so that it can:

* resolve plain scalars by the YAML 1.2 core schema: ``true``/``false`` (also ``True``,
  ``TRUE``, ...), decimal integers, floats such as ``1.5``, ``-2e3``, ``.5``, ``.inf`` and
  ``.nan``, ``null``/``~``/empty; everything else, dates included, stays a string;
* reject duplicate keys, non-string keys and every tag outside the core schema;
* cap the expanded node count (aliases included), the nesting depth and recursive aliases
  while composing, so an alias bomb is rejected after a few hundred events;
* keep 1-based line and column for every node, so errors point into the file.

:func:`dump` writes data that :func:`parse` reads back to the same values (a matching resolver
decides what must be quoted).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

from riskrules._types import Loc
from riskrules.errors import RulesetError

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "Node",
    "dump",
    "format_path",
    "locate",
    "parse",
    "to_data",
]

MAX_NODES: Final = 100_000
"""Default cap on the number of nodes a document expands to, aliases included."""
MAX_DEPTH: Final = 100
"""Default cap on collection nesting depth."""


_CORE = "tag:yaml.org,2002:"
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# (tag, pattern, first characters), in the order they are tried.
_RESOLVERS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (_CORE + "bool", _BOOL_RE, "tTfF"),
    (_CORE + "int", _INT_RE, "-+0123456789"),
    (_CORE + "float", _FLOAT_RE, "-+.0123456789"),
    (_CORE + "null", _NULL_RE, "~nN"),
)


def _parser(text: str) -> Any:
    """An event parser over ``text``: LibYAML's when PyYAML was built with it."""
    if yaml.__with_libyaml__:
        from yaml._yaml import CParser

        return CParser(text)
    return _PyParser(text)


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """The pure-Python event parser (no composer, constructor or resolver attached)."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


@dataclass(slots=True, eq=False)
class Node:
    """A composed YAML node with its 1-based position.

    ``value`` is the constructed Python value of a scalar, the item nodes of a sequence, or the
    ``(key, value)`` node pairs of a mapping (keys are always string scalars). ``size`` counts
    the nodes this one expands to, ``height`` its nesting depth.
    """

    kind: str  # "scalar", "seq" or "map"
    line: int
    column: int
    value: Any
    size: int = 1
    height: int = 1
    index: dict[str, int] = field(default_factory=dict)
    """For mappings: key -> position in ``value``."""

    def at(self, line: int, column: int) -> Node:
        """This node as seen from an alias at ``line:column`` (children are shared)."""
        return Node(self.kind, line, column, self.value, self.size, self.height, self.index)

    def child(self, key: str | int) -> tuple[Node, Node | None] | None:
        """``(value node, key node)`` of a mapping key or sequence index, or None."""
        if self.kind == "map" and isinstance(key, str) and key in self.index:
            key_node, value_node = self.value[self.index[key]]
            return value_node, key_node
        if self.kind == "seq" and isinstance(key, int) and 0 <= key < len(self.value):
            return self.value[key], None
        return None


def format_path(loc: Loc) -> str:
    """``rules[3].when.all[1].gt``; keys that are not identifiers as ``inputs['a.b']``."""
    out: list[str] = []
    for part in loc:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER_RE.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def locate(root: Node, loc: Loc) -> tuple[Node, Loc, Node | None]:
    """Follow ``loc`` from ``root`` as far as it exists.

    Returns the deepest node reached, the part of ``loc`` that reached it, and the key node
    when that last step was a mapping key.
    """
    node, key_node = root, None
    for i, part in enumerate(loc):
        found = node.child(part)
        if found is None:
            return node, loc[:i], key_node
        node, key_node = found
    return node, loc, key_node


def to_data(node: Node) -> Any:
    """The plain Python value of a node: dicts, lists and scalars, aliases expanded."""
    if node.kind == "scalar":
        return node.value
    if node.kind == "seq":
        return [to_data(item) for item in node.value]
    return {key.value: to_data(value) for key, value in node.value}


def _describe(node: Node) -> str:
    if node.kind == "seq":
        return "a list"
    if node.kind == "map":
        return "a mapping"
    value = node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value}"
    return f"number {value}"


def _where(event: Event) -> tuple[int, int]:
    """1-based line and column where an event starts."""
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _Frame:
    __slots__ = ("key", "node")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.key: Node | None = None


class _Composer:
    """Builds a :class:`Node` tree from parser events with an explicit stack (no recursion)."""

    def __init__(self, text: str, file: str, max_nodes: int, max_depth: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.text = text
        self.events: Any = None
        self.stack: list[_Frame] = []
        self.anchors: dict[str, Node] = {}
        self.open: set[int] = set()
        self.expanded = 0

    def path(self) -> Loc:
        parts: list[str | int] = []
        for frame in self.stack:
            node = frame.node
            if node.kind == "seq":
                parts.append(len(node.value))
            elif frame.key is not None:
                parts.append(frame.key.value)
        return tuple(parts)

    def fail(self, message: str, line: int | None, column: int | None) -> RulesetError:
        return RulesetError(
            message, file=self.file, line=line, column=column, path=format_path(self.path())
        )

    def fail_at(self, message: str, event: Event) -> RulesetError:
        return self.fail(message, *_where(event))

    def next_event(self) -> Event:
        event: Event = self.events.get_event()
        return event

    def compose(self) -> Node | None:
        """The single document's root node, or None for an empty stream."""
        self.events = _parser(self.text)
        event = self.next_event()
        assert isinstance(event, StreamStartEvent)
        event = self.next_event()
        if isinstance(event, StreamEndEvent):
            return None
        assert isinstance(event, DocumentStartEvent)
        root = self.compose_node()
        event = self.next_event()
        assert isinstance(event, DocumentEndEvent)
        event = self.next_event()
        if not isinstance(event, StreamEndEvent):
            raise self.fail_at("expected a single YAML document, found another one", event)
        return root

    def compose_node(self) -> Node:
        root: Node | None = None
        while True:
            event = self.next_event()
            done: Node | None = None
            if isinstance(event, ScalarEvent):
                done = self.scalar(event)
            elif isinstance(event, AliasEvent):
                done = self.alias(event)
            elif isinstance(event, CollectionStartEvent):
                self.start(event)
                continue
            elif isinstance(event, SequenceEndEvent | MappingEndEvent):
                done = self.end(event)
            else:  # pragma: no cover - the parser only emits the events above here
                raise self.fail_at(f"unexpected YAML event {type(event).__name__}", event)
            if not self.stack:
                root = done
                break
            self.attach(done, event)
        return root

    def count(self, n: int, event: Event) -> None:
        self.expanded += n
        if self.expanded > self.max_nodes:
            raise self.fail_at(
                f"the document expands to more than {self.max_nodes} nodes (aliases included)",
                event,
            )

    def register(self, anchor: str | None, node: Node) -> None:
        if anchor is not None:
            self.anchors[anchor] = node

    def scalar(self, event: ScalarEvent) -> Node:
        self.count(1, event)
        node = Node("scalar", *_where(event), self.construct(event))
        self.register(event.anchor, node)
        return node

    def alias(self, event: AliasEvent) -> Node:
        name = event.anchor
        target = self.anchors.get(name) if name is not None else None
        if target is None:
            raise self.fail_at(f"undefined alias '*{name}'", event)
        if id(target) in self.open:
            raise self.fail_at(f"recursive alias '*{name}' (it refers to itself)", event)
        self.count(target.size, event)
        if len(self.stack) + target.height > self.max_depth:
            raise self.fail_at(f"nesting deeper than {self.max_depth} levels", event)
        return target.at(*_where(event))

    def start(self, event: CollectionStartEvent) -> None:
        self.count(1, event)
        kind = "seq" if isinstance(event, SequenceStartEvent) else "map"
        tag = event.tag
        if tag not in (None, "!", _CORE + kind):
            raise self.fail_at(f"unsupported tag {_short(tag)!r}", event)
        if len(self.stack) + 1 > self.max_depth:
            raise self.fail_at(f"nesting deeper than {self.max_depth} levels", event)
        node = Node(kind, *_where(event), [])
        self.register(event.anchor, node)
        self.open.add(id(node))
        self.stack.append(_Frame(node))

    def end(self, event: Event) -> Node:
        frame = self.stack.pop()
        node = frame.node
        self.open.discard(id(node))
        children: list[Node] = []
        if node.kind == "seq":
            children = node.value
        else:
            for key, value in node.value:
                children.extend((key, value))
        node.size = 1 + sum(child.size for child in children)
        node.height = 1 + max((child.height for child in children), default=0)
        return node

    def attach(self, node: Node, event: Event) -> None:
        frame = self.stack[-1]
        parent = frame.node
        if parent.kind == "seq":
            parent.value.append(node)
            return
        if frame.key is None:
            if node.kind != "scalar" or not isinstance(node.value, str):
                raise self.fail(
                    f"mapping keys must be strings, not {_describe(node)}", node.line, node.column
                )
            if node.value in parent.index:
                first, _ = parent.value[parent.index[node.value]]
                raise self.fail(
                    f"duplicate key {node.value!r} (first defined at line {first.line})",
                    node.line,
                    node.column,
                )
            frame.key = node
            return
        parent.index[frame.key.value] = len(parent.value)
        parent.value.append((frame.key, node))
        frame.key = None

    def construct(self, event: ScalarEvent) -> Any:
        text = event.value
        tag = event.tag
        if tag in (None, "!") or tag == _CORE + "str":
            if tag is None and event.implicit[0]:
                return _resolve_plain(text)
            return text
        constructor = _TAGGED.get(tag)
        if constructor is None:
            raise self.fail_at(f"unsupported tag {_short(tag)!r}", event)
        try:
            return constructor(text)
        except ValueError as exc:
            raise self.fail_at(str(exc), event) from None


def _short(tag: str | None) -> str:
    """``!!python/object`` rather than ``tag:yaml.org,2002:python/object``."""
    tag = tag or ""
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _to_int(text: str) -> int:
    if not _INT_RE.match(text):
        raise ValueError(f"{text!r} is not a decimal integer")
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        raise ValueError(f"integer literal with {len(text)} digits is too long") from None


def _to_float(text: str) -> float:
    if not _FLOAT_RE.match(text) and not _INT_RE.match(text):
        raise ValueError(f"{text!r} is not a number")
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


def _to_bool(text: str) -> bool:
    if not _BOOL_RE.match(text):
        raise ValueError(f"{text!r} is not a boolean (use true or false)")
    return text.lower() == "true"


def _to_null(text: str) -> None:
    if not _NULL_RE.match(text):
        raise ValueError(f"{text!r} is not null")


_TAGGED: dict[str, Callable[[str], Any]] = {
    _CORE + "int": _to_int,
    _CORE + "float": _to_float,
    _CORE + "bool": _to_bool,
    _CORE + "null": _to_null,
}


def _resolve_plain(text: str) -> Any:
    """A plain scalar's value under the YAML 1.2 core schema (decimal integers only)."""
    if _NULL_RE.match(text):
        return None
    if _BOOL_RE.match(text):
        return text.lower() == "true"
    if _INT_RE.match(text):
        try:
            return int(text)
        except ValueError:
            return text  # too many digits for an int: kept as text, the model rejects it
    if _FLOAT_RE.match(text):
        return _to_float(text)
    return text


def parse(
    text: str, *, file: str, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH
) -> Node | None:
    """Compose ``text`` (one YAML document) into a located node tree; None when empty.

    Raises RulesetError for invalid YAML, duplicate or non-string keys, unsupported tags,
    undefined or recursive aliases, and documents over the node or depth caps.
    """
    composer = _Composer(text, file, max_nodes, max_depth)
    try:
        return composer.compose()
    except RulesetError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            message = f"{exc.problem} ({exc.context})"
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise composer.fail(f"invalid YAML: {message}", line, column) from None
    except yaml.reader.ReaderError as exc:
        line, column = _position(text, exc.position)
        raise composer.fail(f"invalid YAML: {exc.reason}", line, column) from None
    except (yaml.YAMLError, ValueError, UnicodeError) as exc:
        raise composer.fail(f"invalid YAML: {exc}", None, None) from None
    finally:
        dispose = getattr(composer.events, "dispose", None)
        if dispose is not None:
            dispose()


def _position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


class _Dumper(yaml.SafeDumper):
    """A dumper whose quoting matches :func:`parse` (and stays safe for YAML 1.1 readers)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in _RESOLVERS:
    _Dumper.add_implicit_resolver(_tag, _pattern, list(_first))
_Dumper.add_implicit_resolver(_CORE + "null", _NULL_RE, [""])
# Quote anything a YAML 1.1 reader would not read as the same string (yes, 2020-01-01, 0x1F).
for _first_char, _entries in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
    for _tag, _pattern in _entries:
        _Dumper.yaml_implicit_resolvers.setdefault(_first_char, []).append((_tag, _pattern))


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style: str | None = None
    if any(ch in data for ch in "\x85\u2028\u2029"):
        style = '"'  # YAML line breaks other than \n: only escaped ones survive a round trip
    elif "\n" in data.strip("\n"):
        style = "|"
    return dumper.represent_scalar(_CORE + "str", data, style=style)


def _represent_tuple(dumper: yaml.SafeDumper, data: tuple[Any, ...]) -> yaml.SequenceNode:
    return dumper.represent_list(list(data))


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(tuple, _represent_tuple)


def dump(data: Any, *, header: str = "") -> str:
    """YAML text for plain data (dicts keep their order), which :func:`parse` reads back."""
    text: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return header + text
