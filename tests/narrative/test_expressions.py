"""The story expression language: grammar, precedence, types, errors, and no eval."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from narrative.errors import ExpressionError, UndefinedVariable
from narrative.expressions import MAX_NESTING, MAX_TOKENS, Value, parse, type_of

ENV: dict[str, Value] = {
    "has_key": True,
    "nerve": 3,
    "name": "mara",
    "mood.valence": -0.25,
    "mood.arousal": 0.5,
    "mood.engagement": 0.75,
}
TYPES = {"has_key": "bool", "nerve": "number", "name": "string"}


def run(source: str) -> Value:
    expression = parse(source)
    expression.check(TYPES)  # what validates also evaluates
    return expression.evaluate(ENV)


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("42", 42),
        ("2.5", 2.5),
        (".5", 0.5),
        ("'it''s'", None),  # two adjacent strings: a syntax error, checked below
        ('"say \\"hi\\""', 'say "hi"'),
        ("'mara'", "mara"),
        ("true", True),
        ("false", False),
        ("nerve", 3),
        ("mood.arousal", 0.5),
        ("(nerve)", 3),
        ("name + '!'", "mara!"),
        ("nerve % 2", 1),
        ("7 / 2", 3.5),
        ("-nerve", -3),
        ("- -nerve", 3),
        ("not has_key", False),
        ("name == 'mara'", True),
        ("'a' < 'b'", True),
        ("nerve != 3", False),
        ("nerve >= 3 and mood.valence < 0", True),
    ],
)
def test_grammar(source: str, value: Value | None) -> None:
    if value is None:
        with pytest.raises(ExpressionError):
            parse(source)
    else:
        assert run(source) == value


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("1 + 2 * 3", 7),
        ("1 - 2 * 3", -5),
        ("8 - 4 / 2", 6),
        ("7 - 5 % 3", 5),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),  # left associative
        ("16 / 4 / 2", 2),
        ("-2 * 3", -6),
        ("2 - -2", 4),
        ("1 + 2 == 3", True),  # arithmetic binds tighter than comparison
        ("not 1 > 2", True),  # comparison tighter than not
        ("not true or true", True),  # not tighter than or: (not true) or true
        ("true or false and false", True),  # and tighter than or
        ("(true or false) and false", False),
        ("not not true", True),
    ],
)
def test_precedence(source: str, value: Value) -> None:
    assert run(source) == value


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("1", "number"),
        ("'x'", "string"),
        ("has_key or false", "bool"),
        ("nerve * 2", "number"),
        ("name + name", "string"),
        ("mood.engagement > 0.5", "bool"),
        ("name == 'x'", "bool"),
    ],
)
def test_types(source: str, kind: str) -> None:
    assert parse(source).check(TYPES) == kind


def test_yaml_constants_are_expressions() -> None:
    assert parse(True).check({}) == "bool"
    assert parse(3).evaluate({}) == 3
    assert parse(2.5).source == "2.5"
    assert [type_of(v) for v in (True, 1, 1.5, "s")] == ["bool", "number", "number", "string"]


@pytest.mark.parametrize(
    ("source", "col"),
    [
        ("1 and true", 2),
        ("'a' + 1", 4),
        ("-true", 0),
        ("not 1", 0),
        ("true < false", 5),
        ("name == 1", 5),
        ("has_key * 2", 8),
        ("nerve or has_key", 6),
    ],
)
def test_type_errors_point_at_the_operator(source: str, col: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source).check(TYPES)
    assert caught.value.col == col
    assert caught.value.code == "bad-expression"
    assert f"at column {col + 1}" in str(caught.value)


@pytest.mark.parametrize(
    ("source", "col"),
    [
        ("", 0),
        ("1 +", 3),
        ("(1 + 2", 6),
        ("1 $ 2", 2),
        ("1 2", 2),
        ("1 < 2 < 3", 6),  # comparisons do not chain
        ("mood.anger > 0", 0),
        ("a.b", 0),
        ("nerve ==", 8),
        ("'unterminated", 0),
        (")", 0),
        ("1 = 1", 2),
    ],
)
def test_syntax_errors_have_columns(source: str, col: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert caught.value.col == col
    assert caught.value.code == "bad-expression"


def test_undefined_variable_names_it_with_its_column() -> None:
    with pytest.raises(UndefinedVariable) as caught:
        parse("nerve + courage > 2").check(TYPES)
    assert (caught.value.name, caught.value.col, caught.value.code) == (
        "courage",
        8,
        "undefined-variable",
    )
    with pytest.raises(UndefinedVariable):
        parse("courage").evaluate(ENV)


def test_names_in_order_once() -> None:
    assert parse("nerve + nerve > 1 or mood.arousal > 0 and has_key").names() == (
        "nerve",
        "mood.arousal",
        "has_key",
    )


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "__import__('os').system('true')",
        "().__class__",
        "open('/etc/passwd')",
        "nerve.__class__",
        "[1, 2]",
        "lambda: 1",
        "1 if true else 2",
        "nerve ** 2",
        "nerve; 1",
    ],
)
def test_python_is_not_evaluated(source: str) -> None:
    with pytest.raises(ExpressionError):
        parse(source).check(TYPES)


def test_and_or_short_circuit() -> None:
    # the right side is not needed, so a missing variable there is not an error
    assert parse("false and missing").evaluate({}) is False
    assert parse("true or missing").evaluate({}) is True


def test_division_by_zero_is_an_expression_error() -> None:
    for source in ("1 / 0", "1 % 0", "nerve / (nerve - 3)", "1 / 0.0"):
        with pytest.raises(ExpressionError, match="division by zero"):
            parse(source).evaluate(ENV)


def test_hostile_sizes_are_refused_not_crashed() -> None:
    nested = "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1)
    for source in (
        nested,
        "-" * (MAX_NESTING + 1) + "1",
        "not " * (MAX_NESTING + 1) + "true",
        " + ".join(["1"] * MAX_TOKENS),
        "9" * 5000,
    ):
        with pytest.raises(ExpressionError):
            parse(source)
    with pytest.raises(ExpressionError, match="too large"):
        parse("9" * 400 + " / 3").evaluate({})
    deepest = "(" * MAX_NESTING + "1" + ")" * MAX_NESTING
    assert parse(deepest).evaluate({}) == 1


# Fragments of the grammar, so random text reaches deep into the parser and checker.
FRAGMENTS = [
    *"0123456789.+-*/%()<>=! '\"\\_",
    *("and ", "or ", "not ", "true", "false", "nerve", "name", "mood.", "mood.arousal", "x"),
]
GRAMMAR_TEXT = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


@given(st.one_of(st.text(max_size=60), GRAMMAR_TEXT))
def test_any_text_parses_or_raises_expression_error(source: str) -> None:
    try:
        expression = parse(source)
    except ExpressionError:
        return
    try:
        expression.check(TYPES)
        expression.evaluate(ENV)
    except ExpressionError:
        pass


@dataclass(frozen=True)
class Num:
    value: int

    def render(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class Neg:
    operand: Tree

    def render(self) -> str:
        return f"-{wrap(self.operand, 3, right=True)}"


@dataclass(frozen=True)
class Op:
    op: str
    left: Tree
    right: Tree

    def render(self) -> str:
        level = PRECEDENCE[self.op]
        left = wrap(self.left, level, right=False)
        return f"{left} {self.op} {wrap(self.right, level, right=True)}"


Tree = Num | Neg | Op
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2}
APPLY: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}


def level_of(tree: Tree) -> int:
    return PRECEDENCE[tree.op] if isinstance(tree, Op) else 3


def wrap(tree: Tree, level: int, *, right: bool) -> str:
    """Parentheses only where precedence or left associativity needs them."""
    inner = level_of(tree)
    needs = inner < level or (inner == level and right and isinstance(tree, Op))
    return f"({tree.render()})" if needs else tree.render()


def compute(tree: Tree) -> float:
    if isinstance(tree, Num):
        return tree.value
    if isinstance(tree, Neg):
        return -compute(tree.operand)
    return APPLY[tree.op](compute(tree.left), compute(tree.right))


numbers = st.integers(min_value=0, max_value=50).map(Num)
operators = st.sampled_from(sorted(PRECEDENCE))
trees = st.recursive(
    st.one_of(numbers, numbers, numbers, numbers.map(Neg)),  # mostly bare operands
    lambda inner: st.one_of(
        st.builds(Op, operators, inner, inner),
        st.builds(Op, operators, inner, inner),
        st.builds(Op, operators, inner, inner),
        inner.map(Neg),
    ),
    max_leaves=8,
)


@given(trees, st.booleans())
def test_arithmetic_matches_direct_computation(tree: Tree, fully_parenthesised: bool) -> None:
    source = full(tree) if fully_parenthesised else tree.render()
    try:
        expected = compute(tree)
    except ZeroDivisionError:
        with pytest.raises(ExpressionError, match="division by zero"):
            parse(source).evaluate({})
        return
    expression = parse(source)
    assert expression.check({}) == "number"
    assert expression.evaluate({}) == expected


def full(tree: Tree) -> str:
    if isinstance(tree, Num):
        return str(tree.value)
    if isinstance(tree, Neg):
        return f"(-{full(tree.operand)})"
    return f"({full(tree.left)} {tree.op} {full(tree.right)})"


@given(
    st.lists(st.integers(min_value=-20, max_value=20), min_size=2, max_size=8),
    st.lists(st.sampled_from(sorted(PRECEDENCE)), min_size=7, max_size=7),
)
def test_unparenthesised_chains_follow_precedence(numbers: list[int], ops: list[str]) -> None:
    """``a - b * c % d + e``: * / % before + -, each level left to right."""
    source = str(numbers[0]) + "".join(
        f" {op} {n}" for op, n in zip(ops, numbers[1:], strict=False)
    )
    try:
        values: list[float] = [numbers[0]]
        low: list[str] = []
        for op, n in zip(ops, numbers[1:], strict=False):
            if PRECEDENCE[op] == 2:
                values[-1] = APPLY[op](values[-1], n)
            else:
                low.append(op)
                values.append(n)
        expected = values[0]
        for op, value in zip(low, values[1:], strict=True):
            expected = APPLY[op](expected, value)
    except ZeroDivisionError:
        with pytest.raises(ExpressionError, match="division by zero"):
            parse(source).evaluate({})
        return
    assert parse(source).evaluate({}) == expected
