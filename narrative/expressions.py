"""The story expression language: small, typed, and never Python ``eval``.

Grammar (lowest precedence first)::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/" | "%") unary)*
    unary      := "-" unary | atom
    atom       := NUMBER | STRING | "true" | "false" | NAME | "mood." DIMENSION | "(" expr ")"

Values are booleans, numbers and strings; nothing converts implicitly (``1 and true``
and ``"a" + 1`` are type errors), so a story that type-checks at validation time
cannot fail at screening time except by dividing by zero. Comparisons do not chain.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from narrative.errors import ExpressionError, UndefinedVariable
from narrative.mood import DIMENSIONS

Value = bool | int | float | str
TypeName = Literal["bool", "number", "string"]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
  | (?P<op>==|!=|<=|>=|[<>+\-*/%()])
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "true", "false"}
# A story condition is a line, not a program: these bounds keep parsing, type checking
# and evaluation (all recursive) far from Python's recursion limit on hostile input.
MAX_TOKENS = 256
MAX_NESTING = 32
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


@dataclass(frozen=True, slots=True)
class Const:
    value: Value
    col: int


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    col: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Node
    col: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node
    col: int


Node = Const | Name | Unary | Binary


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, string, name, op, keyword, end
    text: str
    col: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ExpressionError(f"unexpected character {source[pos]!r}", source=source, col=pos)
        kind = match.lastgroup or ""
        text = match.group()
        if kind != "ws":
            if kind == "name" and text in _KEYWORDS:
                kind = "keyword"
            tokens.append(_Token(kind, text, pos))
        pos = match.end()
        if len(tokens) > MAX_TOKENS:
            reason = f"expression is longer than {MAX_TOKENS} tokens"
            raise ExpressionError(reason, source=source, col=pos)
    tokens.append(_Token("end", "", len(source)))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0

    def nest(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"expression nests deeper than {MAX_NESTING} levels", token)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, reason: str, token: _Token) -> ExpressionError:
        return ExpressionError(reason, source=self.source, col=token.col)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.error("empty expression", self.peek())
        node = self.or_expr()
        token = self.peek()
        if token.kind != "end":
            raise self.error(f"unexpected {token.text!r}", token)
        return node

    def _left_assoc(self, operators: set[str], operand: Callable[[], Node]) -> Node:
        node = operand()
        while self.peek().text in operators and self.peek().kind in ("op", "keyword"):
            token = self.take()
            node = Binary(token.text, node, operand(), token.col)
        return node

    def or_expr(self) -> Node:
        return self._left_assoc({"or"}, self.and_expr)

    def and_expr(self) -> Node:
        return self._left_assoc({"and"}, self.not_expr)

    def not_expr(self) -> Node:
        token = self.peek()
        if token.kind == "keyword" and token.text == "not":
            self.take()
            self.nest(token)
            node = Unary("not", self.not_expr(), token.col)
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        node = self.sum()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISONS:
            self.take()
            node = Binary(token.text, node, self.sum(), token.col)
            following = self.peek()
            if following.kind == "op" and following.text in _COMPARISONS:
                raise self.error("comparisons do not chain; use 'and'", following)
        return node

    def sum(self) -> Node:
        return self._left_assoc({"+", "-"}, self.product)

    def product(self) -> Node:
        return self._left_assoc({"*", "/", "%"}, self.unary)

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text == "-":
            self.take()
            self.nest(token)
            node = Unary("-", self.unary(), token.col)
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "number":
            try:
                number = float(token.text) if "." in token.text else int(token.text)
            except ValueError:  # int() refuses more than 4300 digits
                raise self.error("number is too long", token) from None
            return Const(number, token.col)
        if token.kind == "string":
            return Const(_unquote(token.text), token.col)
        if token.kind == "keyword" and token.text in ("true", "false"):
            return Const(token.text == "true", token.col)
        if token.kind == "name":
            if "." in token.text:
                prefix, _, field = token.text.partition(".")
                if prefix != "mood" or field not in DIMENSIONS:
                    raise self.error(
                        f"unknown name {token.text!r} (dotted names are mood.valence, "
                        "mood.arousal, mood.engagement)",
                        token,
                    )
            return Name(token.text, token.col)
        if token.kind == "op" and token.text == "(":
            self.nest(token)
            node = self.or_expr()
            self.depth -= 1
            closing = self.take()
            if closing.text != ")":
                raise self.error("missing ')'", closing)
            return node
        if token.kind == "end":
            raise self.error("expression ends too early", token)
        raise self.error(f"unexpected {token.text!r}", token)


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression with its source, ready to type-check and evaluate."""

    source: str
    tree: Node

    def names(self) -> tuple[str, ...]:
        """Every name it reads, in order of appearance (duplicates kept once)."""
        found: dict[str, None] = {}
        _collect_names(self.tree, found)
        return tuple(found)

    def check(self, types: Mapping[str, TypeName]) -> TypeName:
        """The expression's type given each variable's type (``mood.*`` are numbers).

        Raises:
            UndefinedVariable: a name is neither declared nor ``mood.*``.
            ExpressionError: operands of the wrong type.
        """
        return _infer(self.tree, types, self.source)

    def evaluate(self, env: Mapping[str, Value]) -> Value:
        """Evaluate with ``env`` holding every variable and ``mood.*``.

        Raises:
            UndefinedVariable: a name missing from ``env``.
            ExpressionError: wrong operand types or division by zero.
        """
        return _eval(self.tree, env, self.source)


def parse(source: str | bool | int | float) -> Expression:
    """Parse story source; YAML booleans and numbers are constant expressions.

    Raises:
        ExpressionError: the text does not follow the grammar above.
    """
    if isinstance(source, bool | int | float):
        return Expression(_literal_source(source), Const(source, 0))
    return Expression(source, _Parser(source).parse())


def _literal_source(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def type_of(value: Value) -> TypeName:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _collect_names(node: Node, found: dict[str, None]) -> None:
    match node:
        case Name(name=name):
            found.setdefault(name, None)
        case Unary(operand=operand):
            _collect_names(operand, found)
        case Binary(left=left, right=right):
            _collect_names(left, found)
            _collect_names(right, found)
        case Const():
            pass


def _infer(node: Node, types: Mapping[str, TypeName], source: str) -> TypeName:
    match node:
        case Const(value=value):
            return type_of(value)
        case Name(name=name, col=col):
            if name.startswith("mood."):
                return "number"
            if name not in types:
                raise UndefinedVariable(name, source=source, col=col)
            return types[name]
        case Unary(op=op, operand=operand, col=col):
            inner = _infer(operand, types, source)
            wanted: TypeName = "bool" if op == "not" else "number"
            if inner != wanted:
                raise ExpressionError(
                    f"'{op}' needs a {wanted}, not a {inner}", source=source, col=col
                )
            return wanted
        case Binary(op=op, left=left, right=right, col=col):
            lt, rt = _infer(left, types, source), _infer(right, types, source)
            return _binary_type(op, lt, rt, source, col)


def _binary_type(op: str, lt: TypeName, rt: TypeName, source: str, col: int) -> TypeName:
    def fail() -> ExpressionError:
        return ExpressionError(f"'{op}' cannot combine {lt} and {rt}", source=source, col=col)

    if op in ("and", "or"):
        if lt == rt == "bool":
            return "bool"
        raise fail()
    if op in ("==", "!="):
        if lt == rt:
            return "bool"
        raise fail()
    if op in ("<", "<=", ">", ">="):
        if lt == rt and lt != "bool":
            return "bool"
        raise fail()
    if op == "+" and lt == rt and lt in ("number", "string"):
        return lt
    if lt == rt == "number":
        return "number"
    raise fail()


def _eval(node: Node, env: Mapping[str, Value], source: str) -> Value:
    match node:
        case Const(value=value):
            return value
        case Name(name=name, col=col):
            if name not in env:
                raise UndefinedVariable(name, source=source, col=col)
            return env[name]
        case Unary(op=op, operand=operand, col=col):
            value = _eval(operand, env, source)
            if op == "not" and isinstance(value, bool):
                return not value
            if op == "-" and type_of(value) == "number":
                return -value  # type: ignore[operator]
            raise ExpressionError(f"'{op}' cannot apply to {value!r}", source=source, col=col)
        case Binary(op=op, left=left, right=right, col=col):
            if op in ("and", "or"):
                return _eval_logic(op, left, right, env, source, col)
            lv, rv = _eval(left, env, source), _eval(right, env, source)
            _binary_type(op, type_of(lv), type_of(rv), source, col)
            return _apply(op, lv, rv, source, col)


def _eval_logic(
    op: str, left: Node, right: Node, env: Mapping[str, Value], source: str, col: int
) -> bool:
    lv = _eval(left, env, source)
    if not isinstance(lv, bool):
        raise ExpressionError(f"'{op}' needs booleans, got {lv!r}", source=source, col=col)
    if (op == "and" and not lv) or (op == "or" and lv):
        return lv
    rv = _eval(right, env, source)
    if not isinstance(rv, bool):
        raise ExpressionError(f"'{op}' needs booleans, got {rv!r}", source=source, col=col)
    return rv


# Operand types were checked (`_binary_type`) before any of these is applied.
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}


def _apply(op: str, lv: Value, rv: Value, source: str, col: int) -> Value:
    if op in ("/", "%") and rv == 0:
        raise ExpressionError("division by zero", source=source, col=col)
    try:
        result: Value = _OPERATORS[op](lv, rv)
    except OverflowError:  # a huge int mixed with a float, or divided
        raise ExpressionError("number too large", source=source, col=col) from None
    return result


__all__ = ["Expression", "TypeName", "Value", "parse", "type_of"]
