"""Host folders a guest may use (``--dir``), in WasmEdge's and wasmtime's spellings."""

from __future__ import annotations

from dataclasses import dataclass

from wasinn_nb.errors import SpecError

__all__ = ["DirMapping"]

_READ_ONLY = (":ro", ":readonly")


@dataclass(frozen=True)
class DirMapping:
    """A host folder the guest may use, the path it sees it under, and whether it may write.

    Example:
        >>> DirMapping.parse(".:.")               # WasmEdge: GUEST:HOST
        DirMapping(host='.', guest='.', read_only=False)
        >>> DirMapping.parse("/data::/input:ro")  # wasmtime: HOST::GUEST, read-only
        DirMapping(host='/data', guest='/input', read_only=True)
        >>> DirMapping.parse("models:readonly")   # WasmEdge's read-only suffix
        DirMapping(host='models', guest='models', read_only=True)
    """

    host: str
    guest: str
    read_only: bool = False

    @classmethod
    def parse(cls, text: str) -> DirMapping:
        """Parse ``DIR``, WasmEdge's ``GUEST:HOST`` or wasmtime's ``HOST::GUEST``, + ``:ro``.

        A trailing ``:ro`` or ``:readonly`` makes the folder read-only (write a host folder
        that is literally called ``ro`` as ``./ro``).
        """
        body, read_only = text, False
        for suffix in _READ_ONLY:
            if body.endswith(suffix) and len(body) > len(suffix):
                body, read_only = body[: -len(suffix)], True
                break
        if "::" in body:
            host, _, guest = body.partition("::")
        elif ":" in body:
            guest, _, host = body.partition(":")
        else:
            host = guest = body
        if not host or not guest:
            raise SpecError(
                f"bad --dir {text!r}: expected DIR, GUEST:HOST or HOST::GUEST, optionally "
                "followed by :ro"
            )
        return cls(host, guest, read_only)
