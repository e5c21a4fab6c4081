"""`epochlint.records` behaves as `dataclasses` does for what epochlint uses."""

from __future__ import annotations

import dataclasses

import pytest

from epochlint.records import FrozenInstanceError, asdict, field, record, replace


@record(frozen=True)
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


@record
class Box:
    corner: Point
    label: str | None = None


@record(frozen=True, eq=False)
class Handle:
    name: str


@dataclasses.dataclass(frozen=True)
class ReferencePoint:
    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)


def test_init_repr_and_equality_match_dataclasses() -> None:
    point = Point(1, y=2)
    reference = ReferencePoint(1, y=2)
    assert repr(point).removeprefix("Point") == repr(reference).removeprefix("ReferencePoint")
    assert point == Point(1, 2, [])
    assert point != Point(1, 3)
    assert point != reference  # another class is never equal, as with dataclasses
    assert Point(1).tags is not Point(1).tags  # a fresh default for each instance


def test_frozen_records_refuse_assignment_and_hash_by_value() -> None:
    point = Point(1)
    with pytest.raises(FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.x  # type: ignore[misc]
    assert hash(Point(1, 2, ())) == hash(Point(1, 2, ()))  # type: ignore[arg-type]


def test_mutable_records_are_unhashable_and_eq_false_compares_identity() -> None:
    box = Box(Point(1))
    box.label = "a"
    assert box == Box(Point(1), "a")
    with pytest.raises(TypeError):
        hash(box)
    assert Handle("a") != Handle("a")
    assert len({Handle("a"), Handle("a")}) == 2


def test_replace_and_asdict() -> None:
    box = Box(Point(1, 2, ["t"]), "a")
    assert replace(box, label="b") == Box(Point(1, 2, ["t"]), "b")
    plain = asdict(box)
    assert plain == {"corner": {"x": 1, "y": 2, "tags": ["t"]}, "label": "a"}
    assert plain["corner"]["tags"] is not box.corner.tags  # copied, as dataclasses.asdict does
