"""`@record`: the part of `dataclasses` epochlint uses, at a fraction of its import cost.

`epochlint check a.yaml` runs as a pre-commit hook and must start faster than the YAML linter
next to it. `import dataclasses` pulls in `inspect` (with `ast`, `dis`, `tokenize`): 5-6 ms, and
Python 3.11's `@dataclass` compiles each generated method on its own, about 0.35 ms a class;
a check defines some thirty records. Here only `__init__` is compiled (it runs for every value
of every file); the other methods are closures over a C-level attribute getter, and nothing
else is imported.

Semantics follow `dataclasses` for what epochlint uses: fields from the class annotations in
order, plain defaults and `field(default_factory=...)`, `__init__`, `__repr__`, `__eq__` (same
class, fields compared as a tuple), `frozen` (assignment raises, `__hash__` from the fields)
and `eq=False` (identity). Not supported: inheritance between records, `ClassVar`, `InitVar`,
`__post_init__`, field options other than `default_factory`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

# typing itself costs 3.5 ms to import, so a run does without it: the type checker reads the
# real names, a run their stand-ins (an overload is only read by the type checker, and
# dataclass_transform only marks the function for it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar, dataclass_transform, overload

    T = TypeVar("T")
else:

    def overload(function: Callable[..., object]) -> Callable[..., object]:
        return function

    def dataclass_transform(**_: object) -> Callable[[Callable[..., object]], object]:
        return lambda function: function


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record (as `dataclasses.FrozenInstanceError`)."""


class Field:
    __slots__ = ("default_factory",)

    def __init__(self, default_factory: Callable[[], Any]) -> None:
        self.default_factory = default_factory


def field(*, default_factory: Callable[[], Any]) -> Any:
    """A default made fresh for each instance (a list or dict must not be shared)."""
    return Field(default_factory)


_FIELDS = "__record_fields__"
_MISSING = object()


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(*, frozen: bool = False, eq: bool = True) -> Callable[[type[T]], type[T]]: ...  # noqa: F811


@dataclass_transform(field_specifiers=(field,))
def record(  # noqa: F811 (ruff does not know the stand-in for typing.overload)
    cls: type[T] | None = None, /, *, frozen: bool = False, eq: bool = True
) -> type[T] | Callable[[type[T]], type[T]]:
    def wrap(cls: type[T]) -> type[T]:
        return _process(cls, frozen, eq)

    return wrap if cls is None else wrap(cls)


def _process(cls: type[T], frozen: bool, eq: bool) -> type[T]:
    names = tuple(cls.__dict__.get("__annotations__", {}))
    cls.__init__ = _make_init(cls, names, frozen)  # type: ignore[method-assign]
    # The other methods read the fields through one C-level getter: compiling them for each
    # class, as __init__ is, doubled the time to import epochlint.
    values: Callable[[Any], Any] = operator.attrgetter(*names) if names else _no_values

    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(values(self))

    methods: dict[str, Callable[..., Any]] = {"__repr__": __repr__}
    if eq:
        methods["__eq__"] = __eq__
        if frozen:
            methods["__hash__"] = __hash__
    for method, function in methods.items():
        function.__qualname__ = f"{cls.__qualname__}.{method}"
        setattr(cls, method, function)
    if eq and not frozen:
        cls.__hash__ = None  # type: ignore[assignment]  # mutable, compared by value
    if frozen:
        cls.__setattr__ = _frozen_setattr  # type: ignore[method-assign]
        cls.__delattr__ = _frozen_delattr  # type: ignore[method-assign]
    setattr(cls, _FIELDS, names)
    return cls


def _no_values(instance: Any) -> tuple[()]:
    return ()


def _make_init(cls: type, names: tuple[str, ...], frozen: bool) -> Callable[..., None]:
    """`__init__` with the fields as parameters, compiled: it runs for every Span of a file."""
    namespace: dict[str, Any] = {"_MISSING": _MISSING}
    parameters, body = [], []
    for name in names:
        default = cls.__dict__.get(name, _MISSING)
        if isinstance(default, Field):
            namespace[f"_factory_{name}"] = default.default_factory
            delattr(cls, name)
            parameters.append(f"{name}=_MISSING")
            value = f"_factory_{name}() if {name} is _MISSING else {name}"
        elif default is not _MISSING:
            namespace[f"_default_{name}"] = default
            parameters.append(f"{name}=_default_{name}")
            value = name
        else:
            if any("=" in parameter for parameter in parameters):
                raise TypeError(f"non-default argument {name!r} follows default argument")
            parameters.append(name)
            value = name
        if frozen:
            # Straight into the instance dict: object.__setattr__ per field made a Span (made
            # twice for every key of every config) cost as much as constructing its value.
            body.append(f"  _values[{name!r}] = {value}")
        else:
            body.append(f"  self.{name} = {value}")
    if frozen and body:
        body.insert(0, "  _values = self.__dict__")
    source = "\n".join([f"def __init__(self, {', '.join(parameters)}):", *(body or ["  pass"])])
    exec(source, namespace)
    function: Callable[..., None] = namespace["__init__"]
    function.__qualname__ = f"{cls.__qualname__}.__init__"
    return function


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def fields(instance: Any) -> tuple[str, ...]:
    names: tuple[str, ...] = getattr(instance, _FIELDS)
    return names


def replace(instance: T, **changes: Any) -> T:
    """A copy with some fields changed (as `dataclasses.replace`)."""
    for name in fields(instance):
        if name not in changes:
            changes[name] = getattr(instance, name)
    return instance.__class__(**changes)


def asdict(instance: Any) -> dict[str, Any]:
    """A record, recursively, as a dict (as `dataclasses.asdict`, values copied)."""
    return {name: _plain(getattr(instance, name)) for name in fields(instance)}


def _plain(value: Any) -> Any:
    if hasattr(type(value), _FIELDS):
        return asdict(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*[_plain(item) for item in value])
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return type(value)((_plain(key), _plain(item)) for key, item in value.items())
    import copy  # only for values that are not plain containers, like dataclasses.asdict

    return copy.deepcopy(value)
