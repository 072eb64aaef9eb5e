"""Loading TorchScript without letting a model reach host files.

A TorchScript archive is code, not just weights: its methods can call ATen operators that read
or write files (``aten::from_file``, ``aten::save``, …), and ``torch.jit.load`` itself runs a
model's ``__setstate__`` methods. The project rule is that no host file reaches a guest unless
the user passed it, so a model that names such an operator is refused, twice over:

1. **before loading**, the archive's TorchScript source (``code/**.py``) is searched for the
   operators' names (code cannot call an operator without naming it), and archives with
   duplicate entry names (read differently by different zip readers) are refused;
2. **after loading**, every method of the module and of each submodule is walked, inlined
   (so called functions count) and with every nested block, and its operators are checked.

File operators are the known ones plus every registered operator with a string argument called
``filename``, ``path`` or the like, so operators added by later torch versions count too.
The refusal is ``UnsupportedError`` (errno unsupported_operation) with a one-line reason.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any

from wasinn_nb.backends._reason import torch_reason
from wasinn_nb.backends.base import TensorInfo
from wasinn_nb.errors import BackendError, UnsupportedError

__all__ = [
    "KNOWN_FILE_OPS",
    "check_archive",
    "check_module",
    "file_ops",
    "forward_inputs",
    "import_torch",
    "load_torchscript",
]

#: Operators that read or write host files, whatever torch's schemas say.
KNOWN_FILE_OPS = frozenset({"aten::from_file", "aten::save", "debugprims::load_tensor"})
_PATH_ARGUMENTS = frozenset({"filename", "file", "path", "filepath", "dirname", "directory"})
#: Operator namespaces that talk to other processes (torch.distributed): refused as well.
_NETWORK_NAMESPACES = ("c10d::", "_c10d_functional::", "c10d_functional::")
_INSTALL = "pip install 'wasinn-nb[pytorch]'"


def import_torch() -> Any:
    """The ``torch`` module, or UnsupportedError naming the extra to install."""
    try:
        import torch
    except ImportError:
        raise UnsupportedError(f"pytorch models need torch: {_INSTALL}") from None
    return torch


@functools.cache
def file_ops() -> frozenset[str]:
    """Qualified names (``ns::op``) of the operators that touch files."""
    torch = import_torch()
    found = {
        schema.name
        for schema in torch._C._jit_get_all_schemas()
        if any(
            argument.name in _PATH_ARGUMENTS and "str" in str(argument.type)
            for argument in schema.arguments
        )
    }
    return KNOWN_FILE_OPS | frozenset(found)


def _refuse(op: str, where: str) -> UnsupportedError:
    verb = "talks to other processes" if op.startswith(_NETWORK_NAMESPACES) else "touches files"
    return UnsupportedError(
        f"refused TorchScript model: {where} calls {op}, which {verb} on the host "
        "(models get no host files the user did not pass)"
    )


def check_archive(model: bytes) -> None:
    """Refuse a TorchScript archive whose code names a file operator (before loading it).

    Raises:
        BackendError: If ``model`` is not a zip archive.
        UnsupportedError: If its code names a file operator, or entries repeat.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(model))
    except zipfile.BadZipFile as error:
        raise BackendError(
            f"PyTorch cannot load the model: not a TorchScript archive ({error})"
        ) from None
    names = archive.namelist()
    if len(names) != len(set(names)):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise UnsupportedError(f"refused TorchScript archive: entry {duplicate!r} appears twice")
    ops = {op.split("::", 1)[1].split(".", 1)[0]: op for op in file_ops()}
    pattern = re.compile(rf"\b({'|'.join(map(re.escape, sorted(ops)))})\b")
    for name in names:
        if "/code/" not in f"/{name}" or not name.endswith(".py"):
            continue
        try:
            source = archive.read(name).decode("utf-8")
        except (UnicodeDecodeError, zipfile.BadZipFile, OSError) as error:
            raise BackendError(f"PyTorch cannot load the model: {name}: {error}") from None
        found = pattern.search(source)
        if found:
            raise _refuse(ops[found[1]], name.split("/code/", 1)[-1])


def _nodes(block: Any) -> Iterator[Any]:
    for node in block.nodes():
        yield node
        for inner in node.blocks():
            yield from _nodes(inner)


def check_module(module: Any) -> None:
    """Refuse a loaded module if any method of it or of a submodule calls a file operator.

    Raises:
        UnsupportedError: Naming the first such operator and the method that calls it.
    """
    refused = file_ops()
    for path, submodule in module.named_modules():
        methods = submodule._c._method_names()
        for method in methods:
            graph = submodule._c._get_method(method).inlined_graph
            for node in _nodes(graph):
                kind = node.kind()
                if kind in refused or kind.startswith(_NETWORK_NAMESPACES):
                    where = f"{path}.{method}" if path else method
                    raise _refuse(kind, where)


def load_torchscript(model: bytes) -> Any:
    """``torch.jit.load`` of ``model`` on the CPU, in eval mode, after both checks.

    Raises:
        UnsupportedError: If torch is missing or the model touches files.
        BackendError: If torch cannot load the archive.
    """
    torch = import_torch()
    check_archive(model)
    try:
        with warnings.catch_warnings():  # TorchScript is deprecated upstream; it is the format
            warnings.filterwarnings(
                "ignore", r"`torch\.jit\.load` is deprecated", DeprecationWarning
            )
            module = torch.jit.load(io.BytesIO(model), map_location="cpu")
    except (RuntimeError, ValueError) as error:
        raise BackendError(
            f"PyTorch cannot load the TorchScript model: {torch_reason(error)}"
        ) from None
    check_module(module)
    return module.eval()


def forward_inputs(module: Any) -> tuple[TensorInfo, ...]:
    """The inputs ``forward`` declares: names only (TorchScript fixes no dtype or shape)."""
    arguments = module.forward.schema.arguments[1:]  # [0] is self
    return tuple(TensorInfo(argument.name, None, ()) for argument in arguments)
