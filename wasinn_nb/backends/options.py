"""How the engines run a model: threads, OpenVINO's precision and hint, ONNX Runtime's providers.

Defined once here and shared by ``wasinn run``, ``%wasinn``, ``%config WasinnMagics.*`` and
``wasinn_nb.run``. Each backend applies the options it has and ignores the others (``threads``
applies to all of them). A guest may set them per graph with ``load_by_name_with_config``'s
JSON, as WasmEdge's guests do; keys are these field names (``-`` or ``_`` alike).

Example:
    >>> BackendOptions().precision
    'f32'
    >>> BackendOptions.from_config('{"threads": 2, "performance-hint": "throughput"}')
    BackendOptions(threads=2, precision='f32', performance_hint='throughput', providers=None)
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wasinn_nb.errors import SpecError

__all__ = ["HINTS", "PRECISIONS", "BackendOptions", "parse_config", "unknown_keys"]

#: OpenVINO inference precisions: ``f32`` is exact (the reference's numbers); ``bf16``/``f16``
#: trade accuracy for speed where the CPU has them; ``auto`` lets OpenVINO choose, as it and
#: the peer runtimes do by default.
PRECISIONS = ("f32", "bf16", "f16", "auto")
#: OpenVINO performance hints.
HINTS = ("latency", "throughput")
MAX_CONFIG_BYTES = 64 * 1024


@dataclass(frozen=True)
class BackendOptions:
    """Engine settings for loading and running a graph.

    Attributes:
        threads: Inference threads (every backend; at most this machine's CPUs). ``None``: each
            engine's own default.
        precision: OpenVINO's inference precision (see :data:`PRECISIONS`).
        performance_hint: OpenVINO's performance hint, ``latency`` or ``throughput``.
        providers: ONNX Runtime execution providers, in order (``None``: by target).
    """

    threads: int | None = None
    precision: str = "f32"
    performance_hint: str | None = None
    providers: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        cpus = os.cpu_count() or 1
        if self.threads is not None and not (
            isinstance(self.threads, int) and 1 <= self.threads <= cpus
        ):
            raise SpecError(
                f"threads must be 1 to {cpus} (this machine's CPUs), got {self.threads}"
            )
        if self.precision not in PRECISIONS:
            raise SpecError(
                f"unknown precision {self.precision!r} (choose from: {', '.join(PRECISIONS)})"
            )
        if self.performance_hint is not None and self.performance_hint not in HINTS:
            raise SpecError(
                f"unknown performance hint {self.performance_hint!r} (choose from: "
                f"{', '.join(HINTS)})"
            )
        if self.providers is not None:
            object.__setattr__(self, "providers", tuple(str(p) for p in self.providers))

    def replace(self, changes: Mapping[str, Any]) -> BackendOptions:
        """These options with ``changes`` (field names, ``-`` or ``_``) applied.

        Raises:
            SpecError: For an unknown option or a bad value.
        """
        unknown = unknown_keys(changes)
        if unknown:
            raise SpecError(f"unknown backend option {unknown[0]!r} (known: {', '.join(_FIELDS)})")
        updates = {str(k).replace("-", "_"): v for k, v in changes.items()}
        if updates.get("providers") is not None:
            providers = updates["providers"]
            updates["providers"] = (providers,) if isinstance(providers, str) else tuple(providers)
        try:
            return dataclasses.replace(self, **updates)
        except TypeError as error:
            raise SpecError(f"bad backend options: {error}") from None

    @classmethod
    def from_config(cls, text: str | bytes, base: BackendOptions | None = None) -> BackendOptions:
        """Options from a JSON object, e.g. ``load_by_name_with_config``'s config.

        Keys that are not options here (another runtime's, such as WasmEdge's ``ctx-size``
        for llama models) are left out; :func:`unknown_keys` names them.

        Raises:
            SpecError: If the text is not a JSON object, or an option's value is bad.
        """
        return (base or cls()).with_config(parse_config(text))

    def with_config(self, config: Mapping[str, Any]) -> BackendOptions:
        """These options with a parsed config's known keys applied (the rest are left out).

        Raises:
            SpecError: If an option's value is bad.
        """
        ignored = set(unknown_keys(config))
        return self.replace({k: v for k, v in config.items() if str(k) not in ignored})


def parse_config(text: str | bytes) -> dict[str, Any]:
    """A JSON config object (bounded in size), as ``load_by_name_with_config`` passes it.

    Raises:
        SpecError: If it is too big or not a JSON object.
    """
    if len(text) > MAX_CONFIG_BYTES:
        raise SpecError(f"backend config of {len(text):,} bytes (at most {MAX_CONFIG_BYTES:,})")
    try:
        config = json.loads(text) if text.strip() else {}
    except (ValueError, UnicodeDecodeError) as error:
        raise SpecError(f"backend config is not JSON: {error}") from None
    except RecursionError:  # hostile nesting ([[[[…]]]]): json recurses per level
        raise SpecError("backend config nests too deeply") from None
    if not isinstance(config, dict):
        raise SpecError("backend config must be a JSON object of options")
    return config


def unknown_keys(config: Mapping[str, Any]) -> list[str]:
    """The keys of ``config`` that are not backend options."""
    return [str(k) for k in config if str(k).replace("-", "_") not in _FIELDS]


_FIELDS = tuple(f.name for f in dataclasses.fields(BackendOptions))
