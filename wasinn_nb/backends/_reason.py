r"""One-line reasons out of inference engines' error messages.

Engines wrap the cause of a failure in pages of context: OpenVINO stacks ``Exception from
src/…/core.cpp:105:`` location lines (one per C++ frame) above the message, and states the
check that failed with its source location; TorchScript prints its interpreter traceback
first and the error last; ONNX Runtime prefixes a status code. The helpers here pick the
informative part, so the first (and only) line a user sees names the cause.

Example:
    >>> openvino_reason(RuntimeError(
    ...     "Exception from src/inference/src/cpp/core.cpp:117:\n"
    ...     "Check 'rank.is_static()' failed at src/plugins/intel_cpu/src/node.cpp:108:\n"
    ...     "CPU plug-in doesn't support dynamic rank."))
    "CPU plug-in doesn't support dynamic rank. (check 'rank.is_static()' failed)"
"""

from __future__ import annotations

import re

from wasinn_nb.enums import GraphEncoding
from wasinn_nb.errors import first_line

__all__ = [
    "is_location",
    "litert_reason",
    "onnxruntime_reason",
    "openvino_reason",
    "switch_hint",
    "torch_reason",
]

_SOURCE = r"\S+\.(?:cpp|cc|cxx|c|hpp|hh|h)(?::\d+)+:?"
_LOCATION = re.compile(rf"^(?:Exception from\s+)?{_SOURCE}\s*$")
_CHECK = re.compile(rf"^Check '(?P<check>.*)' failed at {_SOURCE}\s*(?P<rest>.*)$")
_ORT_PREFIX = re.compile(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*(?P<code>[A-Z_]+)\s*:\s*")
_LITERT_LOCATION = re.compile(rf"^{_SOURCE}\s+")
_LITERT_NODE = re.compile(r"(?<=\S)\s*(Node number \d+ \(.*\) failed to \w+\.?)$")
_TORCH_BOILERPLATE = re.compile(r"\s*\(Could this error message be improved\?.*$")
_TORCH_ERROR = re.compile(r"^(?:[A-Za-z_.]*(?:Error|Exception)):\s*(?P<message>.+)$")

#: The other backend to name when one cannot read a model of this encoding.
_ALTERNATIVES = {
    GraphEncoding.TENSORFLOWLITE: ("litert", "openvino"),
    GraphEncoding.PYTORCH: ("pytorch", "openvino"),
}


def is_location(line: str) -> bool:
    """Whether ``line`` is only a source location, such as ``Exception from src/a.cpp:12:``.

    Example:
        >>> is_location("Exception from src/inference/src/cpp/core.cpp:105:"), is_location("bad")
        (True, False)
    """
    return bool(_LOCATION.match(line.strip()))


def _lines(error: BaseException) -> list[str]:
    text = str(getattr(error, "message", None) or error)
    return [line.strip() for line in text.splitlines() if line.strip()]


def openvino_reason(error: BaseException) -> str:
    """The message of an OpenVINO exception, without its location lines, plus the failed check.

    OpenVINO's text is ``Exception from FILE:LINE:`` lines, then optionally ``Check 'COND'
    failed at FILE:LINE:``, then the message (sometimes after a generic ``… failed with
    GeneralFailure:`` line). The reason is the first specific message line, followed by
    ``(check 'COND' failed)`` when there was one.
    """
    lines = _lines(error)
    checks: list[str] = []
    messages: list[str] = []
    for line in lines:
        if is_location(line):
            continue
        match = _CHECK.match(line)
        if match:
            checks.append(match["check"])
            if match["rest"]:
                messages.append(match["rest"])
        else:
            messages.append(line)
    # "FrontEnd API failed with GeneralFailure:" only announces the line that follows it.
    specific = [
        m for i, m in enumerate(messages) if not (m.endswith(":") and i + 1 < len(messages))
    ]
    if not specific and not checks:
        return first_line(error)
    reason = specific[0] if specific else ""
    check = checks[-1] if checks else ""
    if check and check not in reason:
        reason = f"{reason} (check '{check}' failed)" if reason else f"check '{check}' failed"
    return reason


def torch_reason(error: BaseException) -> str:
    r"""The error line of a PyTorch exception: the last ``XError: …`` line, or its first sentence.

    TorchScript runtime errors start with "The following operation failed in the TorchScript
    interpreter." and a traceback of serialized and original code; the cause is the last line.
    Archive errors are one long line whose first sentence is the cause.

    Example:
        >>> torch_reason(RuntimeError("The following operation failed in the TorchScript "
        ...     "interpreter.\nTraceback of TorchScript (most recent call last):\n"
        ...     "  File \"code/__torch__.py\", line 8\n"
        ...     "RuntimeError: expected scalar type Int but found Float"))
        'expected scalar type Int but found Float'
    """
    lines = _lines(error)
    for line in reversed(lines):
        match = _TORCH_ERROR.match(line)
        if match:
            return match["message"]
    if not lines:
        return type(error).__name__
    head = _TORCH_BOILERPLATE.sub("", lines[0])
    return re.split(r"(?<=\.)\s+(?=[A-Z])", head, maxsplit=1)[0]


def litert_reason(error: BaseException) -> str:
    """LiteRT's first line, without a leading kernel source location; the node that failed last.

    Example:
        >>> litert_reason(RuntimeError("tensorflow/lite/kernels/conv.cc:351 input->dims->size "
        ...                            "!= 4 (3 != 4)Node number 0 (CONV_2D) failed to prepare."))
        'input->dims->size != 4 (3 != 4); Node number 0 (CONV_2D) failed to prepare.'
    """
    line = _LITERT_LOCATION.sub("", first_line(error))
    return _LITERT_NODE.sub(r"; \1", line)


def onnxruntime_reason(error: BaseException) -> str:
    """ONNX Runtime's message on one line, its status code moved to the end.

    Example:
        >>> onnxruntime_reason(RuntimeError(
        ...     "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Protobuf parsing failed."))
        'Protobuf parsing failed. (INVALID_PROTOBUF)'
    """
    lines = _lines(error)
    if not lines:
        return type(error).__name__
    text = " ".join(lines)
    match = _ORT_PREFIX.match(text)
    if match is None:
        return text
    return f"{text[match.end() :]} ({match['code']})"


def switch_hint(encoding: GraphEncoding, current: str) -> str:
    """``" (try --backend X)"`` naming another backend that reads ``encoding``, or ``""``.

    Used when the chosen backend cannot read a model: the host does not switch by itself (no
    silent fallback), the message says how to. A backend that is not installed is named with
    its extra.

    Example:
        >>> switch_hint(GraphEncoding.ONNX, "onnxruntime")
        ''
    """
    from wasinn_nb.backends import _BACKENDS, available_backends

    others = [name for name in _ALTERNATIVES.get(encoding, ()) if name != current]
    info = _BACKENDS.get(others[0]) if others else None
    if info is None:
        return ""
    if info.name in available_backends():
        return f" (try --backend {info.name})"
    return f" (try --backend {info.name} after pip install 'wasinn-nb[{info.extra}]')"
