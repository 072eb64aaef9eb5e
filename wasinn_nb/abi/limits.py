"""What one run may use: guest memory, model and tensor bytes, handles, captured output, logs.

A guest can ask the host for far more than it has itself (sixteen builders that each cover its
whole memory, a gigabyte ``set_input`` per context, gigabytes of stdout). Every such resource
has a bound here; the guest gets an errno (or ``memory.grow`` fails) when it reaches one, and the
user a line saying which limit and how to raise it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wasinn_nb.errors import SpecError

__all__ = ["GiB", "KiB", "Limits", "MiB", "format_size", "parse_size"]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
_UNITS = {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": GiB << 10}


@dataclass(frozen=True)
class Limits:
    """Bounds on what one run may make the host hold.

    Attributes:
        memory: Bytes of each linear memory of the guest (``--max-memory``); wasm32's own
            bound is 4 GiB.
        model_bytes: Bytes of one ``load``'s builders together (``--max-model-bytes``), checked
            before anything is hashed or copied (the backend gets one copy of them).
        tensor_bytes: Bytes of input tensors held across live execution contexts, and of the
            tensors kept in the result (``--max-tensor-bytes``).
        captured_bytes: Characters of stdout and of stderr kept in the result (the tail);
            everything still streams through.
        graphs: Live graph handles.
        contexts: Live execution contexts.
        log_lines: ``[wasinn]`` lines per run; the rest are counted in one last line.
        call_records: wasi-nn calls kept in the result (timings count every call).
        table_elements: Elements of each wasm table.
    """

    memory: int = 2 * GiB
    model_bytes: int = 512 * MiB
    tensor_bytes: int = 512 * MiB
    captured_bytes: int = 1 * MiB
    graphs: int = 64
    contexts: int = 64
    log_lines: int = 100
    call_records: int = 10_000
    table_elements: int = 1_000_000

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or value < 1:
                raise SpecError(f"limit {name} must be a positive whole number, got {value!r}")
        if self.memory > 4 * GiB:
            raise SpecError(f"--max-memory is at most 4G (wasm32), got {format_size(self.memory)}")


def parse_size(text: str) -> int:
    """Bytes from ``"512M"``, ``"2G"``, ``"1.5GiB"``, ``"65536"`` (binary units).

    Example:
        >>> parse_size("512M"), parse_size("1.5GiB"), parse_size("4096")
        (536870912, 1610612736, 4096)
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b)?\s*", text, flags=re.IGNORECASE)
    if match is None:
        raise SpecError(f"bad size {text!r}: expected bytes or a number with K, M, G (e.g. 512M)")
    value = float(match[1]) * _UNITS[match[2].lower()]
    if value < 1:
        raise SpecError(f"bad size {text!r}: must be at least 1 byte")
    return int(value)


def format_size(size: int) -> str:
    """A size the way :func:`parse_size` reads it: ``2G``, ``512M``, ``1.5K``, ``100``.

    Example:
        >>> format_size(2 * GiB), format_size(1536), format_size(100)
        ('2G', '1.5K', '100')
    """
    for unit, factor in (("G", GiB), ("M", MiB), ("K", KiB)):
        if size >= factor:
            return f"{size / factor:g}{unit}"
    return str(size)
