"""A slot for rich displays: results do not know how they are drawn, :mod:`wasinn_nb.viz` does.

A result class inherits :class:`RichDisplay`; ``wasinn_nb.viz.display`` registers a renderer for
it (``import wasinn_nb`` does that). Until one is registered, IPython shows the plain ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Renderer", "RichDisplay", "register_renderer"]

#: Makes a Jupyter display bundle (``{mime type: data}``) for one result.
Renderer = Callable[..., dict[str, Any]]

_renderers: dict[type, Renderer] = {}


def register_renderer(kind: type, renderer: Renderer) -> None:
    """Display instances of ``kind`` with ``renderer(result, **kwargs) -> bundle``."""
    _renderers[kind] = renderer


class RichDisplay:
    """Base of results that have a rich display once a renderer is registered."""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        renderer = _renderers.get(type(self))
        return renderer(self, **kwargs) if renderer is not None else None
