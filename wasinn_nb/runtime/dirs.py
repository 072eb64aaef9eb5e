"""Host folders a guest may use (``--dir``), in WasmEdge's and wasmtime's spellings."""

from __future__ import annotations

from dataclasses import dataclass

from wasinn_nb.errors import SpecError

__all__ = ["DirMapping"]


@dataclass(frozen=True)
class DirMapping:
    """A host folder the guest may use, and the path it sees it under.

    Example:
        >>> DirMapping.parse(".:.")               # WasmEdge: GUEST:HOST
        DirMapping(host='.', guest='.')
        >>> DirMapping.parse("/data::/input")     # wasmtime: HOST::GUEST
        DirMapping(host='/data', guest='/input')
    """

    host: str
    guest: str

    @classmethod
    def parse(cls, text: str) -> DirMapping:
        """Parse ``DIR``, WasmEdge's ``GUEST:HOST`` or wasmtime's ``HOST::GUEST``."""
        if "::" in text:
            host, _, guest = text.partition("::")
        elif ":" in text:
            guest, _, host = text.partition(":")
        else:
            host = guest = text
        if not host or not guest:
            raise SpecError(f"bad --dir {text!r}: expected DIR, GUEST:HOST or HOST::GUEST")
        return cls(host, guest)
