"""A small generic registry of named implementations.

Entries are registered as ``"module.path:Attr"`` strings so that listing names never imports
a heavy module; the module is imported on :meth:`Registry.get`, :meth:`Registry.create` or
:meth:`Registry.is_available`.

An implementation class may define:

- ``create(**opts)`` classmethod: how the registry builds it (default: ``cls(**opts)``);
- ``availability()`` classmethod returning ``(ok: bool, reason: str)``: whether it can run
  here (an optional dependency missing, a model not in the local cache, ...).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable, Generic, Optional, TypeVar, Union

from studio.errors import InputError, ModelUnavailableError

T = TypeVar("T")
Target = Union[str, Callable[..., Any]]


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._targets: dict[str, Target] = {}

    def register(self, name: str, target: Target | None = None):
        """``register("x", "pkg.mod:Cls")`` or, as a decorator, ``@register("x")``."""
        if target is not None:
            self._targets[name] = target
            return target

        def deco(obj: Callable[..., Any]) -> Callable[..., Any]:
            self._targets[name] = obj
            return obj

        return deco

    def names(self) -> list[str]:
        return list(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def get(self, name: str) -> Any:
        """The registered class or factory (imports its module)."""
        if name not in self._targets:
            raise InputError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            )
        target = self._targets[name]
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise ModelUnavailableError(
                    f"{self.kind} {name!r} needs a package that is not installed ({exc.name or exc}); "
                    f"install the project's requirements (see README)"
                ) from None
            target = getattr(module, attr)
            self._targets[name] = target
        return target

    def create(self, name: str, **opts: Any) -> T:
        impl = self.get(name)
        factory = getattr(impl, "create", None)
        return factory(**opts) if callable(factory) else impl(**opts)

    def is_available(self, name: str, model_id: Optional[str] = None) -> bool:
        return self.availability(name, model_id)[0]

    def availability(self, name: str, model_id: Optional[str] = None) -> tuple[bool, str]:
        """``(ok, reason)``: whether ``name`` (with ``model_id``, when it takes one) can run
        here, and if not, why. Loads no model."""
        try:
            impl = self.get(name)
        except ModelUnavailableError as exc:
            return False, str(exc)
        check = getattr(impl, "availability", None)
        if callable(check):
            takes_model = "model_id" in inspect.signature(check).parameters
            ok, reason = check(model_id=model_id) if (model_id and takes_model) else check()
            return bool(ok), str(reason)
        return True, "ready"
