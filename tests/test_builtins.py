"""Built-in methods (fluentai.runtime.methods) and global functions (fluentai.runtime.builtins), called
through their Python API: no parser or evaluator involved."""

from __future__ import annotations

import asyncio
import io
import math
import sys
from collections.abc import Callable as PyFn
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluentai.runtime.builtins import GLOBALS, MAX_RANGE, new_globals
from fluentai.runtime.functions import Builtin
from fluentai.runtime.methods import Method, lookup_method, method_names
from fluentai.runtime.ordering import compare
from fluentai.runtime.values import Callable, Promise
from fluentai.syntax.errors import RuntimeFault


class Fn(Callable):
    """A FluentAI function stand-in: calls a Python function, records what it was given."""

    __slots__ = ("calls", "fn", "n")

    def __init__(self, fn: PyFn[..., Any], arity: int | None = -1) -> None:
        self.name = "f"
        self.fn = fn
        self.n = fn.__code__.co_argcount if arity == -1 else arity
        self.calls: list[list[Any]] = []

    def call(self, args: list[Any]) -> Any:
        self.calls.append(list(args))
        return self.fn(*args)

    def arity(self) -> int | None:
        return self.n


def m(receiver: Any, name: str, *args: Any) -> Any:
    method = lookup_method(receiver, name)
    assert method is not None, f"no method {name}"
    return method.call(receiver, list(args))


def g(name: str, *args: Any) -> Any:
    f = GLOBALS[name]
    assert isinstance(f, Builtin)
    return f.call(list(args))


def fault(kind: str, call: PyFn[[], Any]) -> str:
    with pytest.raises(RuntimeFault) as info:
        call()
    assert info.value.kind == kind
    assert info.value.span is None
    return info.value.message


# --- lookup and Method --------------------------------------------------------------------


def test_lookup_returns_method_per_type() -> None:
    assert isinstance(lookup_method("s", "trim"), Method)
    assert lookup_method("s", "push") is None
    assert lookup_method([], "trim") is None
    assert lookup_method({}, "keys") is not None
    assert lookup_method(b"", "slice") is not None
    assert lookup_method(5, "keys") is None


def test_bool_is_not_int_for_lookup() -> None:
    assert lookup_method(True, "to_string").name == "bool.to_string"  # type: ignore[union-attr]
    assert lookup_method(1, "to_string").name == "int.to_string"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "value", [None, True, 1, 1.5, "s", b"b", [1], {"a": 1}, Promise.resolved(1), Fn(lambda: 1)]
)
def test_every_value_has_the_common_methods(value: Any) -> None:
    for name in ("to_string", "to_json", "type_of", "print"):
        assert lookup_method(value, name) is not None


def test_arity_error_names_receiver_type_and_alias() -> None:
    assert fault("TypeError", lambda: m("abc", "substring", 1, 2, 3)) == (
        "string.substring() takes 1 to 2 arguments, got 3"
    )
    assert fault("TypeError", lambda: m("abc", "to_uppercase", 1)) == (
        "string.to_uppercase() takes 0 arguments, got 1"
    )
    assert fault("TypeError", lambda: m([], "push")) == "list.push() takes 1 argument, got 0"
    assert (
        fault("TypeError", lambda: m(3, "type_of", 1)) == "int.type_of() takes 0 arguments, got 1"
    )
    assert fault("TypeError", lambda: m(Fn(lambda: 0), "to_string", 1)).startswith("function.")


def test_method_names() -> None:
    assert "substring" in method_names("x")
    assert "print" in method_names(3)
    assert "merge" in method_names({})


# --- any value ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "nil"),
        (True, "true"),
        (5.0, "5"),
        ("hi", "hi"),
        ([1, "a", None], '[1, "a", nil]'),
        ({"n": 2}, '{"n": 2}'),
    ],
)
def test_to_string_is_display(value: Any, text: str) -> None:
    assert m(value, "to_string") == text


def test_to_json_and_type_of() -> None:
    assert m({"a": [1, 2.0, None, True]}, "to_json") == '{"a":[1,2,null,true]}'
    assert m("x", "to_json") == '"x"'
    assert m(True, "type_of") == "bool"
    assert m({}, "type_of") == "map"
    assert fault("TypeError", lambda: m(b"x", "to_json"))


def test_print_method_writes_display_to_current_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)  # the REPL swaps stdout after import
    assert m([1, "a"], "print") is None
    assert m("raw", "print") is None
    assert out.getvalue() == '[1, "a"]\nraw\n'


# --- string -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "name", "args", "want"),
    [
        ("héllo", "length", [], 5),
        ("hello", "substring", [1], "ello"),
        ("hello", "substring", [1, 3], "el"),
        ("hello", "substring", [-3], "llo"),
        ("hello", "substring", [3, 1], ""),
        ("hello", "substring", [0, 99], "hello"),
        ("abc", "to_upper", [], "ABC"),
        ("abc", "to_uppercase", [], "ABC"),
        ("ABC", "to_lower", [], "abc"),
        ("ABC", "to_lowercase", [], "abc"),
        ("  a b \n", "trim", [], "a b"),
        ("a,b,,c", "split", [","], ["a", "b", "", "c"]),
        ("abc", "split", [""], ["a", "b", "c"]),
        (" a  b ", "split", [], ["a", "b"]),
        ("hello", "contains", ["ell"], True),
        ("hello", "contains", ["x"], False),
        ("hello", "starts_with", ["he"], True),
        ("hello", "ends_with", ["lo"], True),
        ("hello", "ends_with", ["he"], False),
        ("a-b-c", "replace", ["-", "+"], "a+b+c"),
        ("hello", "index_of", ["l"], 2),
        ("hello", "index_of", ["z"], -1),
        ("ab", "repeat", [3], "ababab"),
        ("ab", "repeat", [0], ""),
        ("hé", "chars", [], ["h", "é"]),
        (" -12 ", "to_int", [], -12),
        ("+7", "to_int", [], 7),
        ("2.5", "to_float", [], 2.5),
        ("1e3", "to_float", [], 1000.0),
        ("7", "to_float", [], 7.0),
        ('{"a": [1, 2.5]}', "from_json", [], {"a": [1, 2.5]}),
        ("hé", "to_bytes", [], b"h\xc3\xa9"),
    ],
)
def test_string_methods(s: str, name: str, args: list[Any], want: Any) -> None:
    got = m(s, name, *args)
    assert got == want
    assert type(got) is type(want)


@pytest.mark.parametrize(
    ("s", "name", "args", "message"),
    [
        ("ab", "repeat", ["x"], "string.repeat() expects an int, got string"),
        ("ab", "repeat", [True], "string.repeat() expects an int, got bool"),
        ("ab", "substring", [1.0], "string.substring() expects an int, got float"),
        ("ab", "substring", [0, None], None),
        ("ab", "split", [1], "string.split() expects a string, got int"),
        ("ab", "contains", [1], "string.contains() expects a string, got int"),
        ("ab", "starts_with", [None], "string.starts_with() expects a string, got nil"),
        ("ab", "ends_with", [[]], "string.ends_with() expects a string, got list"),
        ("ab", "replace", ["a", 1], "string.replace() expects a string, got int"),
        ("ab", "index_of", [{}], "string.index_of() expects a string, got map"),
    ],
)
def test_string_type_errors(s: str, name: str, args: list[Any], message: str | None) -> None:
    if message is None:  # an explicit nil end means "to the end"
        assert m(s, name, *args) == s
        return
    assert fault("TypeError", lambda: m(s, name, *args)) == message


@pytest.mark.parametrize("name", ["length", "trim", "chars", "to_int", "to_bytes", "from_json"])
def test_string_zero_arg_methods_reject_args(name: str) -> None:
    assert "takes 0 arguments, got 1" in fault("TypeError", lambda: m("1", name, 1))


def test_string_value_errors() -> None:
    assert (
        fault("ValueError", lambda: m("12a", "to_int"))
        == 'string.to_int() cannot parse "12a" as an int'
    )
    assert "1.5" in fault("ValueError", lambda: m("1.5", "to_int"))
    assert fault("ValueError", lambda: m("", "to_float"))
    assert fault("ValueError", lambda: m("1_0", "to_float"))
    assert fault("ValueError", lambda: m("{", "from_json"))
    assert fault("ValueError", lambda: m("ab", "repeat", -1))
    assert fault("ValueError", lambda: m("\ud800", "to_bytes"))
    long = fault("ValueError", lambda: m("x" * 500, "to_int"))
    assert len(long) < 120


def test_string_to_int_of_huge_number_is_a_value_error() -> None:
    assert "digits" in fault("ValueError", lambda: m("9" * 5000, "to_int"))


# --- list ---------------------------------------------------------------------------------


def test_push_mutates_and_chains() -> None:
    xs: list[Any] = [1]
    assert m(m(xs, "push", 2), "push", 3) is xs
    assert xs == [1, 2, 3]


def test_pop() -> None:
    xs = [1, 2]
    assert m(xs, "pop") == 2
    assert xs == [1]
    assert fault("IndexError", lambda: m([], "pop")) == "list.pop() on an empty list"


@pytest.mark.parametrize(
    ("args", "want"),
    [([0], 10), ([-1], 30), ([3], None), ([-4], None), ([5, "d"], "d"), ([1, "d"], 20)],
)
def test_get(args: list[Any], want: Any) -> None:
    assert m([10, 20, 30], "get", *args) == want


def test_get_first_last() -> None:
    assert fault("TypeError", lambda: m([1], "get", "0")) == "list.get() expects an int, got string"
    assert fault("TypeError", lambda: m([1], "get", False)) == "list.get() expects an int, got bool"
    assert m([1, 2], "first") == 1
    assert m([1, 2], "last") == 2
    assert m([], "first") is None
    assert m([], "last") is None


def test_map_filter_with_and_without_index() -> None:
    assert m([1, 2, 3], "map", Fn(lambda x: x * 2)) == [2, 4, 6]
    assert m(["a", "b"], "map", Fn(lambda x, i: f"{i}{x}")) == ["0a", "1b"]
    assert m([1, 2], "map", Fn(lambda: 0)) == [0, 0]
    assert m([1, 2, 3, 4], "filter", Fn(lambda x: x % 2)) == [1, 3]
    assert m([5, 6, 7], "filter", Fn(lambda x, i: i != 1)) == [5, 7]


def test_callback_of_unknown_arity_gets_only_the_element() -> None:
    f = Fn(lambda *a: len(a), arity=None)
    assert m([7, 8], "map", f) == [1, 1]
    assert f.calls == [[7], [8]]


def test_builtin_callback_never_gets_the_index() -> None:
    assert m([2, 3], "map", GLOBALS["range"]) == [[0, 1], [0, 1, 2]]
    assert m(["1", "2"], "map", GLOBALS["int"]) == [1, 2]


def test_callback_must_be_a_function() -> None:
    assert fault("TypeError", lambda: m([1], "map", 1)) == "list.map() expects a function, got int"
    assert (
        fault("TypeError", lambda: m([1], "filter", "f"))
        == "list.filter() expects a function, got string"
    )
    assert (
        fault("TypeError", lambda: m([1], "for_each", None))
        == "list.for_each() expects a function, got nil"
    )
    assert (
        fault("TypeError", lambda: m([1], "find", [])) == "list.find() expects a function, got list"
    )
    assert (
        fault("TypeError", lambda: m([1], "reduce", 0, 0))
        == "list.reduce() expects a function, got int"
    )
    assert (
        fault("TypeError", lambda: m([1], "fold", 0, 0))
        == "list.fold() expects a function, got int"
    )
    assert (
        fault("TypeError", lambda: m([1], "sort", 1)) == "list.sort() expects a function, got int"
    )


def test_map_over_a_list_the_callback_grows_terminates() -> None:
    xs = [1, 2]

    def grow(x: Any) -> Any:
        xs.append(x)
        return x

    assert m(xs, "map", Fn(grow)) == [1, 2]
    assert xs == [1, 2, 1, 2]


def test_reduce_fold_for_each_find() -> None:
    assert m([1, 2, 3], "reduce", 10, Fn(lambda acc, x: acc + x)) == 16
    assert m(["a", "b"], "fold", "", Fn(lambda acc, x: acc + x)) == "ab"
    assert m([5, 6], "reduce", 0, Fn(lambda acc, x, i: acc + i)) == 1
    assert m([], "reduce", "init", Fn(lambda acc, x: 0)) == "init"
    seen: list[Any] = []
    assert m([1, 2], "for_each", Fn(lambda x: seen.append(x))) is None
    assert seen == [1, 2]
    assert m([1, 5, 7], "find", Fn(lambda x: x > 4)) == 5
    assert m([1], "find", Fn(lambda x: x > 4)) is None
    assert "takes 2 arguments, got 1" in fault(
        "TypeError", lambda: m([1], "reduce", Fn(lambda a, b: a))
    )


def test_contains_index_of_use_structural_equality() -> None:
    xs = [1, [2, {"a": 3}], "x"]
    assert m(xs, "contains", [2, {"a": 3}]) is True
    assert m(xs, "contains", 1.0) is True
    assert m(xs, "contains", True) is False
    assert m(xs, "index_of", "x") == 2
    assert m(xs, "index_of", "y") == -1


def test_join() -> None:
    assert m([1, "a", None, 2.0, [1, "b"]], "join", ", ") == '1, a, nil, 2, [1, "b"]'
    assert m([], "join", "-") == ""
    assert fault("TypeError", lambda: m([1], "join", 1)) == "list.join() expects a string, got int"


@pytest.mark.parametrize(
    ("args", "want"),
    [([1], [2, 3, 4]), ([1, 3], [2, 3]), ([-2], [3, 4]), ([0, -1], [1, 2, 3]), ([9], [])],
)
def test_slice(args: list[Any], want: list[Any]) -> None:
    assert m([1, 2, 3, 4], "slice", *args) == want


def test_slice_errors() -> None:
    assert (
        fault("TypeError", lambda: m([1], "slice", "a"))
        == "list.slice() expects an int, got string"
    )
    assert "takes 1 to 2 arguments, got 0" in fault("TypeError", lambda: m([1], "slice"))


def test_reverse_concat_is_empty_return_new_lists() -> None:
    xs = [1, 2, 3]
    assert m(xs, "reverse") == [3, 2, 1]
    assert xs == [1, 2, 3]
    both = m(xs, "concat", [4])
    assert both == [1, 2, 3, 4]
    assert xs == [1, 2, 3]
    assert m([], "is_empty") is True
    assert m([0], "is_empty") is False
    assert (
        fault("TypeError", lambda: m(xs, "concat", "a"))
        == "list.concat() expects a list, got string"
    )


def test_sort() -> None:
    xs = [3, 1.5, 2]
    assert m(xs, "sort") == [1.5, 2, 3]
    assert xs == [3, 1.5, 2]
    assert m(["b", "a", "C"], "sort") == ["C", "a", "b"]
    assert m([[2, "a"], [1, "z"], [1, "b"]], "sort") == [[1, "b"], [1, "z"], [2, "a"]]
    assert m([], "sort") == []
    assert m([{"n": 1}], "sort") == [{"n": 1}]


def test_sort_with_key_and_comparator() -> None:
    people = [{"n": "b", "age": 30}, {"n": "a", "age": 20}, {"n": "c", "age": 20}]
    by_age = m(people, "sort", Fn(lambda p: p["age"]))
    assert [p["n"] for p in by_age] == ["a", "c", "b"]  # stable
    assert m([1, 3, 2], "sort", Fn(lambda a, b: b - a)) == [3, 2, 1]
    assert fault("TypeError", lambda: m([1, 2], "sort", Fn(lambda a, b: "x"))) == (
        "list.sort() comparator must return a number, got string"
    )
    assert fault("TypeError", lambda: m([1, 2], "sort", Fn(lambda p: [1, "a"][p - 1]))) == (
        "cannot compare int with string"
    )


@pytest.mark.parametrize(
    ("xs", "message"),
    [
        ([1, "a"], "cannot compare int with string"),
        (["a", 2.5, 1], "cannot compare string with float"),
        ([True, 1], "cannot compare bool with int"),
        ([None, None], "cannot compare nil with nil"),
        ([{}, {}], "cannot compare map with map"),
    ],
)
def test_sort_mixed_kinds(xs: list[Any], message: str) -> None:
    assert fault("TypeError", lambda: m(xs, "sort")) == message


def test_sort_lists_with_mixed_elements() -> None:
    # Which pair the sort compares first is up to the algorithm; both kinds must be named.
    message = fault("TypeError", lambda: m([[1], [2], ["a"]], "sort"))
    assert message in ("cannot compare int with string", "cannot compare string with int")


@given(st.lists(st.one_of(st.integers(), st.floats(allow_nan=False))))
def test_sort_numbers_agrees_with_python(xs: list[Any]) -> None:
    assert m(xs, "sort") == sorted(xs)


def test_compare() -> None:
    assert compare(1, 2.5) == -1
    assert compare("b", "a") == 1
    assert compare([1, 2], [1, 2]) == 0
    assert compare([1], [1, 0]) == -1
    assert compare(b"a", b"b") == -1
    assert fault("TypeError", lambda: compare(1, None)) == "cannot compare int with nil"


@pytest.mark.parametrize("name", ["length", "pop", "first", "last", "reverse", "is_empty"])
def test_list_zero_arg_methods_reject_args(name: str) -> None:
    assert fault("TypeError", lambda: m([1], name, 1)) == f"list.{name}() takes 0 arguments, got 1"


# --- map ----------------------------------------------------------------------------------


def test_map_reads() -> None:
    d = {"a": 1, "b": None}
    assert m(d, "keys") == ["a", "b"]
    assert m(d, "values") == [1, None]
    assert m(d, "entries") == [["a", 1], ["b", None]]
    assert m(d, "get", "a") == 1
    assert m(d, "get", "z") is None
    assert m(d, "get", "z", 0) == 0
    assert m(d, "get", "b", 0) is None
    for name in ("has", "has_key", "contains_key"):
        assert m(d, name, "b") is True
        assert m(d, name, "z") is False
    assert m(d, "length") == 2
    assert m(d, "size") == 2
    assert m({}, "is_empty") is True
    assert m(d, "is_empty") is False


def test_keys_is_a_copy() -> None:
    d = {"a": 1}
    keys = m(d, "keys")
    keys.append("x")
    assert d == {"a": 1}


def test_map_writes() -> None:
    d: dict[str, Any] = {"a": 1}
    assert m(m(d, "set", "b", 2), "set", "a", 3) is d
    assert d == {"a": 3, "b": 2}
    assert m(d, "remove", "a") == 3
    assert m(d, "remove", "zz") is None
    assert d == {"b": 2}
    merged = m({"a": 1, "b": 1}, "merge", {"b": 2, "c": 3})
    assert merged == {"a": 1, "b": 2, "c": 3}
    assert list(merged) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("get", [1], "map.get() expects a string key, got int"),
        ("set", [None, 1], "map.set() expects a string key, got nil"),
        ("has", [1.5], "map.has() expects a string key, got float"),
        ("has_key", [True], "map.has_key() expects a string key, got bool"),
        ("contains_key", [[]], "map.contains_key() expects a string key, got list"),
        ("remove", [2], "map.remove() expects a string key, got int"),
        ("merge", [[]], "map.merge() expects a map, got list"),
        ("keys", [1], "map.keys() takes 0 arguments, got 1"),
        ("set", ["a"], "map.set() takes 2 arguments, got 1"),
        ("size", [1], "map.size() takes 0 arguments, got 1"),
    ],
)
def test_map_errors(name: str, args: list[Any], message: str) -> None:
    assert fault("TypeError", lambda: m({"a": 1}, name, *args)) == message


# --- bytes --------------------------------------------------------------------------------


def test_bytes_methods() -> None:
    b = "hé!".encode()
    assert m(b, "length") == 4
    assert m(b, "to_string") == "hé!"
    assert m(b, "slice", 0, 1) == b"h"
    assert m(b, "slice", -1) == b"!"
    assert (
        fault("ValueError", lambda: m(b"\xff", "to_string"))
        == "bytes.to_string(): invalid UTF-8 at byte 0"
    )
    assert (
        fault("TypeError", lambda: m(b, "slice", "0")) == "bytes.slice() expects an int, got string"
    )
    assert (
        fault("TypeError", lambda: m(b, "length", 1)) == "bytes.length() takes 0 arguments, got 1"
    )


# --- global functions ---------------------------------------------------------------------


def test_print_global(capsys: pytest.CaptureFixture[str]) -> None:
    assert g("print", "a") is None
    assert g("print", 1, [2.0, "b"]) is None
    assert g("print") is None
    assert capsys.readouterr().out == 'a\n1 [2, "b"]\n\n'


@pytest.mark.parametrize("name", ["len", "length"])
def test_len(name: str) -> None:
    assert [g(name, v) for v in ("héllo", [1, 2], {"a": 1}, b"ab")] == [5, 2, 1, 2]
    assert (
        fault("TypeError", lambda: g(name, 5))
        == f"{name}() expects a string, list, map or bytes, got int"
    )
    assert fault("TypeError", lambda: g(name)) == f"{name}() takes 1 argument, got 0"


def test_range() -> None:
    assert g("range", 3) == [0, 1, 2]
    assert g("range", 2, 5) == [2, 3, 4]
    assert g("range", 5, 2) == []
    assert g("range", -2) == []
    assert fault("TypeError", lambda: g("range", 2.0)) == "range() expects an int, got float"
    assert (
        fault("TypeError", lambda: g("range", 1, 2, 3)) == "range() takes 1 to 2 arguments, got 3"
    )
    assert "too large" in fault("ValueError", lambda: g("range", MAX_RANGE + 1))


def test_str_and_type_of() -> None:
    assert g("str", 2.0) == "2"
    assert g("str", "x") == "x"
    assert g("str", [None, "x"]) == '[nil, "x"]'
    assert g("type_of", 1.5) == "float"
    assert g("type_of", Fn(lambda: 0)) == "function"
    assert g("type_of", Promise.resolved(1)) == "promise"
    assert fault("TypeError", lambda: g("str")) == "str() takes 1 argument, got 0"


def test_int() -> None:
    assert g("int", "12") == 12
    assert g("int", 3.7) == 3
    assert g("int", -3.7) == -3
    assert g("int", 10**30) == 10**30
    assert fault("ValueError", lambda: g("int", "abc")) == 'int() cannot parse "abc" as an int'
    assert fault("ValueError", lambda: g("int", math.inf)) == "int() cannot convert inf to an int"
    assert (
        fault("TypeError", lambda: g("int", True)) == "int() expects a number or a string, got bool"
    )
    assert (
        fault("TypeError", lambda: g("int", None)) == "int() expects a number or a string, got nil"
    )


def test_float() -> None:
    assert g("float", 2) == 2.0
    assert type(g("float", 2)) is float
    assert g("float", " -2.5e1 ") == -25.0
    assert g("float", "inf") == math.inf
    assert fault("ValueError", lambda: g("float", "x")) == 'float() cannot parse "x" as a float'
    assert fault("ValueError", lambda: g("float", 10**400))
    assert (
        fault("TypeError", lambda: g("float", []))
        == "float() expects a number or a string, got list"
    )


def test_abs() -> None:
    assert g("abs", -3) == 3
    assert type(g("abs", -3)) is int
    assert g("abs", -2.5) == 2.5
    assert fault("TypeError", lambda: g("abs", False)) == "abs() expects a number, got bool"


def test_min_max() -> None:
    assert g("min", 3, 1, 2) == 1
    assert g("max", [3, 1.5, 7]) == 7
    assert type(g("max", [3, 1.5, 7])) is int
    assert g("max", 2.0, 2) == 2.0
    assert type(g("max", 2.0, 2)) is float  # the first of equal values
    assert g("min", ["b", "a"]) == "a"
    assert g("max", 4) == 4
    assert fault("ValueError", lambda: g("max", [])) == "max() of an empty list"
    assert (
        fault("TypeError", lambda: g("min", 1, True))
        == "min() expects numbers or strings, got bool"
    )
    assert fault("TypeError", lambda: g("min", [1, "a"])) == "cannot compare int with string"
    assert fault("TypeError", lambda: g("max")) == "max() takes at least 1 argument, got 0"


@pytest.mark.parametrize(
    ("name", "x", "want"),
    [
        ("floor", 2.7, 2),
        ("floor", -2.1, -3),
        ("floor", 5, 5),
        ("ceil", 2.1, 3),
        ("ceil", -2.7, -2),
        ("round", 2.5, 3),
        ("round", -2.5, -3),
        ("round", 2.4, 2),
        ("round", -0.5, -1),
        ("round", 0.49999999999999994, 0),
        ("round", 7, 7),
        ("round", 1e20, 10**20),
    ],
)
def test_floor_ceil_round_give_ints(name: str, x: Any, want: int) -> None:
    got = g(name, x)
    assert got == want
    assert type(got) is int


@pytest.mark.parametrize("name", ["floor", "ceil", "round"])
def test_floor_ceil_round_errors(name: str) -> None:
    assert fault("TypeError", lambda: g(name, "1")) == f"{name}() expects a number, got string"
    assert (
        fault("ValueError", lambda: g(name, math.nan)) == f"{name}() cannot convert nan to an int"
    )
    assert fault("TypeError", lambda: g(name, 1.5, 1)) == f"{name}() takes 1 argument, got 2"


def test_sqrt() -> None:
    assert g("sqrt", 9) == 3.0
    assert type(g("sqrt", 9)) is float
    assert g("sqrt", 2.25) == 1.5
    assert fault("ValueError", lambda: g("sqrt", -4)) == "sqrt() of a negative number: -4"
    assert fault("TypeError", lambda: g("sqrt", True)) == "sqrt() expects a number, got bool"


def test_function_first_forms_and_pipe_order() -> None:
    double = Fn(lambda x: x * 2)
    assert g("map", double, [1, 2]) == [2, 4]
    assert g("map", [1, 2], double) == [2, 4]  # `xs |> map(f)`
    odd = Fn(lambda x: x % 2 == 1)
    assert g("filter", odd, [1, 2, 3]) == [1, 3]
    assert g("filter", [1, 2, 3], odd) == [1, 3]
    add = Fn(lambda acc, x: acc + x)
    assert g("fold", add, 0, [1, 2, 3]) == 6
    assert g("fold", [1, 2, 3], 0, add) == 6
    assert fault("TypeError", lambda: g("map", 1, [1])) == "map() expects a function, got int"
    assert (
        fault("TypeError", lambda: g("filter", odd, "abc")) == "filter() expects a list, got string"
    )
    assert fault("TypeError", lambda: g("fold", add, [1])) == "fold() takes 3 arguments, got 2"


def test_new_globals_copies_namespaces() -> None:
    mine = new_globals()
    mine["Promise"]["all"] = 5
    mine["len"] = None
    assert isinstance(GLOBALS["Promise"]["all"], Builtin)
    assert isinstance(GLOBALS["len"], Builtin)


# --- Promise.all / Promise.race -----------------------------------------------------------


def promise_all(items: Any) -> Promise:
    p = GLOBALS["Promise"]["all"].call([items])
    assert isinstance(p, Promise)
    return p


def promise_race(items: Any) -> Promise:
    p = GLOBALS["Promise"]["race"].call([items])
    assert isinstance(p, Promise)
    return p


def later(value: Any, delay: float, fail: bool = False) -> Promise:
    async def run() -> Any:
        await asyncio.sleep(delay)
        if fail:
            raise RuntimeFault("ValueError", str(value))
        return value

    return Promise(asyncio.get_running_loop().create_task(run()))


def test_promise_all_in_order() -> None:
    async def main() -> Any:
        a, b = later("a", 0.02), later("b", 0.0)
        result = await promise_all([a, b, 3, Promise.resolved("d")]).wait()
        assert a.observed and b.observed
        return result

    assert asyncio.run(main()) == ["a", "b", 3, "d"]


def test_promise_all_of_nothing_and_of_the_same_promise_twice() -> None:
    async def main() -> Any:
        p = later(1, 0.0)
        return await promise_all([]).wait(), await promise_all([p, p]).wait()

    assert asyncio.run(main()) == ([], [1, 1])


def test_promise_all_fails_with_the_first_error_in_time() -> None:
    async def main() -> str:
        slow_fail = later("slow", 0.05, fail=True)
        fast_fail = later("fast", 0.01, fail=True)
        never = later("x", 10)
        try:
            await promise_all([later(1, 0.0), slow_fail, fast_fail, never]).wait()
        except RuntimeFault as e:
            never.future.cancel()  # type: ignore[union-attr]
            await asyncio.sleep(0.06)  # let slow_fail fail unobserved by anyone but all()
            return e.message
        return "no error"

    assert asyncio.run(main()) == "fast"


def test_promise_all_with_an_already_failed_promise() -> None:
    async def main() -> str:
        try:
            await promise_all(
                [later(1, 0.01), Promise.failed(RuntimeFault("TypeError", "boom"))]
            ).wait()
        except RuntimeFault as e:
            return e.message
        return "no error"

    assert asyncio.run(main()) == "boom"


def test_promise_race_settles_like_the_first() -> None:
    async def main() -> Any:
        slow, fast = later("slow", 0.05), later("fast", 0.01)
        value = await promise_race([slow, fast]).wait()
        assert slow.observed and fast.observed
        try:
            await promise_race([later(1, 0.05), later("bad", 0.01, fail=True)]).wait()
        except RuntimeFault as e:
            return value, e.message
        return value, "no error"

    assert asyncio.run(main()) == ("fast", "bad")


def test_promise_race_of_elements_settling_together_takes_the_earliest_in_the_list() -> None:
    async def main() -> Any:
        b = later("b", 0.0)
        a = later("a", 0.0)
        return await promise_race([a, b]).wait()

    assert asyncio.run(main()) == "a"


def test_promise_race_prefers_a_settled_element() -> None:
    async def main() -> Any:
        return await promise_race([later("slow", 0.01), 7]).wait()

    assert asyncio.run(main()) == 7


def test_promise_errors() -> None:
    async def main() -> None:
        assert fault("TypeError", lambda: promise_all(5)) == "Promise.all() expects a list, got int"
        assert fault("ValueError", lambda: promise_race([]))
        assert "takes 1 argument, got 0" in fault(
            "TypeError", lambda: GLOBALS["Promise"]["race"].call([])
        )

    asyncio.run(main())
    assert "event loop" in fault("EffectError", lambda: promise_all([]))
