"""Component-model values between wasmtime-py and Python, with a fast path for ``list<u8>``.

wasmtime-py lifts and lowers a ``list<u8>`` one element at a time in Python (about 0.65 µs a
byte: 0.4 s for one 224² f32 image). The C API hands a list over as an array of 32-byte
``wasmtime_component_val_t`` (a kind byte at 0, the value at 8), so one strided numpy copy
reads or writes all the bytes at once. That layout is private to the wasmtime version, so the
fast path is pinned: :func:`fast_bytes` is true only for the versions in :data:`PINNED` whose
struct layout also checks out; otherwise every conversion takes wasmtime-py's own slow path.

Example:
    >>> from wasinn_nb.abi.canon import fast_bytes, wasmtime_version, PINNED
    >>> fast_bytes() == (wasmtime_version() in PINNED)
    True
"""

from __future__ import annotations

import ctypes
import functools
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from wasmtime.component import FuncType, ValType

__all__ = ["PINNED", "call", "define_func", "fast_bytes", "lift", "lower", "wasmtime_version"]

#: wasmtime-py versions whose ``wasmtime_component_val_t`` layout the fast path was checked on.
PINNED = frozenset({"50.0.1"})
_VAL_SIZE, _VAL_OFFSET = 32, 8


def wasmtime_version() -> str:
    """The installed wasmtime-py's version, from its dist-info folder's name when there is one.

    Cheaper than ``importlib.metadata`` (about 40 ms to import) on a command line's start.

    Example:
        >>> wasmtime_version().count(".") >= 2
        True
    """
    import wasmtime

    for info in Path(wasmtime.__file__).parent.parent.glob("wasmtime-*.dist-info"):
        return info.name[len("wasmtime-") : -len(".dist-info")]
    from importlib.metadata import version

    return version("wasmtime")


def _layout_ok() -> bool:
    from wasmtime import _ffi as ffi

    val = ffi.wasmtime_component_val_t
    return (
        ctypes.sizeof(val) == _VAL_SIZE
        and val.kind.offset == 0
        and val.of.offset == _VAL_OFFSET
        and ctypes.sizeof(ffi.wasmtime_component_vallist_t) == 16
    )


@functools.cache
def fast_bytes() -> bool:
    """Whether ``list<u8>`` is converted with one numpy copy (else element by element)."""
    return wasmtime_version() in PINNED and _layout_ok()


BytesLike = bytes | bytearray | memoryview | npt.NDArray[np.generic]
_BYTES_TYPES = (bytes, bytearray, memoryview, np.ndarray)


def _cells(data: Any, count: int) -> npt.NDArray[np.uint8]:
    """The ``count`` 32-byte value cells at ``data`` (a ``wasmtime_component_val_t*``)."""
    address = ctypes.cast(data, ctypes.c_void_p).value or 0
    raw = (ctypes.c_uint8 * (count * _VAL_SIZE)).from_address(address)
    cells: npt.NDArray[np.uint8] = np.frombuffer(memoryview(raw).cast("B"), np.uint8)
    return cells.reshape(count, _VAL_SIZE)


def lift_bytes(c: Any) -> npt.NDArray[np.uint8]:
    """Take a lifted ``list<u8>`` value (and free it) as a new uint8 array."""
    from wasmtime import _ffi as ffi

    count = int(c.of.list.size)
    try:
        if count == 0:
            return np.zeros(0, np.uint8)
        cells = _cells(c.of.list.data, count)
        if not (cells[:, 0] == ffi.WASMTIME_COMPONENT_U8.value).all():  # pragma: no cover
            raise TypeError("list<u8> holds values that are not u8")
        taken: npt.NDArray[np.uint8] = cells[:, _VAL_OFFSET].copy()
        return taken
    finally:
        ffi.wasmtime_component_vallist_delete(ctypes.byref(c.of.list))


def lower_bytes(data: BytesLike, ptr: Any) -> None:
    """Store ``data`` as a ``list<u8>`` value at ``ptr``, with one strided copy."""
    from wasmtime import _ffi as ffi

    flat = np.frombuffer(memoryview(data).cast("B"), np.uint8)  # type: ignore[arg-type]
    raw = ffi.wasmtime_component_vallist_t()
    ffi.wasmtime_component_vallist_new_uninit(ctypes.byref(raw), flat.size)
    if flat.size:
        cells = _cells(raw.data, flat.size)
        cells[:, 0] = ffi.WASMTIME_COMPONENT_U8.value
        cells[:, _VAL_OFFSET] = flat
    ptr.contents.kind = ffi.WASMTIME_COMPONENT_LIST
    ptr.contents.of.list = raw


def _is_bytes(ty: ValType) -> bool:
    from wasmtime.component import U8, ListType

    return isinstance(ty, ListType) and isinstance(ty.element, U8)


def lift(ty: ValType, c: Any) -> Any:
    """Python value of the lifted ``c`` of type ``ty`` (``list<u8>`` as a uint8 array).

    ``result`` values come back as ``Variant("ok" | "err", payload)`` whatever their case
    types, and a ``list<u8>`` inside a ``result`` or a ``list`` is taken the fast way too.
    """
    from wasmtime.component import ListType, ResultType

    if isinstance(ty, ResultType):
        return _lift_result(ty, c)
    if not fast_bytes() or not isinstance(ty, ListType):
        return ty.convert_from_c(c)
    if _is_bytes(ty):
        return lift_bytes(c)
    if not _is_bytes(ty.element):
        return ty.convert_from_c(c)
    return _lift_lists(c)


def _lift_lists(c: Any) -> list[npt.NDArray[np.uint8]]:
    """A ``list<list<u8>>``: each inner list is freed as it is taken."""
    from wasmtime import _ffi as ffi

    try:
        items = []
        for i in range(int(c.of.list.size)):
            cell = c.of.list.data[i]
            items.append(lift_bytes(cell))
            cell.kind = ffi.WASMTIME_COMPONENT_BOOL
            cell.of.boolean = False
        return items
    finally:
        ffi.wasmtime_component_vallist_delete(ctypes.byref(c.of.list))


def _lift_result(ty: Any, c: Any) -> Any:
    from wasmtime import _ffi as ffi
    from wasmtime.component import Variant

    tag = "ok" if c.of.result.is_ok else "err"
    case = ty.ok if tag == "ok" else ty.err
    if case is None:
        return Variant(tag)
    ptr = c.of.result.val
    payload = lift(case, ptr.contents)
    ptr.contents.kind = ffi.WASMTIME_COMPONENT_BOOL
    ptr.contents.of.boolean = False
    ffi.wasmtime_component_val_delete(ptr)
    return Variant(tag, payload)


def lower(ty: ValType, store: Any, value: Any, ptr: Any) -> None:
    """Store ``value`` of type ``ty`` at ``ptr`` (bytes-like values of ``list<u8>`` fast).

    A ``result`` takes ``Variant("ok" | "err", payload)`` whatever its case types.
    """
    from wasmtime.component import ResultType, Variant

    if isinstance(ty, ResultType) and isinstance(value, Variant):
        _lower_result(ty, store, value, ptr)
        return
    if fast_bytes() and _is_bytes(ty) and isinstance(value, _BYTES_TYPES):
        lower_bytes(value, ptr)
        return
    if _is_bytes(ty) and not isinstance(value, bytes):
        value = bytes(memoryview(value).cast("B"))
    ty.convert_to_c(store, value, ptr)


def _lower_result(ty: Any, store: Any, value: Any, ptr: Any) -> None:
    from wasmtime import _ffi as ffi

    if value.tag not in ("ok", "err"):
        raise ValueError(f"a result is ok or err, not {value.tag!r}")
    case = ty.ok if value.tag == "ok" else ty.err
    boxed = None
    if case is not None:
        raw = ffi.wasmtime_component_val_t()
        lower(case, store, value.payload, ctypes.pointer(raw))
        boxed = ffi.wasmtime_component_val_new(ctypes.byref(raw))
    ptr.contents.kind = ffi.WASMTIME_COMPONENT_RESULT
    ptr.contents.of.result.is_ok = value.tag == "ok"
    ptr.contents.of.result.val = boxed


def call(func: Any, store: Any, *params: Any) -> Any:
    """Call a component export with the fast conversions, then its ``post-return``.

    Like ``Func.__call__``, but ``list<u8>`` parameters may be bytes or numpy arrays, and a
    ``list<u8>`` result (also inside a ``result``) comes back as a uint8 array.
    """
    from wasmtime import _ffi as ffi
    from wasmtime.component._enter import enter_wasm

    fty = func.type(store)
    types = fty.params
    result_ty = fty.result
    if len(params) != len(types):
        raise TypeError(f"{len(types)} parameters expected, {len(params)} given")
    cells = (ffi.wasmtime_component_val_t * max(len(params), 1))()
    done = 0
    try:
        for (_, ty), value in zip(types, params, strict=True):
            lower(ty, store, value, ctypes.pointer(cells[done]))
            done += 1
        space = ffi.wasmtime_component_val_t()
        out = ctypes.byref(space) if result_ty is not None else None

        def run() -> Any:
            return ffi.wasmtime_component_func_call(
                ctypes.byref(func._func), store._context(), cells, done, out,
                1 if result_ty is not None else 0,
            )  # fmt: skip

        enter_wasm(run)
        result = lift(result_ty, space) if result_ty is not None else None
    finally:
        for i in range(done):
            ffi.wasmtime_component_val_delete(ctypes.byref(cells[i]))
    func.post_return(store)
    return result


HostFunc = Callable[..., Any]
_FUNCS: dict[int, HostFunc] = {}
_KEYS = itertools.count(1)


def define_func(instance: Any, name: str, func: HostFunc) -> None:
    """Define ``func(store, *args)`` as ``name`` of a linker instance.

    Arguments and the result convert with :func:`lift` and :func:`lower` (``list<u8>`` with
    one copy when :func:`fast_bytes`, results as ``Variant``); an exception in ``func`` traps
    the guest with one line. The trampoline is wasmtime-py's own ``add_func`` mechanism.
    """
    from wasmtime import WasmtimeError
    from wasmtime import _ffi as ffi

    key = next(_KEYS)
    _FUNCS[key] = func
    data = name.encode()
    trampoline, forget = _callbacks()
    error = ffi.wasmtime_component_linker_instance_add_func(
        instance.ptr(), ctypes.create_string_buffer(data), len(data), trampoline,
        ctypes.c_void_p(key), forget,
    )  # fmt: skip
    if error:
        raise WasmtimeError._from_ptr(error)


def _invoke(key: int, context: Any, ty_raw: Any, args: Any, nargs: int, results: Any) -> Any:
    from wasmtime import WasmtimeError
    from wasmtime.component import FuncType as ComponentFuncType

    def run(store: Any) -> None:
        fty: FuncType
        with ComponentFuncType._from_ptr(ty_raw, owner=store) as fty:
            result_ty = fty.result
            params = fty.params[:nargs]
            values = [lift(ty, args[i]) for i, (_, ty) in enumerate(params)]
            try:
                result = _FUNCS[key](store, *values)
                if result_ty is not None:
                    lower(result_ty, store, result, results)
            except WasmtimeError:
                raise
            except Exception as error:  # a trap with one line, not a Python exception
                raise WasmtimeError(
                    f"host function failed: {type(error).__name__}: {error}"
                ) from None

    from wasmtime.component._enter import catch_exceptions

    return catch_exceptions(context, run)


def _make_trampoline() -> Any:
    from wasmtime import _ffi as ffi

    @ffi.wasmtime_component_func_callback_t  # type: ignore[untyped-decorator]
    def trampoline(key: Any, context: Any, ty: Any, args: Any, n: Any, res: Any, m: Any) -> Any:
        return _invoke(int(key or 0), context, ty, args, n, res)

    return trampoline


def _make_forget() -> Any:
    @ctypes.CFUNCTYPE(None, ctypes.c_void_p)  # type: ignore[untyped-decorator]
    def forget(key: Any) -> None:
        _FUNCS.pop(int(key or 0), None)

    return forget


@functools.cache
def _callbacks() -> tuple[Any, Any]:
    """The C trampoline and finalizer (made once; they must outlive every linker)."""
    return _make_trampoline(), _make_forget()
