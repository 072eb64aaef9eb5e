"""Command-line options as data, defined once and shared by the CLI and the IPython magics.

Each :class:`Option` is the ``(flags, kwargs)`` of one ``argparse.add_argument`` call, so a parser
built for ``im2tensor`` and one built for ``%wasinn im2tensor`` accept exactly the same flags.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NoReturn

from wasinn_nb._types import ColorOrder, DType, Interpolation, Layout, ResizeMode
from wasinn_nb.errors import SpecError
from wasinn_nb.im2tensor.names import parse_dims_token
from wasinn_nb.im2tensor.spec import parse_dims

__all__ = [
    "CONVERT_OPTIONS",
    "DEMO_OPTIONS",
    "FETCH_OPTIONS",
    "INSPECT_OPTIONS",
    "NORMALIZE_OPTIONS",
    "RUN_OPTIONS",
    "TO_PNG_OPTIONS",
    "Option",
    "OptionError",
    "OptionParser",
    "add_options",
]


@dataclass(frozen=True)
class Option:
    """One command-line option: the positional ``flags`` and keyword ``kwargs`` of add_argument."""

    flags: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


def add_options(parser: argparse.ArgumentParser, options: Iterable[Option]) -> None:
    """Add every option to ``parser``."""
    for option in options:
        parser.add_argument(*option.flags, **option.kwargs)


class OptionError(Exception):
    """A command line that does not parse; the message is one line, ending with a help hint."""


class OptionParser(argparse.ArgumentParser):
    """An argument parser that raises :class:`OptionError` instead of printing and exiting."""

    intermixed = False

    @classmethod
    def build(
        cls,
        prog: str,
        options: Iterable[Option],
        description: str = "",
        *,
        intermixed: bool = False,
    ) -> OptionParser:
        """A parser for ``options``; ``intermixed`` lets positionals and options mix freely."""
        parser = cls(prog=prog, description=description)
        add_options(parser, options)
        parser.intermixed = intermixed
        return parser

    def error(self, message: str) -> NoReturn:
        """Raise instead of exiting."""
        raise OptionError(f"{message} (see {self.prog} --help)")

    def parse(self, argv: list[str]) -> argparse.Namespace:
        """Parse ``argv``; options and positionals may be mixed when ``intermixed``."""
        if self.intermixed:
            return self.parse_intermixed_args(argv)
        return self.parse_args(argv)


def _typed(parse: Any, metavar: str) -> Any:
    """Wrap a parser so argparse reports our SpecError message as a usage error."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except SpecError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = metavar
    return convert


def parse_number(text: str) -> float:
    """Parse a float, also written as a fraction: ``"0.5"``, ``"1/255"``."""
    try:
        return float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise SpecError(f"not a number: {text!r}") from None


def parse_numbers(text: str) -> tuple[float, ...]:
    """Parse comma-separated numbers: ``"123.7,116.3,103.5"``."""
    return tuple(parse_number(part) for part in text.split(",") if part.strip())


def _choices(enum: Any) -> list[str]:
    return [member.value for member in enum]


DIMS = Option(
    ("--dims",),
    {
        "required": True,
        "type": _typed(parse_dims, "dims"),
        "metavar": "HxWxCxTYPE",
        "help": "tensor size and type, e.g. 512x896x3xfp32 (types: fp16 fp32 fp64 u8 i8 i32 i64; "
        "f32 etc. accepted)",
    },
)

COLOR = Option(
    ("--color",),
    {
        "type": _typed(ColorOrder.parse, "color"),
        "metavar": "{bgr,rgb}",
        "help": "channel order of the tensor (default: bgr)",
    },
)

LAYOUT = Option(
    ("--layout",),
    {
        "type": _typed(Layout.parse, "layout"),
        "metavar": "{nchw,nhwc}",
        "help": "channels first or last (default: nchw)",
    },
)

NORMALIZE_OPTIONS: tuple[Option, ...] = (
    Option(
        ("--scale",),
        {
            "type": _typed(parse_number, "scale"),
            "metavar": "S",
            "help": "multiply pixels (0-255) by S first, e.g. 1/255 (default: 1)",
        },
    ),
    Option(
        ("--mean",),
        {
            "type": _typed(parse_numbers, "mean"),
            "metavar": "M[,M,M]",
            "help": "subtract per channel, in the tensor's colour order (default: 0)",
        },
    ),
    Option(
        ("--std",),
        {
            "type": _typed(parse_numbers, "std"),
            "metavar": "D[,D,D]",
            "help": "then divide per channel: value = (pixel*scale - mean) / std (default: 1)",
        },
    ),
)

CONVERT_OPTIONS: tuple[Option, ...] = (
    Option(
        ("--image",),
        {
            "required": True,
            "metavar": "IMAGE",
            "help": "image file, a folder of images, or a glob such as 'photos/*.jpg'",
        },
    ),
    DIMS,
    Option(
        ("--tensor",),
        {
            "metavar": "OUT",
            "help": "output tensor file (raw little-endian bytes; .npy for NumPy format), or a "
            "folder for several images; omit to only print the summary",
        },
    ),
    COLOR,
    LAYOUT,
    Option(
        ("--resize",),
        {
            "type": _typed(ResizeMode.parse, "resize"),
            "metavar": "{stretch,letterbox,crop}",
            "help": "how to fit the image: stretch (default), letterbox (keep aspect, pad) or "
            "crop (keep aspect, cut the centre)",
        },
    ),
    Option(
        ("--interp", "--interpolation"),
        {
            "dest": "interpolation",
            "type": _typed(Interpolation.parse, "interpolation"),
            "metavar": "{" + ",".join(_choices(Interpolation)) + "}",
            "help": "resampling filter (default: linear)",
        },
    ),
    Option(
        ("--pad-value",),
        {
            "type": _typed(parse_number, "pad value"),
            "metavar": "V",
            "help": "pixel value (0-255) for letterbox padding (default: 0)",
        },
    ),
    *NORMALIZE_OPTIONS,
    Option(
        ("--no-batch",),
        {
            "dest": "batch",
            "action": "store_false",
            "default": None,
            "help": "leave out the leading batch axis of 1 (the bytes are the same)",
        },
    ),
    Option(
        ("--npy",),
        {
            "action": "store_true",
            "help": "write .npy files when --tensor is a folder (default: raw .tensor)",
        },
    ),
    Option(("-q", "--quiet"), {"action": "store_true", "help": "print nothing but errors"}),
)

_TENSOR_IN = Option(("tensor",), {"metavar": "TENSOR", "help": "tensor file (raw or .npy)"})
_SHAPE = Option(
    ("--dims",),
    {
        "type": _typed(parse_dims_token, "dims"),
        "metavar": "DIMS",
        "help": "shape and type when the file name does not tell, e.g. 512x896x3xf32 "
        "(im2tensor style) or 1x4x512x896xf32",
    },
)
_DTYPE = Option(
    ("--dtype",),
    {
        "type": _typed(DType.parse, "dtype"),
        "metavar": "TYPE",
        "help": "element type, if neither the name nor --dims gives it",
    },
)

INSPECT_OPTIONS: tuple[Option, ...] = (_TENSOR_IN, _SHAPE, _DTYPE, COLOR, LAYOUT)

TO_PNG_OPTIONS: tuple[Option, ...] = (
    _TENSOR_IN,
    Option(("output",), {"metavar": "OUT.png", "help": "image file to write (.png, .jpg, ...)"}),
    _SHAPE,
    _DTYPE,
    COLOR,
    LAYOUT,
    *NORMALIZE_OPTIONS,
    Option(
        ("--channel",),
        {
            "type": int,
            "metavar": "N",
            "help": "render channel N as grey, scaled from its min..max (for non-image tensors "
            "such as class scores)",
        },
    ),
)


RUN_OPTIONS: tuple[Option, ...] = (
    Option(("module",), {"metavar": "MODULE.wasm", "help": "guest module (.wasm or .wat)"}),
    Option(
        ("args",),
        {
            "nargs": "*",
            "metavar": "ARGS",
            "help": "guest arguments (put them after -- if they start with a dash)",
        },
    ),
    Option(
        ("--dir",),
        {
            "action": "append",
            "default": [],
            "dest": "dirs",
            "metavar": "DIR",
            "help": "give the guest a folder: DIR, GUEST:HOST (WasmEdge) or HOST::GUEST "
            "(wasmtime); repeatable",
        },
    ),
    Option(
        ("--nn-preload",),
        {
            "action": "append",
            "default": [],
            "dest": "preload",
            "metavar": "NAME:ENCODING:TARGET:PATH[:PATH]",
            "help": "make a model loadable by name (load_by_name), as in WasmEdge; repeatable",
        },
    ),
    Option(
        ("-S",),
        {
            "action": "append",
            "default": [],
            "dest": "wasi_options",
            "metavar": "nn-graph=ENCODING::DIR",
            "help": "wasmtime's spelling of a named model (folder name = model name); '-S nn' "
            "is accepted and ignored",
        },
    ),
    Option(
        ("--backend",),
        {
            "metavar": "{openvino,onnxruntime}",
            "help": "run every model on this backend (default: OpenVINO for IR, TFLite, TF and "
            "PyTorch models; ONNX Runtime for ONNX)",
        },
    ),
    Option(
        ("--timeout",),
        {
            "type": _typed(parse_number, "timeout"),
            "metavar": "SECONDS",
            "help": "stop the guest after this much wasm execution time",
        },
    ),
    Option(
        ("--env",),
        {
            "action": "append",
            "default": [],
            "metavar": "NAME=VALUE",
            "help": "environment variable for the guest; repeatable",
        },
    ),
)


FETCH_OPTIONS: tuple[Option, ...] = (
    Option(
        ("names",),
        {"nargs": "*", "metavar": "NAME", "help": "assets or bundles to fetch (see --list)"},
    ),
    Option(
        ("--mirror",),
        {
            "metavar": "DIR",
            "help": "copy from this local folder (laid out like shared/fixtures) instead of "
            "downloading; default $WASINN_MIRROR",
        },
    ),
    Option(
        ("--dest",),
        {"metavar": "DIR", "help": "put the files here (default: the wasinn-nb data cache)"},
    ),
    Option(("--list",), {"action": "store_true", "help": "list what can be fetched"}),
)


DEMO_OPTIONS: tuple[Option, ...] = (
    Option(
        ("--out",),
        {
            "default": "tensor",
            "metavar": "DIR",
            "help": "where tensors and the overlay go (tensor/)",
        },
    ),
    Option(
        ("--mirror",),
        {
            "metavar": "DIR",
            "help": "take the model and photo from this folder (default "
            "$WASINN_MIRROR; else download)",
        },
    ),
)
