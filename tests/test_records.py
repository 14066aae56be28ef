"""The dataclass-like records of the flake8 path behave as dataclasses would."""

from __future__ import annotations

import pytest

from flake8_celery_django.records import field, record, replace


@record(frozen=True, order=True)
class Point:
    line: int
    col: int
    note: str = field(default="", compare=False)


@record
class Bag:
    name: str
    items: list[int] = field(default_factory=list)
    count: int = 0


def test_constructor_defaults_and_factories() -> None:
    first, second = Bag("a"), Bag("b", count=3)
    first.items.append(1)
    assert (first.name, first.items, first.count) == ("a", [1], 0)
    assert (second.name, second.items, second.count) == ("b", [], 3)
    assert Bag.count == 0 and not hasattr(Bag, "items")


def test_equality_order_and_hash_skip_uncompared_fields() -> None:
    assert Point(1, 2, "x") == Point(1, 2, "y")
    assert hash(Point(1, 2, "x")) == hash(Point(1, 2))
    assert sorted([Point(2, 0), Point(1, 5), Point(1, 2)]) == [Point(1, 2), Point(1, 5), Point(2, 0)]
    assert Point(1, 2) != (1, 2)


def test_mutable_records_are_unhashable_like_dataclasses() -> None:
    with pytest.raises(TypeError):
        hash(Bag("a"))


def test_replace_and_repr() -> None:
    moved = replace(Point(1, 2, "x"), col=9)
    assert (moved.line, moved.col, moved.note) == (1, 9, "x")
    assert repr(Bag("a")) == "Bag(name='a', items=[], count=0)"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing argument 'name'"),
        (("a", [], 1, 2), {}, "takes 3 arguments, 4 given"),
        (("a",), {"colour": 1}, "unexpected arguments ['colour']"),
    ],
)
def test_wrong_arguments_raise_type_error(args: tuple[object, ...], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Bag(*args, **kwargs)  # type: ignore[arg-type]
