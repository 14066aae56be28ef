"""Record classes for the flake8 path: what ``@dataclass`` gives, without its start-up cost.

``dataclasses`` compiles generated methods with ``exec`` for every class, about half a millisecond
each; with the plugin's few dozen records that was most of what installing it added to a flake8
run on one small file.  :func:`record` attaches shared, precompiled methods instead.  Type checkers
treat it as a dataclass (PEP 681), so constructors, defaults and frozenness are checked statically;
at run time frozen records are not guarded against assignment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        return lambda decorated: decorated


RecordT = TypeVar("RecordT", bound=type)
InstanceT = TypeVar("InstanceT")
_MISSING: Any = object()
_FIELDS = "__record_fields__"


class _Field:
    __slots__ = ("default", "factory", "compare")

    def __init__(self, default: Any, factory: Callable[[], Any] | None, compare: bool) -> None:
        self.default = default
        self.factory = factory
        self.compare = compare


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None, compare: bool = True) -> Any:
    """A field's default (``default_factory`` makes a fresh one per record); ``compare=False`` leaves
    it out of equality, ordering and hashing."""
    return _Field(default, default_factory, compare)


def _collect(cls: type) -> tuple[tuple[str, ...], dict[str, _Field], tuple[str, ...]]:
    names: list[str] = []
    specs: dict[str, _Field] = {}
    for base in reversed(cls.__mro__[1:]):
        inherited = base.__dict__.get(_FIELDS)
        if inherited is not None:
            for name, spec in inherited[1].items():
                if name not in specs:
                    names.append(name)
                specs[name] = spec
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if "ClassVar" in str(annotation):
            continue
        value = cls.__dict__.get(name, _MISSING)
        spec = value if isinstance(value, _Field) else _Field(value, None, True)
        if isinstance(value, _Field):
            if value.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value.default)
        if name not in specs:
            names.append(name)
        specs[name] = spec
    compared = tuple(name for name in names if specs[name].compare)
    return tuple(names), specs, compared


def _make_init(cls: type, names: tuple[str, ...], specs: dict[str, _Field]) -> Callable[..., None]:
    count = len(names)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > count:
            raise TypeError(f"{cls.__name__}() takes {count} arguments, {len(args)} given")
        values = self.__dict__
        for name, value in zip(names, args):
            values[name] = value
        for name in names[len(args):]:
            if name in kwargs:
                values[name] = kwargs.pop(name)
                continue
            spec = specs[name]
            if spec.factory is not None:
                values[name] = spec.factory()
            elif spec.default is not _MISSING:
                values[name] = spec.default
            else:
                raise TypeError(f"{cls.__name__}() missing argument {name!r}")
        if kwargs:
            raise TypeError(f"{cls.__name__}() got unexpected arguments {sorted(kwargs)}")

    return __init__


def _key(record: Any) -> tuple[Any, ...]:
    values = record.__dict__
    return tuple(values[name] for name in type(record).__dict__[_FIELDS][2])


def _eq(self: Any, other: object) -> Any:  # bool, or NotImplemented
    if type(other) is not type(self):
        return NotImplemented
    return bool(_key(self) == _key(other))


def _hash(self: Any) -> int:
    return hash(_key(self))


def _repr(self: Any) -> str:
    names = type(self).__dict__[_FIELDS][0]
    shown = ", ".join(f"{name}={self.__dict__.get(name)!r}" for name in names)
    return f"{type(self).__name__}({shown})"


def _comparison(compare: Callable[[tuple[Any, ...], tuple[Any, ...]], bool]) -> Callable[[Any, object], Any]:
    def method(self: Any, other: object) -> Any:  # bool, or NotImplemented
        if type(other) is not type(self):
            return NotImplemented
        return bool(compare(_key(self), _key(other)))

    return method


_ORDER = {
    "__lt__": _comparison(lambda a, b: a < b),
    "__le__": _comparison(lambda a, b: a <= b),
    "__gt__": _comparison(lambda a, b: a > b),
    "__ge__": _comparison(lambda a, b: a >= b),
}


def _build(cls: RecordT, frozen: bool, eq: bool, order: bool) -> RecordT:
    names, specs, compared = _collect(cls)
    setattr(cls, _FIELDS, (names, specs, compared))
    setattr(cls, "__init__", _make_init(cls, names, specs))
    if "__repr__" not in cls.__dict__:
        setattr(cls, "__repr__", _repr)
    if eq:
        setattr(cls, "__eq__", _eq)
        # As dataclasses do: frozen records hash by value, mutable ones are unhashable.
        setattr(cls, "__hash__", _hash if frozen else None)
    if order:
        for name, method in _ORDER.items():
            setattr(cls, name, method)
    return cls


@overload
def record(cls: RecordT, /) -> RecordT: ...


@overload
def record(*, frozen: bool = False, eq: bool = True, order: bool = False) -> Callable[[RecordT], RecordT]: ...


@dataclass_transform(field_specifiers=(field,))
def record(
    cls: RecordT | None = None, /, *, frozen: bool = False, eq: bool = True, order: bool = False
) -> RecordT | Callable[[RecordT], RecordT]:
    """``@record`` / ``@record(frozen=True, order=True)``: a class with ``__init__``, ``__repr__``,
    ``__eq__`` (and ``__hash__`` when frozen) and, with ``order``, comparisons, from its annotations."""
    if cls is not None:
        return _build(cls, frozen, eq, order)

    def decorate(target: RecordT) -> RecordT:
        return _build(target, frozen, eq, order)

    return decorate


def replace(instance: InstanceT, **changes: Any) -> InstanceT:
    """A copy of a record with some fields changed."""
    names = type(instance).__dict__[_FIELDS][0]
    values = {name: instance.__dict__[name] for name in names}
    values.update(changes)
    return type(instance)(**values)
