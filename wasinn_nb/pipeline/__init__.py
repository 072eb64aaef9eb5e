"""Operator pipelines: graphs of small wasm operators, run item by item, every stage kept.

A graph (YAML in the shape of Azure IoT Operations data-flow graph definitions; see
:mod:`wasinn_nb.pipeline.graph` and docs/pipelines.md) wires a source, operators and sinks.
Each map, filter or branch operation is a **wasinn operator**: a core wasm module (a WASI
reactor, wasm32) with this contract, ABI version 1:

=========================================  =====================================================
export                                     meaning
=========================================  =====================================================
``memory``                                 its linear memory
``op_abi_version() -> i32``                1
``op_buffer(len: i32) -> i32``             a guest buffer of at least ``len`` bytes, 8-aligned,
                                           valid until the next ``op_buffer``; 0: no room
``op_init(params: i32, len: i32) -> i32``  configure from the parameters in the buffer; status
``op_process(value: i32) -> i32``          process one item (a value descriptor); status
``op_output() -> i32``                     the descriptor of the last output (after status 0 of
                                           a map) or of the error message (status 2), valid
                                           until the next call into the guest
=========================================  =====================================================

Status: 0 ok (a map's output is ready; a filter or branch says true), 1 false (a filter drops
the item, a branch sends it down its False arm, a map drops it), 2 error (the UTF-8 message is
a bytes value at ``op_output``).

A **value descriptor** is 52 bytes of little-endian u32: kind @0 (0 bytes, 1 tensor), element
type @4 (wasi-nn 0.6 numbering: 0 f16, 1 f32, 2 f64, 3 u8, 4 i32, 5 i64), data pointer @8, data
length @12, rank @16 (at most 8), dims @20…52. The host writes an input as a descriptor at
the start of one ``op_buffer`` of ``56 + len`` bytes with its data at offset 56, so data
crosses as one copy each way, straight into and out of guest memory.

**Parameters** (``op_init``): u32 count, then per pair u32 key length, key, u32 value length,
value (UTF-8), packed.

The host calls ``op_init`` once, then ``op_process`` per item on the same instance, so an
operator keeps state across items: the ``infer`` operator loads its wasi-nn graph and creates
its execution context once. Each instance has its own store, bounded by :class:`Limits`
(memory, wasi-nn bytes) and by the run's stop switch (``timeout``, ``item_timeout``, Ctrl-C).
A trap or timeout fails that item; the instance is made again for the next one. Operators get
WASI without files, environment or arguments, and ``wasi_ephemeral_nn`` on the runner's
backends. The built-in operators (:data:`BUILTINS`) are Rust guests in ``guests/op-*``.

A map whose module is a WASI command or a component instead runs once per item as a whole
program (:mod:`wasinn_nb.pipeline.command`): the item is a file, its stdout the output.

Example:
    >>> import numpy as np
    >>> from wasinn_nb.pipeline import Pipeline, parse_graph
    >>> graph = parse_graph('''
    ... operations:
    ...   - {operationType: source, name: scores}
    ...   - {operationType: map, name: top, module: topk}
    ...   - {operationType: sink, name: out}
    ... connections:
    ...   - {from: {name: scores}, to: {name: top}}
    ...   - {from: {name: top}, to: {name: out}}
    ... ''')
    >>> result = Pipeline(graph, params={"top": {"k": "2"}}).run([np.array([0.1, 0.7, 0.2])])
    >>> result[0]["top"].tolist()
    [[1.0, 0.699999988079071], [2.0, 0.20000000298023224]]
"""

from wasinn_nb.abi import Limits
from wasinn_nb.pipeline.graph import (
    KINDS,
    Connection,
    GraphError,
    GraphSpec,
    Operation,
    load_graph,
    parse_graph,
    parse_param,
)
from wasinn_nb.pipeline.operator import OperatorError, encode_params
from wasinn_nb.pipeline.run import BUILTINS, Pipeline, builtin_module, run_pipeline
from wasinn_nb.results.pipeline import PipelineItem, PipelineResult, StageRecord

__all__ = [
    "BUILTINS",
    "KINDS",
    "Connection",
    "GraphError",
    "GraphSpec",
    "Limits",
    "Operation",
    "OperatorError",
    "Pipeline",
    "PipelineItem",
    "PipelineResult",
    "StageRecord",
    "builtin_module",
    "encode_params",
    "load_graph",
    "parse_graph",
    "parse_param",
    "run_pipeline",
]
