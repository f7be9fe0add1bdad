"""Config checks that run before any job: YAML syntax by file and line, and every schema error at once.

JSON Schema lets two kinds of bad value through that this module rejects: an ``integer`` may be a float with a
zero fraction (``hidden_sizes: [8.0]`` would make a job for ``hidden_8.0``), and a ``number`` may be NaN or
infinite (``learning_rate: .nan`` would fail deep inside torch). Here an integer must be written as one, every
number anywhere in the config must be finite, and a number YAML read as text (``1e-3``: YAML 1.1 needs a decimal
point and a signed exponent) is reported with the spelling that works (``1.0e-3``).

Snakemake itself reads the files given with ``--configfile`` before the workflow starts: a YAML error there is
reported by Snakemake without the file or line, and a missing file as a traceback; no workflow code runs before
that. :func:`checked_yaml_file` covers the workflow's own ``config/config.yaml`` (the Snakefile's ``configfile:``);
a key written twice in one mapping (which YAML readers accept, keeping the last) is an error in every config file,
``--configfile`` ones included, since they parse by then.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from .errors import ConfigError

__all__ = ["check_config_schema", "checked_yaml_file", "schema_problems"]

_SCHEMA_FILE = "config/config.schema.json"
_EXPONENT = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+))[eE]([+-]?)(\d+)")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                first = seen[key]
                raise yaml.constructor.ConstructorError(
                    f"while reading a mapping (key {key!r} first at line {first.line + 1}, column {first.column + 1})",
                    None,
                    f"key {key!r} is written twice; keep one",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def checked_yaml_file(path: str | os.PathLike) -> str | os.PathLike:
    """``path`` itself, after checking that it is valid YAML with no repeated key; a missing file is left to
    Snakemake.

    Raises
    ------
    ConfigError
        Naming the file, the line and the column of the first syntax error or repeated key.
    """
    if not os.path.isfile(path):
        return path
    with open(path, encoding="utf-8") as handle:
        try:
            yaml.load(handle, Loader=_UniqueKeyLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
            what = error.problem or error.context or "invalid YAML"
            if error.context and error.problem:
                start = error.context_mark
                what += f" ({error.context}" + (
                    f" at line {start.line + 1}, column {start.column + 1})" if start else ")"
                )
            raise ConfigError(f"{where}: YAML syntax error: {what}") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML ({error})") from None
    return path


def schema_problems(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Every problem of ``config`` against ``schema``, one line each, naming the key and, where clear, the fix.

    Stricter than JSON Schema in two ways: integers must be ints (not 8.0) and numbers must be finite.
    """
    from jsonschema import validators

    base = validators.validator_for(schema)
    checker = base.TYPE_CHECKER.redefine_many({"integer": _is_integer, "number": _is_finite_number})
    validator = validators.extend(base, type_checker=checker)(schema)
    problems: dict[str, list[str]] = {
        key: [f"{value!r} is not a finite number; write a finite value"] for key, value in _non_finite(config)
    }
    for error in validator.iter_errors(config):
        if isinstance(error.instance, float) and not math.isfinite(error.instance):
            continue  # reported once above, whatever the schema expected there
        problems.setdefault(_key(error.json_path), []).append(_describe(error))
    return [f"{key}: {'; '.join(messages)}" for key, messages in sorted(problems.items())]


def check_config_schema(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` listing every problem of :func:`schema_problems`, if there is any."""
    problems = schema_problems(config, schema)
    if problems:
        lines = "\n".join(f"  {problem}" for problem in problems)
        count = f"{len(problems)} problems" if len(problems) > 1 else "1 problem"
        raise ConfigError(f"{count} (types and ranges: {_SCHEMA_FILE}):\n{lines}")


def _is_integer(checker: object, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_finite_number(checker: object, instance: object) -> bool:
    return isinstance(instance, int | float) and not isinstance(instance, bool) and math.isfinite(instance)


def _key(json_path: str) -> str:
    return json_path.removeprefix("$").lstrip(".") or "<top level>"


def _non_finite(value: Any, key: str = "") -> Iterator[tuple[str, float]]:
    """``(key, value)`` of every NaN or infinite float in a nested config."""
    if isinstance(value, float) and not math.isfinite(value):
        yield key or "<top level>", value
    elif isinstance(value, Mapping):
        for name, item in value.items():
            yield from _non_finite(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{key}[{index}]")


def _describe(error: Any) -> str:
    """One schema error as ``problem; fix`` (without the key)."""
    instance = error.instance
    if error.validator == "type":
        expected = error.validator_value
        expected = set(expected) if isinstance(expected, list) else {expected}
        if "integer" in expected and isinstance(instance, float) and instance.is_integer():
            return f"{instance!r} must be an integer; write {int(instance)}"
        if expected & {"integer", "number"} and isinstance(instance, str):
            spelling = _number_spelling(instance)
            if spelling is not None:
                return (
                    f"{instance!r} was read as text, not a number (YAML needs a decimal point and a signed "
                    f"exponent); write {spelling}"
                )
            if _is_number_text(instance):
                return f"{instance!r} is quoted text, not a number; remove the quotes"
    return error.message


def _is_number_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _number_spelling(text: str) -> str | None:
    """How to write the number ``text`` so that YAML reads a number (``1e-3`` -> ``1.0e-3``), or None."""
    match = _EXPONENT.fullmatch(text.strip())
    if match is None:
        return None
    mantissa, sign, exponent = match.groups()
    if "." not in mantissa:
        mantissa += ".0"
    elif mantissa.endswith("."):
        mantissa += "0"
    spelling = f"{mantissa}e{sign or '+'}{exponent}"
    return spelling if isinstance(yaml.safe_load(spelling), float) else None
