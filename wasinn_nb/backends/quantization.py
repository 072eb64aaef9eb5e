"""How a model's quantized outputs map to real numbers, read by the engine that runs the model.

A quantized output holds integers ``q`` standing for ``scale * (q - zero_point)``. The scale and
zero point belong to the model, so they are read from it, by a backend's own engine:

* ``openvino`` (any format OpenVINO reads): its frontends turn an output's quantization into a
  ``FakeQuantize`` followed by a ``Convert`` to the integer type, just before the output; the
  scale and zero point follow from the FakeQuantize's input and output ranges.
* ``litert``: the interpreter's ``get_output_details()`` (TFLite's own per-tensor parameters).

Both also name the operation that produced the quantized value. When that is a softmax, the
dequantized scores are probabilities already; otherwise they are logits (or whatever the model
computes) and :meth:`~wasinn_nb.results.Classification.softmax` turns them into
probabilities.

Example:
    ``output_quantization("mobilenet_v2_1.0_224_quant.tflite", "openvino")`` returns
    ``OutputQuantization(scale=0.00390625, zero_point=0, producer='softmax', backend='openvino')``.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

from wasinn_nb.errors import BackendError, BackendUnavailableError, UnsupportedError, first_line

__all__ = ["OutputQuantization", "output_quantization"]

#: Operations that only move values around; the producer is looked up past them.
_SHAPE_ONLY = frozenset({"reshape", "transpose", "squeeze", "unsqueeze", "identity"})


@dataclass(frozen=True)
class OutputQuantization:
    """The dequantization of one output: ``real = scale * (q - zero_point)``.

    Attributes:
        scale: The real value of one quantization step.
        zero_point: The integer that stands for 0.
        producer: The operation whose result was quantized, lower case (``softmax``, ``add``…).
        backend: The backend whose engine read the model.
    """

    scale: float
    zero_point: int
    producer: str
    backend: str

    @property
    def is_probability(self) -> bool:
        """Whether the real values are a softmax's probabilities (no softmax needed after)."""
        return self.producer == "softmax"


def output_quantization(
    model: str | os.PathLike[str], backend: str, index: int = 0
) -> OutputQuantization | None:
    """The quantization of output ``index`` of ``model``, as ``backend``'s engine reads it.

    Args:
        model: The model file (for OpenVINO IR, the ``.xml`` with its ``.bin`` beside it).
        backend: ``openvino`` or ``litert``: the engine whose reading of the model to use (the
            one that runs it, so the numbers are the ones it quantized with).
        index: The output's index.

    Returns:
        The scale, zero point and producing operation, or ``None`` when the output is not a
        quantized real number (a float output, or integer class indices such as an argmax's).

    Raises:
        UnsupportedError: For another backend, or an integer output whose quantization the
            engine's graph does not show.
        BackendUnavailableError: If the backend's engine is not installed.
    """
    path = os.fspath(model)
    if backend == "openvino":
        return _openvino(path, index)
    if backend == "litert":
        return _litert(path, index)
    raise UnsupportedError(f"cannot read output quantization with backend {backend!r}")


def _openvino(path: str, index: int) -> OutputQuantization | None:
    try:
        import openvino as ov
    except ImportError:
        raise BackendUnavailableError("openvino", "openvino") from None

    try:
        results = ov.Core().read_model(path).get_results()
    except RuntimeError as error:
        raise BackendError(f"OpenVINO cannot read {path}: {first_line(error)}") from None
    if not 0 <= index < len(results):
        raise UnsupportedError(f"output {index} is out of range: the model has {len(results)}")
    node = results[index].input_value(0).get_node()
    element = node.get_output_element_type(0)
    if element.is_real() or element.get_type_name() in ("i32", "i64", "boolean"):
        return None
    fake = node.input_value(0).get_node() if node.get_type_name() == "Convert" else None
    if fake is None or fake.get_type_name() != "FakeQuantize":
        raise UnsupportedError(
            f"output {index} is {element.get_type_name()} but OpenVINO's graph has no "
            f"FakeQuantize before it (found {node.get_type_name()})"
        )
    ranges = (_scalar(fake.input_value(i).get_node()) for i in (1, 2, 3, 4))
    in_low, in_high, out_low, out_high = ranges
    scale = (in_high - in_low) / (out_high - out_low)
    producer = fake.input_value(0).get_node()
    while producer.get_type_name().lower() in _SHAPE_ONLY:
        producer = producer.input_value(0).get_node()
    return OutputQuantization(
        scale, round(out_low - in_low / scale), producer.get_type_name().lower(), "openvino"
    )


def _scalar(node: Any) -> float:
    """The single value of a per-tensor FakeQuantize range constant."""
    if node.get_type_name() != "Constant":
        raise UnsupportedError(f"FakeQuantize range is a {node.get_type_name()}, not a constant")
    values = node.get_data().ravel()
    if values.size != 1:
        raise UnsupportedError(f"per-channel output quantization ({values.size} ranges)")
    return float(values[0])


def _litert(path: str, index: int) -> OutputQuantization | None:
    try:  # imported by name: its package has no type information
        litert: Any = importlib.import_module("ai_edge_litert.interpreter")
    except ImportError:
        raise BackendUnavailableError("litert", "tflite") from None

    try:  # without delegates, so the operators listed are the model's own
        reader = litert.Interpreter(
            model_path=path,
            experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
    except (ValueError, RuntimeError) as error:
        raise BackendError(f"LiteRT cannot read {path}: {first_line(error)}") from None
    outputs = reader.get_output_details()
    if not 0 <= index < len(outputs):
        raise UnsupportedError(f"output {index} is out of range: the model has {len(outputs)}")
    scale, zero_point = outputs[index]["quantization"]
    if scale == 0:  # TFLite's "not quantized"
        return None
    tensor = outputs[index]["index"]
    # _get_ops_details is the interpreter's (underscored) listing of the model's operators
    ops = [op["op_name"].lower() for op in reader._get_ops_details() if tensor in op["outputs"]]
    return OutputQuantization(float(scale), int(zero_point), ops[0] if ops else "", "litert")
