"""Click options generated from a pydantic model's fields, so a command's defaults, ranges, choices
and help text are written once, in the model (for `edgeemo train`: TrainConfig)."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, Literal

import annotated_types
import click
from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["options_from_fields"]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def options_from_fields(model: type[BaseModel], skip: set[str], flags: dict[str, str] | None = None) -> Decorator:
    """A decorator adding one option per field of `model` (but `skip`), in field order. The option is
    --field-name unless `flags` names it ("--lr", or "--on/--off" for a boolean); the command receives
    each value under the field's name."""
    flags = flags or {}
    options = [_option(name, field, flags.get(name)) for name, field in model.model_fields.items() if name not in skip]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _option(name: str, field: FieldInfo, flag: str | None) -> Decorator:
    flag = flag or "--" + name.replace("_", "-")
    annotation = _without_none(field.annotation)
    help_text = field.description
    if annotation is bool:
        if field.default is True and "/" not in flag:
            flag = f"{flag}/--no-{flag.removeprefix('--')}"
        if "/" in flag:
            return click.option(flag, name, default=field.default, show_default=True, help=help_text)
        return click.option(flag, name, is_flag=True, default=False, help=help_text)
    if typing.get_origin(annotation) is list:
        return click.option(flag, name, multiple=True, help=help_text)
    default = field.get_default(call_default_factory=True)
    return click.option(flag, name, type=_click_type(annotation, field), default=default,
                        show_default=default is not None, help=help_text)


def _without_none(annotation: Any) -> Any:
    """X for `X | None` (an option that may be left out), else the annotation itself."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _click_type(annotation: Any, field: FieldInfo) -> Any:
    if typing.get_origin(annotation) is Literal:
        return click.Choice([str(value) for value in typing.get_args(annotation)])
    if annotation not in (int, float):
        return annotation
    bounds: dict[str, Any] = {}
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge):
            bounds["min"] = rule.ge
        elif isinstance(rule, annotated_types.Gt):
            bounds.update(min=rule.gt, min_open=True)
        elif isinstance(rule, annotated_types.Le):
            bounds["max"] = rule.le
        elif isinstance(rule, annotated_types.Lt):
            bounds.update(max=rule.lt, max_open=True)
    if not bounds:
        return annotation
    if annotation is int:  # an integer range is closed: an open bound is the next integer
        if bounds.pop("min_open", False):
            bounds["min"] += 1
        if bounds.pop("max_open", False):
            bounds["max"] -= 1
        return click.IntRange(**bounds)
    return click.FloatRange(**bounds)
