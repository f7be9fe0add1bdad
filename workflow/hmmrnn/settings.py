"""The one loader of settings: a frozen settings dataclass mirrors one config group under the same key names and is
built from that group's mapping by ``from_params``, without renaming."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, get_args, get_type_hints

__all__ = ["FromParams"]


class FromParams:
    """``from_params`` for frozen settings dataclasses: unknown or missing keys raise, so every setting takes effect.

    A mapping given for a field annotated with another settings class (or ``SettingsClass | None``) becomes that
    class; lists become tuples, nested lists nested tuples.
    """

    @classmethod
    def from_params(cls, params: Mapping[str, Any]):
        names = {field.name for field in fields(cls)}
        unknown, missing = sorted(set(params) - names), sorted(names - set(params))
        if unknown or missing:
            raise ValueError(f"{cls.__name__}: unknown settings {unknown}, missing settings {missing}")
        hints = get_type_hints(cls)

        def convert(name: str, value: Any) -> Any:
            if isinstance(value, Mapping):
                nested = [
                    t
                    for t in (hints[name], *get_args(hints[name]))
                    if isinstance(t, type) and issubclass(t, FromParams)
                ]
                if nested:
                    return nested[0].from_params(value)
            return _tuples(value)

        return cls(**{name: convert(name, value) for name, value in params.items()})


def _tuples(value: Any) -> Any:
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value
