"""Every public function's arguments, checked against its own annotations at the call.

`@checked` reads a function's type annotations once, when its module is imported,
and compiles one rule per parameter; each call then checks every argument before the
function body runs, so a value of the wrong kind is refused as `InvalidData` naming
the parameter (``column``), and nothing is sent to the server. An annotation the
rules cannot express fails the import, so no parameter goes unchecked by accident.

The rules are the database's, not Python's: a bool is not an integer (it is an int
to Python, but no count), a float is not one either (the server's assignment cast
would round it), text is not a list of text, bytes are not text, a naive datetime is
not an instant (the server would read it in the session's time zone), and an aware
one must name an instant Python can read back. Text holding a NUL or a lone
surrogate (``'\\ud800'``), which no PostgreSQL text can hold, is refused here too. A
UUID may be given as its text, as URLs carry it. Lists and mappings are checked item by item;
an `Iterable` argument (a generator, say) is read once into a tuple, which the
function receives. Dataclass arguments (`Filters`, `Settings`) are checked field by
field against their own annotations.

Why not a library: beartype and typeguard check Python's typing rules, under which
``True`` is an ``int`` and ``"ab"`` a ``Sequence[str]``; pydantic's strict mode is
closer but reports in its own error type and costs microseconds a call. The rules here
are a few dozen lines, and the wrapper they compile is the function's own signature
with one type test per argument on its common path: a fraction of a microsecond on a
point lookup (benchmarks/test_speed_paired.py measures the DAL with it).
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from dal._unset import _Unset
from dal.errors import InvalidData, lone_surrogate

__all__ = ["checked", "instant", "is_checked"]

F = TypeVar("F", bound=Callable[..., Any])

_TEXT_LIKE = (str, bytes, bytearray, memoryview)


@dataclass(frozen=True)
class _Rule:
    """What a parameter accepts.

    `what` reads in an error ("an integer"); `fast` is a Python expression over the
    argument (``{v}``) true when the value passes as it is, with the names it uses in
    `names`; `kind` says whether a value is of this rule's kind at all (a union uses
    it to choose the member whose error to report); `check` returns the value the
    function receives, or raises InvalidData naming the field.
    """

    what: str
    kind: Callable[[Any], bool]
    check: Callable[[Any, str], Any]
    fast: str | None = None
    names: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def _refuse(field: str, what: str, value: Any) -> InvalidData:
    shown = type(value).__name__ if not isinstance(value, (int, float, str)) else repr(value)
    if isinstance(value, str) and len(shown) > 40:
        shown = shown[:37] + "...'"
    return InvalidData(f"{field} must be {what}, not {shown}", column=field)


def _instances(classes: tuple[type, ...], what: str) -> _Rule:
    """Any instance of `classes`; an exact class seen once takes the fast test after."""
    known: set[type] = set(classes)

    def check(value: Any, field: str) -> Any:
        if not isinstance(value, classes):
            raise _refuse(field, what, value)
        known.add(type(value))
        return value

    return _Rule(
        what, lambda v: isinstance(v, classes), check, "type({v}) in {known}", {"known": known}
    )


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise _refuse(field, "text", value)
    if "\x00" in value:  # PostgreSQL text cannot hold one
        raise InvalidData(f"{field} must not contain a NUL byte", column=field)
    if lone_surrogate(value):
        raise InvalidData(
            f"{field} is not valid text: it holds a lone surrogate, which no UTF-8 text can",
            column=field,
        )
    return value


def _integer(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(field, "an integer", value)
    return value


def _real(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(field, "a number", value)
    return value


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise _refuse(field, "True or False", value)
    return value


def _uuid(value: Any, field: str) -> UUID:
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise _refuse(field, "a UUID", value)


def instant(value: Any, field: str) -> datetime:
    """`value` if it is a timezone-aware datetime naming an instant Python can read
    back (its UTC value within the years 1 to 9999); InvalidData naming `field` if not."""
    if not isinstance(value, datetime):
        raise _refuse(field, "a timezone-aware datetime", value)
    if value.utcoffset() is None:
        raise InvalidData(
            f"{field} must be timezone-aware (e.g. tzinfo=UTC): a naive datetime "
            "would be read in the session's time zone",
            column=field,
        )
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise InvalidData(
            f"{field} is outside the years 1 to 9999 in UTC, which Python cannot read back",
            column=field,
        ) from None
    return value


def _day(value: Any, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise _refuse(field, "a date", value)
    return value


_SIMPLE: dict[Any, _Rule] = {
    str: _Rule(
        "text",
        lambda v: isinstance(v, str),
        _text,
        "type({v}) is str and {v}.isascii() and {nul} not in {v}",
        {"nul": "\x00"},
    ),
    int: _Rule(
        "an integer",
        lambda v: isinstance(v, int) and not isinstance(v, bool),
        _integer,
        "type({v}) is int",
    ),
    float: _Rule(
        "a number",
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        _real,
        "type({v}) is float or type({v}) is int",
    ),
    bool: _Rule("True or False", lambda v: isinstance(v, bool), _flag, "type({v}) is bool"),
    UUID: _Rule(
        "a UUID", lambda v: isinstance(v, (UUID, str)), _uuid, "type({v}) is {uuid}", {"uuid": UUID}
    ),
    datetime: _Rule("a timezone-aware datetime", lambda v: isinstance(v, datetime), instant),
    date: _Rule(
        "a date", lambda v: isinstance(v, date), _day, "type({v}) is {date}", {"date": date}
    ),
    type(None): _Rule("None", lambda v: v is None, lambda v, f: v, "{v} is None"),
    _Unset: _Rule(
        "",
        lambda v: isinstance(v, _Unset),
        lambda v, f: v,
        "type({v}) is {unset}",
        {"unset": _Unset},
    ),
    Any: _Rule("anything", lambda v: True, lambda v, f: v, "True"),
    object: _Rule("anything", lambda v: True, lambda v, f: v, "True"),
}


def _union(members: list[_Rule]) -> _Rule:
    what = " or ".join(rule.what for rule in members if rule.what)  # UNSET goes unsaid

    def check(value: Any, field: str) -> Any:
        first: InvalidData | None = None
        for rule in members:  # the first member of the value's kind that takes it
            if rule.kind(value):
                try:
                    return rule.check(value, field)
                except InvalidData as exc:
                    first = first or exc
        raise first or _refuse(field, what, value)

    fasts, names = [], {}
    for index, rule in enumerate(members):
        if rule.fast is None:
            continue
        renamed = rule.fast
        for name, value in rule.names.items():
            renamed = renamed.replace("{" + name + "}", "{" + f"{name}{index}" + "}")
            names[f"{name}{index}"] = value
        fasts.append(f"({renamed})")
    return _Rule(
        what,
        lambda v: any(rule.kind(v) for rule in members),
        check,
        " or ".join(fasts) if fasts else None,
        names,
    )


def _items(value: Any, field: str, item: _Rule) -> tuple[Any, bool]:
    """Each item of `value` checked; whether any came back changed (UUID text)."""
    out, changed = [], False
    for index, element in enumerate(value):
        got = item.check(element, f"{field}[{index}]")
        changed = changed or got is not element
        out.append(got)
    return tuple(out), changed


def _fast_source(rule: _Rule, var: str, prefix: str, scope: dict[str, Any]) -> str:
    """`rule.fast` over the variable `var`, its names put into `scope` as `prefix`+name."""
    assert rule.fast is not None
    for name, value in rule.names.items():
        scope[prefix + name] = value
    return rule.fast.format(v=var, **{name: prefix + name for name in rule.names})


def _fast_test(rule: _Rule) -> Callable[[Any], bool] | None:
    """`rule.fast` as a function, for the items of a list: 50 ids take 3 µs, not 12."""
    if rule.fast is None:
        return None
    scope: dict[str, Any] = {}
    test: Callable[[Any], bool] = eval(f"lambda v: {_fast_source(rule, 'v', '_', scope)}", scope)
    return test


def _sequence(item: _Rule, container: type, what: str, materialise: bool) -> _Rule:
    fast = _fast_test(item)

    def kind(value: Any) -> bool:
        return isinstance(value, container) and not isinstance(value, _TEXT_LIKE)

    def check(value: Any, field: str) -> Any:
        if not kind(value):
            raise _refuse(field, what, value)
        if container is Set and isinstance(value, Set):  # a set stays a set
            try:
                checked_items, changed = _items(value, field, item)
            except InvalidData as exc:
                exc.column = field
                raise
            return frozenset(checked_items) if changed else value
        if fast is not None:
            items = tuple(value) if materialise else value
            if all(map(fast, items)):  # every item as it is: nothing to build
                return items
            value = items  # (an iterator read once above is this tuple now)
        try:
            items, changed = _items(value, field, item)
        except InvalidData as exc:
            exc.column = field
            raise
        return items if (materialise or changed) else value

    return _Rule(what, kind, check)


def _mapping(key: _Rule, val: _Rule, what: str) -> _Rule:
    def check(value: Any, field: str) -> Any:
        if not isinstance(value, Mapping):
            raise _refuse(field, what, value)
        out, changed = {}, False
        try:
            for k, v in value.items():
                ck = key.check(k, f"{field} key {k!r}")
                cv = val.check(v, f"{field}[{k!r}]")
                changed = changed or ck is not k or cv is not v
                out[ck] = cv
        except InvalidData as exc:
            exc.column = field
            raise
        return out if changed else value

    return _Rule(what, lambda v: isinstance(v, Mapping), check)


def _tuple(items: list[_Rule], what: str) -> _Rule:
    def check(value: Any, field: str) -> Any:
        if not isinstance(value, tuple) or len(value) != len(items):
            raise _refuse(field, what, value)
        out = []
        try:
            for index, (rule, element) in enumerate(zip(items, value, strict=True)):
                out.append(rule.check(element, f"{field}[{index}]"))
        except InvalidData as exc:
            exc.column = field
            raise
        return tuple(out)

    return _Rule(what, lambda v: isinstance(v, tuple), check)


def _dataclass(cls: type) -> _Rule:
    fields = [(f.name, _rule(hint)) for f, hint in _field_hints(cls)]
    what = f"a {cls.__name__}"

    def check(value: Any, field: str) -> Any:
        if not isinstance(value, cls):
            raise _refuse(field, what, value)
        changes = {}
        for name, rule in fields:
            current = getattr(value, name)
            got = rule.check(current, name)  # the field's own name, as its column
            if got is not current:
                changes[name] = got
        return dataclasses.replace(typing.cast(Any, value), **changes) if changes else value

    return _Rule(what, lambda v: isinstance(v, cls), check)


def _field_hints(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls) if f.init]


_CONTAINERS: dict[Any, tuple[type, str, bool]] = {
    Sequence: (Sequence, "a list", False),
    list: (list, "a list", False),
    tuple: (tuple, "a tuple", False),  # tuple[X, ...]
    Collection: (Collection, "a collection", True),
    Iterable: (Iterable, "an iterable", True),
    Set: (Set, "a set", True),
    set: (Set, "a set", True),
    frozenset: (Set, "a set", True),
}


def _rule(hint: Any) -> _Rule:
    """The rule for annotation `hint`; TypeError when none can express it."""
    if hint in _SIMPLE:
        return _SIMPLE[hint]
    if isinstance(hint, TypeVar):
        return _rule(hint.__bound__) if hint.__bound__ is not None else _SIMPLE[Any]
    origin = typing.get_origin(hint)
    if origin is not None:
        return _generic_rule(hint, origin, typing.get_args(hint))
    if hint is Callable:
        return _Rule("a function", callable, _callable)
    if isinstance(hint, type):
        if hint is Path:
            return _instances((os.PathLike,), "a path")
        if dataclasses.is_dataclass(hint):
            return _dataclass(hint)
        return _instances((hint,), f"a {hint.__name__}")
    raise TypeError(f"no argument rule for the annotation {hint!r}")


def _generic_rule(hint: Any, origin: Any, args: tuple[Any, ...]) -> _Rule:
    """The rule for a subscripted annotation: a union, a container, a Literal."""
    if origin in (typing.Union, types.UnionType):
        return _union([_rule(arg) for arg in args])
    if origin is typing.Literal:
        return _literal(args)
    if origin is tuple and args and args[-1] is not Ellipsis:
        members = [_rule(arg) for arg in args]
        return _tuple(members, f"a pair ({', '.join(m.what for m in members)})")
    if origin in _CONTAINERS:
        container, what, materialise = _CONTAINERS[origin]
        item = _rule(args[0]) if args else _SIMPLE[Any]
        return _sequence(item, container, f"{what} of {_plural(item.what)}", materialise)
    if origin in (Mapping, dict):
        key, val = (_rule(args[0]), _rule(args[1])) if args else (_SIMPLE[Any], _SIMPLE[Any])
        to = "" if val is _SIMPLE[Any] else f" to {_plural(val.what)}"
        return _mapping(key, val, f"a mapping of {_plural(key.what)}{to}")
    if origin is type:
        return _instances((type,), "a class")
    if origin is Callable:
        return _Rule("a function", callable, _callable)
    if isinstance(origin, type):  # Connection[Any], ConnectionPool[...]
        return _instances((origin,), f"a {origin.__name__}")
    raise TypeError(f"no argument rule for the annotation {hint!r}")


def _literal(allowed: tuple[Any, ...]) -> _Rule:
    what = " or ".join(repr(a) for a in allowed)
    kinds = {type(a) for a in allowed}

    def check(value: Any, field: str) -> Any:
        if type(value) not in kinds or value not in allowed:
            raise _refuse(field, what, value)
        return value

    return _Rule(what, lambda v: v in allowed, check)


def _callable(value: Any, field: str) -> Any:
    if not callable(value):
        raise _refuse(field, "a function", value)
    return value


def _plural(what: str) -> str:
    for article in ("an ", "a "):
        if what.startswith(article):
            return what[len(article) :] + "s"
    return what


def is_checked(fn: Callable[..., Any]) -> bool:
    """Whether `fn` checks its arguments with `checked`."""
    return getattr(fn, "__dal_checked__", False) is True


def checked(fn: F) -> F:
    """`fn`, checking each argument against its annotation before its body runs.

    The wrapper is compiled with `fn`'s own signature (names, defaults, keyword-only
    markers), so calls bind exactly as before and `inspect.signature` shows `fn`'s.
    A coroutine function stays one: its checks run when it is awaited.
    """
    hints = typing.get_type_hints(fn)
    signature = inspect.signature(fn)
    namespace: dict[str, Any] = {"_fn": fn}
    head, lines, call = [], [], []
    star_seen = False
    for p in signature.parameters.values():
        text = p.name
        if p.default is not p.empty:
            namespace[f"_d_{p.name}"] = p.default
            text += f"=_d_{p.name}"
        if p.kind is p.VAR_POSITIONAL:
            text, star_seen = f"*{p.name}", True
            call.append(f"*{p.name}")
        elif p.kind is p.VAR_KEYWORD:
            text = f"**{p.name}"
            call.append(f"**{p.name}")
        elif p.kind is p.KEYWORD_ONLY:
            if not star_seen:
                head.append("*")
                star_seen = True
            call.append(f"{p.name}={p.name}")
        else:
            call.append(p.name)
        head.append(text)
        if p.name not in hints:
            raise TypeError(f"{fn.__qualname__}: parameter {p.name} has no annotation")
        lines.extend(_lines_for(p, hints[p.name], namespace))
        if p.kind is p.POSITIONAL_ONLY and _last_positional_only(signature, p):
            head.append("/")
    is_async = inspect.iscoroutinefunction(fn)
    body = lines or ["pass"]
    source = (
        f"{'async ' if is_async else ''}def {fn.__name__}({', '.join(head)}):\n"
        + "".join(f"    {line}\n" for line in body)
        + f"    return {'await ' if is_async else ''}_fn({', '.join(call)})\n"
    )
    exec(compile(source, f"<checked {fn.__module__}.{fn.__qualname__}>", "exec"), namespace)
    wrapper = namespace[fn.__name__]
    for attribute in ("__module__", "__name__", "__qualname__", "__doc__", "__annotations__"):
        setattr(wrapper, attribute, getattr(fn, attribute))
    wrapper.__wrapped__ = fn
    wrapper.__dal_checked__ = True
    return typing.cast(F, wrapper)


def _last_positional_only(signature: inspect.Signature, p: inspect.Parameter) -> bool:
    kinds = [q.kind for q in signature.parameters.values()]
    index = list(signature.parameters).index(p.name)
    return index + 1 == len(kinds) or kinds[index + 1] is not p.POSITIONAL_ONLY


_EACH = {
    inspect.Parameter.VAR_POSITIONAL: "tuple({c}(v, {n!r}) for v in {n})",
    inspect.Parameter.VAR_KEYWORD: "{{k: {c}(v, k) for k, v in {n}.items()}}",
}


def _lines_for(p: inspect.Parameter, hint: Any, namespace: dict[str, Any]) -> list[str]:
    """The wrapper's lines checking parameter `p` (each item of *args and **kwargs)."""
    rule = _rule(hint)
    if rule.fast == "True":  # anything goes
        return []
    check = f"_check_{p.name}"
    namespace[check] = rule.check
    if p.kind in _EACH:
        return [f"{p.name} = " + _EACH[p.kind].format(c=check, n=p.name)]
    tests = []
    if p.default is not p.empty:
        tests.append(f"{p.name} is _d_{p.name}")
    if rule.fast is not None:
        tests.append(_fast_source(rule, p.name, f"_{p.name}_", namespace))
    if not tests:
        return [f"{p.name} = {check}({p.name}, {p.name!r})"]
    return [f"if not ({' or '.join(tests)}):", f"    {p.name} = {check}({p.name}, {p.name!r})"]
