"""Parse YAML (or JSON, which is YAML) into plain data plus the position of every node.

The validator reports ``FILE:LINE:COL`` of the offending node, so parsing keeps PyYAML's
node marks instead of throwing them away as ``yaml.safe_load`` does. It also catches
what ``safe_load`` silently accepts: a key given twice in one mapping (the later one would
win, and a writer's scene would vanish without a word).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

Path = tuple[str | int, ...]


class StoryLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false are booleans.

    YAML 1.1 also reads ``yes``, ``no``, ``on`` and ``off`` as booleans, so an option
    with ``id: no`` would silently become ``False`` and fail validation with a baffling
    message (the "Norway problem"). Story writers name options like that all the time.
    """


# `=` resolves to YAML 1.1's `value` tag, which has no constructor: `label: =` would fail.
_DROPPED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:value"}
StoryLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StoryLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

# libyaml's parser, when PyYAML was built with it, composes the same nodes (with the same
# marks and StoryLoader's resolvers) ten times faster: the demo story is parsed at every
# start-up. A document it refuses is parsed again by the pure-Python parser, whose error
# messages are the ones the validator reports.
_FastLoader: type[yaml.CSafeLoader] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CStoryLoader(yaml.CSafeLoader):
        yaml_implicit_resolvers = StoryLoader.yaml_implicit_resolvers

    _FastLoader = _CStoryLoader


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    col: int  # 1-based


@dataclass(slots=True)
class Document:
    """Parsed data, the position of each value (by path), and of each mapping key."""

    data: object
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    duplicates: list[tuple[Path, Position, Position]] = field(default_factory=list)

    def at(self, path: Path, *, key: bool = False) -> Position:
        """Position of the node at ``path`` (its key with ``key=True``), or its nearest parent."""
        table = self.keys if key else self.values
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            if prefix in table:
                return table[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return Position(1, 1)


class YamlSyntaxError(ValueError):
    """Not parseable; ``position`` is where the parser gave up."""

    def __init__(self, message: str, position: Position) -> None:
        self.position = position
        super().__init__(message)


def parse_document(text: str) -> Document:
    """Parse one YAML/JSON document.

    Raises:
        YamlSyntaxError: the text is not YAML, holds several documents, tags a value
            with a type it does not have (``!!int x``, ``!foo``), or nests too deeply.
    """
    document = Document(data=None)
    try:
        root = _compose(text)
        if root is not None:
            document.data = _build(root, (), document, StoryLoader(""))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(f"YAML syntax error: {reason}", where) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML syntax error: {exc}", Position(1, 1)) from exc
    except RecursionError as exc:  # PyYAML's composer and _build recurse per level
        reason = "YAML syntax error: nested too deeply, or an alias contains itself"
        raise YamlSyntaxError(reason, Position(1, 1)) from exc
    return document


def _compose(text: str) -> yaml.Node | None:
    if _FastLoader is not None:
        try:
            return yaml.compose(text, Loader=_FastLoader)
        except (yaml.YAMLError, RecursionError):
            pass  # the pure-Python parser says why, as the validator reports it
    return yaml.compose(text, Loader=StoryLoader)


def _mark(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: yaml.Node, path: Path, document: Document, loader: StoryLoader) -> object:
    document.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves `<<` merge keys
        result: dict[object, object] = {}
        first_seen: dict[object, Position] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, loader)
            if not isinstance(key, str | int | float | bool) and key is not None:
                key = str(key)
            child: Path = (*path, str(key))
            if key in first_seen:
                document.duplicates.append((child, _mark(key_node), first_seen[key]))
            else:
                first_seen[key] = _mark(key_node)
            document.keys[child] = _mark(key_node)
            result[key] = _build(value_node, child, document, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), document, loader) for i, item in enumerate(node.value)]
    return _construct(node, loader)


def _construct(node: yaml.Node, loader: StoryLoader) -> object:
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # PyYAML's constructors fail this way on an explicit tag that does not fit its
        # value (`!!int x`, `!!bool maybe`, `!!timestamp x`)
        reason = f"YAML syntax error: {node.value!r} is not a valid {node.tag}"
        raise YamlSyntaxError(reason, _mark(node)) from exc


__all__ = ["Document", "Path", "Position", "YamlSyntaxError", "parse_document"]
