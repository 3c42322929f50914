"""The Error effect: raising an error value the program can catch."""

from __future__ import annotations

from typing import Any, NoReturn

from ..runtime.values import Thrown, display
from . import EffectHandler, operation


class Error(EffectHandler):
    effect = "Error"

    @operation()
    def raise_(self, message: Any) -> NoReturn:
        """Raise {"kind": "Error", "message": message}."""
        raise Thrown({"kind": "Error", "message": display(message)})
