"""The ``wasi_ephemeral_nn`` ABI as data: function signatures, enums, errno values.

Numbers follow the witx spec and WasmEdge, so guests built for WasmEdge or wasmtime run
unchanged. Tensor types come in two numberings (the wasi-nn crate renumbered them in 0.6);
:func:`decode_tensor_type` tells them apart by bytes per element.
"""

from __future__ import annotations

from collections.abc import Sequence

from wasinn_nb.enums import DType, ExecutionTarget, GraphEncoding, NnErrno

__all__ = [
    "FUNCTIONS",
    "MODULE",
    "ExecutionTarget",
    "GraphEncoding",
    "NnErrno",
    "decode_tensor_type",
    "encode_tensor_type",
]

#: The import module name guests use.
MODULE = "wasi_ephemeral_nn"

#: Every function of the module and its number of i32 parameters (all return an i32 errno).
#: The last six are WasmEdge's extensions; guests built with wasmedge-wasi-nn import them.
FUNCTIONS: dict[str, int] = {
    "load": 5,
    "load_by_name": 3,
    "load_by_name_with_config": 5,
    "init_execution_context": 2,
    "set_input": 3,
    "compute": 1,
    "get_output": 5,
    "compute_single": 1,
    "get_output_single": 5,
    "fini_single": 1,
    "unload": 1,
    "finalize_execution_context": 1,
}


# Numbering A: wasi-nn crate 0.1-0.5, WasmEdge <= 0.14, wasmtime <= 14.
_LEGACY = {0: DType.FP16, 1: DType.FP32, 2: DType.U8, 3: DType.I32}
# Numbering B: wasi-nn crate >= 0.6, wasmedge-wasi-nn, current witx, WasmEdge >= 0.15.
_CURRENT = {0: DType.FP16, 1: DType.FP32, 2: DType.FP64, 3: DType.U8, 4: DType.I32, 5: DType.I64}


def decode_tensor_type(
    value: int, data_len: int, dims: Sequence[int], declared: DType | None = None
) -> DType | None:
    """Decode a guest's tensor-type byte, whichever numbering the guest was built with.

    Values 0 and 1 mean the same in both numberings. For 2 and 3 the bytes per element decide
    (2: one byte → u8 of the old numbering, eight → f64 of the new; 3: four → i32, one → u8);
    when the data size cannot decide, the model's ``declared`` input type does, then the
    current numbering.

    Returns:
        The element type, or ``None`` for a value neither numbering knows.

    Example:
        >>> decode_tensor_type(2, data_len=4, dims=[1, 4])   # 1 byte each: legacy U8
        <DType.U8: 'u8'>
        >>> decode_tensor_type(2, data_len=32, dims=[1, 4])  # 8 bytes each: current F64
        <DType.FP64: 'fp64'>
    """
    candidates = [t for t in (_LEGACY.get(value), _CURRENT.get(value)) if t is not None]
    if not candidates:
        return None
    count = 1
    for dim in dims:
        count *= dim
    fitting = [t for t in candidates if t.numpy.itemsize * count == data_len]
    for pool in (fitting, candidates):
        if declared in pool:
            return declared
        if pool:
            return pool[-1]
    return None  # pragma: no cover - candidates is never empty here


def encode_tensor_type(dtype: DType, *, legacy: bool = False) -> int:
    """The type byte for ``dtype`` in the current (or ``legacy``) numbering.

    Raises:
        KeyError: If the numbering has no such type (e.g. i64 in the legacy one).
    """
    table = _LEGACY if legacy else _CURRENT
    return {t: code for code, t in table.items()}[dtype]
