"""Load and validate the `[tool.pytest_kimi]` table of `pyproject.toml`."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from pytest_kimi.config.routes import (
    BUILTIN_EMULATOR,
    BUILTIN_MOONSHOT,
    FLAVORS,
    MODES,
    Route,
    route_from_table,
)
from pytest_kimi.errors import KimiConfigError

__all__ = ["CONFIG_SCHEMA", "Settings", "load_settings", "parse_settings"]

_ROUTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "flavor": {"enum": list(FLAVORS)},
        "base_url": {"type": "string", "minLength": 1},
        "model": {"type": "string", "minLength": 1},
        "api_key_env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "emulator": {"oneOf": [{"type": "boolean"}, {"type": "object"}]},
        "modes": {"type": "array", "items": {"enum": list(MODES)}},
        "capabilities": {"type": "array", "items": {"type": "string"}},
        "history_reasoning_field": {"enum": ["reasoning_content", "reasoning"]},
        "thinking_param": {"enum": ["thinking", "chat_template_kwargs", "none"]},
        "preserve_kwargs": {"type": "object"},
        "context_window": {"type": "integer", "minimum": 1},
        "max_concurrency": {"type": "integer", "minimum": 1},
        "requests_per_minute": {"type": "integer", "minimum": 1},
        "request_defaults": {"type": "object"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "timeout_s": {"type": "number", "exclusiveMinimum": 0},
        "max_retries": {"type": "integer", "minimum": 0, "maximum": 20},
        "stream": {"type": "boolean"},
    },
}

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "default_routes": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "modes": {"type": "array", "items": {"enum": list(MODES)}, "minItems": 1},
        "timeout_s": {"type": "number", "exclusiveMinimum": 0},
        "max_retries": {"type": "integer", "minimum": 0, "maximum": 20},
        "retry_backoff_s": {"type": "number", "minimum": 0},
        "retry_max_backoff_s": {"type": "number", "minimum": 0},
        "stream": {"type": "boolean"},
        "health_checks": {"type": "boolean"},
        "emulator_scripts": {"type": "array", "items": {"type": "string"}},
        "routes": {"type": "object", "additionalProperties": _ROUTE_SCHEMA},
    },
}

# Keys not listed in CONFIG_SCHEMA that other parts of the plugin read; they
# validate their own sub-tables.
_PASSTHROUGH_KEYS = ("record", "snapshot", "report", "prices", "parity", "conformance", "budget")
for _key in _PASSTHROUGH_KEYS:
    CONFIG_SCHEMA["properties"][_key] = {"type": "object"}


@dataclass
class Settings:
    """Validated plugin settings: routes, default selection and transport limits."""

    routes: dict[str, Route]
    default_routes: list[str]
    modes: list[str]
    timeout_s: float = 120.0
    max_retries: int = 2
    retry_backoff_s: float = 0.5
    retry_max_backoff_s: float = 30.0
    stream: bool = False
    health_checks: bool = True
    emulator_scripts: list[Path] = field(default_factory=list)
    source: str = "built-in defaults"
    extra: dict[str, Any] = field(default_factory=dict)

    def route(self, name: str) -> Route:
        """Return the route called `name`, raising `KimiConfigError` listing the known ones."""
        try:
            return self.routes[name]
        except KeyError:
            known = ", ".join(sorted(self.routes))
            raise KimiConfigError(
                f"unknown route {name!r}: the known routes are {known}. "
                f"Declare it under [tool.pytest_kimi.routes.{name}] in pyproject.toml "
                "or pick a known one with --kimi-route."
            ) from None


def _format_schema_error(error: jsonschema.ValidationError, source: str) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    where = f"tool.pytest_kimi.{path}" if path else "tool.pytest_kimi"
    return f"invalid {where} in {source}: {error.message}. Fix the value and run pytest again."


def _api_key_is_set() -> bool:
    return bool(os.environ.get("KIMI_API_KEY") or os.environ.get("MOONSHOT_API_KEY"))


def parse_settings(table: Mapping[str, Any], *, source: str, root: Path) -> Settings:
    """Validate a `[tool.pytest_kimi]` table and build `Settings` from it.

    Raises:
        KimiConfigError: the table does not match `CONFIG_SCHEMA`, or it names
            a route that does not exist.
    """
    routes_table = table.get("routes")
    if isinstance(routes_table, Mapping):
        for name, route_table in routes_table.items():
            if isinstance(route_table, Mapping) and "api_key" in route_table:
                raise KimiConfigError(
                    f"route {name!r} in {source} sets api_key: keys are read only from the "
                    "environment. Remove it and set api_key_env to the variable's name."
                )
    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    errors = sorted(validator.iter_errors(dict(table)), key=lambda e: list(e.absolute_path))
    if errors:
        raise KimiConfigError(_format_schema_error(errors[0], source))

    routes: dict[str, Route] = {"emulator": BUILTIN_EMULATOR, "moonshot": BUILTIN_MOONSHOT}
    configured = table.get("routes", {})
    for name, route_table in configured.items():
        routes[name] = route_from_table(name, route_table, source=source)

    if "default_routes" in table:
        default_routes = list(table["default_routes"])
    elif configured:
        default_routes = list(configured)
    else:
        # No routes configured: run live only when a key is there to run with.
        default_routes = ["moonshot"] if _api_key_is_set() else ["emulator"]

    settings = Settings(
        routes=routes,
        default_routes=default_routes,
        modes=list(table.get("modes", ["thinking", "instant"])),
        timeout_s=float(table.get("timeout_s", 120.0)),
        max_retries=int(table.get("max_retries", 2)),
        retry_backoff_s=float(table.get("retry_backoff_s", 0.5)),
        retry_max_backoff_s=float(table.get("retry_max_backoff_s", 30.0)),
        stream=bool(table.get("stream", False)),
        health_checks=bool(table.get("health_checks", True)),
        emulator_scripts=[root / p for p in table.get("emulator_scripts", [])],
        source=source,
        extra={key: table[key] for key in _PASSTHROUGH_KEYS if key in table},
    )
    for name in settings.default_routes:
        settings.route(name)
    return settings


def load_settings(pyproject: Path | None) -> Settings:
    """Read `[tool.pytest_kimi]` from `pyproject` (or use defaults when absent)."""
    if pyproject is None or not pyproject.is_file():
        return parse_settings({}, source="built-in defaults", root=Path.cwd())
    try:
        with pyproject.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise KimiConfigError(
            f"cannot parse {pyproject}: {exc}. Fix the TOML syntax and run pytest again."
        ) from exc
    table = document.get("tool", {}).get("pytest_kimi", {})
    if not isinstance(table, dict):
        raise KimiConfigError(
            f"invalid tool.pytest_kimi in {pyproject}: expected a table, got {table!r}."
        )
    return parse_settings(table, source=str(pyproject), root=pyproject.parent)
