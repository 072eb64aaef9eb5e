"""Command-line options as data, defined once and shared by the CLI and the IPython magics.

Each :class:`Option` is the ``(flags, kwargs)`` of one ``argparse.add_argument`` call, so a parser
built for ``im2tensor`` and one built for ``%wasinn im2tensor`` accept exactly the same flags.
:class:`OptionParser` never prints or exits: a bad command line raises
:class:`~wasinn_nb.errors.OptionError`, ``--help`` raises :class:`HelpRequested` with the text.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NoReturn

from wasinn_nb.backends import backend_names
from wasinn_nb.backends.options import HINTS, PRECISIONS
from wasinn_nb.data.manifest import ASSETS, BUNDLES
from wasinn_nb.enums import (
    ColorOrder,
    DType,
    ExecutionTarget,
    GraphEncoding,
    Interpolation,
    Layout,
    ResizeMode,
)
from wasinn_nb.errors import OptionError, SpecError
from wasinn_nb.im2tensor.names import parse_dims_token
from wasinn_nb.im2tensor.spec import parse_dims
from wasinn_nb.runtime import parse_size

__all__ = [
    "BATCH_OPTIONS",
    "BENCH_OPTIONS",
    "BUILD_CELL_OPTIONS",
    "BUILD_OPTIONS",
    "CONVERT_OPTIONS",
    "DEMO_OPTIONS",
    "ENCODINGS",
    "FETCH_OPTIONS",
    "GUEST_OPTIONS",
    "INSPECT_OPTIONS",
    "MODULE",
    "NORMALIZE_OPTIONS",
    "NOTEBOOKS_OPTIONS",
    "PIPELINE_OPTIONS",
    "PRELOAD_OPTIONS",
    "QUIET",
    "REPEAT",
    "RUN_OPTIONS",
    "TARGETS",
    "TO_PNG_OPTIONS",
    "TRACEBACK",
    "HelpRequested",
    "Option",
    "OptionParser",
    "add_options",
    "parse_count",
    "parse_number",
    "parse_numbers",
]


@dataclass(frozen=True)
class Option:
    """One command-line option: the positional ``flags`` and keyword ``kwargs`` of add_argument.

    ``values`` are the names it takes when argparse ``choices`` would be too strict (values
    parsed case-insensitively, with aliases): tab completion offers them.
    """

    flags: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    values: tuple[str, ...] = ()


def add_options(parser: argparse.ArgumentParser, options: Iterable[Option]) -> None:
    """Add every option to ``parser`` (its ``values`` as the action's ``completions``)."""
    for option in options:
        action = parser.add_argument(*option.flags, **option.kwargs)
        action.completions = option.values  # type: ignore[attr-defined]


class HelpRequested(Exception):  # noqa: N818 - not an error: how --help leaves the parser
    """``--help`` was given; ``text`` is the help to show."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class OptionParser(argparse.ArgumentParser):
    """An argument parser that raises instead of printing and exiting.

    Example:
        >>> parser = OptionParser.build("%wasinn fetch", FETCH_OPTIONS, intermixed=True)
        >>> parser.parse(["--nope"])
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.OptionError: unrecognized arguments: --nope (see %wasinn fetch --help)
    """

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
        # argparse %-formats a usage string, and a prog such as "%wasinn run" would break that.
        parser.usage = parser.format_usage().removeprefix("usage: ").strip().replace("%", "%%")
        return parser

    def error(self, message: str) -> NoReturn:
        """Raise instead of exiting."""
        raise OptionError(f"{message} (see {self.prog} --help)")

    def print_help(self, file: object = None) -> None:
        """Raise :class:`HelpRequested` with the help instead of printing it."""
        raise HelpRequested(self.format_help())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Raise instead of exiting (argparse exits only after --help or an error)."""
        raise OptionError((message or f"exit status {status}").strip())

    def parse(self, argv: list[str]) -> argparse.Namespace:
        """Parse ``argv``; options and positionals may be mixed when ``intermixed``.

        An unknown flag close to a known one gets a hint (``--dri``: did you mean ``--dir``?).

        Example:
            >>> OptionParser.build("f", FETCH_OPTIONS).parse(["--lsit"])  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            wasinn_nb.errors.OptionError: ...: --lsit; did you mean --list? (see f --help)
        """
        parse = self.parse_known_intermixed_args if self.intermixed else self.parse_known_args
        args, unknown = parse(argv)
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(unknown)}{self._suggest(unknown)}")
        return args

    def _suggest(self, unknown: list[str]) -> str:
        flags = [flag for action in self._actions for flag in action.option_strings]
        close = [
            match[0]
            for word in unknown
            if word.startswith("-")
            and (match := difflib.get_close_matches(word.partition("=")[0], flags, n=1))
        ]
        return f"; did you mean {' or '.join(dict.fromkeys(close))}?" if close else ""


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


def parse_timeout(text: str) -> float:
    """Parse ``--timeout`` seconds: more than 0, finite, at most 30 days."""
    from wasinn_nb.runtime.interrupts import check_timeout

    seconds = check_timeout(parse_number(text))
    assert seconds is not None  # noqa: S101 - a number was given
    return seconds


def parse_names(text: str) -> tuple[str, ...]:
    """Parse comma-separated names: ``"CUDAExecutionProvider,CPUExecutionProvider"``."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise SpecError(f"expected comma-separated names, got {text!r}")
    return names


def parse_count(text: str) -> int:
    """Parse a whole number of at least 1: ``"10"``."""
    try:
        value = int(text)
    except ValueError:
        raise SpecError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise SpecError(f"must be at least 1, got {value}")
    return value


def _choices(enum: Any) -> list[str]:
    return [member.value for member in enum]


#: Model formats and devices by name (parsed in any case), as tab completion offers them.
ENCODINGS = tuple(e.name.lower() for e in GraphEncoding)
TARGETS = tuple(t.name.lower() for t in ExecutionTarget)


def _named(enum: Any, label: str) -> dict[str, Any]:
    """``type`` and ``metavar`` of an option taking one of ``enum``'s values."""
    return {"type": _typed(enum.parse, label), "metavar": "{" + ",".join(_choices(enum)) + "}"}


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
    {**_named(ColorOrder, "color"), "help": "channel order of the tensor (default: bgr)"},
    tuple(_choices(ColorOrder)),
)

LAYOUT = Option(
    ("--layout",),
    {**_named(Layout, "layout"), "help": "channels first or last (default: nchw)"},
    tuple(_choices(Layout)),
)

QUIET = Option(
    ("-q", "--quiet"),
    {"action": "store_true", "help": "print nothing but errors (no progress bar either)"},
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
            **_named(ResizeMode, "resize"),
            "help": "how to fit the image: stretch (default), letterbox (keep aspect, pad) or "
            "crop (keep aspect, cut the centre)",
        },
        tuple(_choices(ResizeMode)),
    ),
    Option(
        ("--interp", "--interpolation"),
        {
            "dest": "interpolation",
            **_named(Interpolation, "interpolation"),
            "help": "resampling filter (default: linear)",
        },
        tuple(_choices(Interpolation)),
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
    Option(
        ("--max-pixels",),
        {
            "type": _typed(parse_count, "pixels"),
            "metavar": "N",
            "help": "refuse images with more pixels, read from the header before decoding "
            "(default: $WASINN_MAX_PIXELS or 268435456, 16384x16384)",
        },
    ),
    QUIET,
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
    tuple(_choices(DType)),
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


MODULE = Option(("module",), {"metavar": "MODULE.wasm", "help": "guest module (.wasm or .wat)"})

#: The options of a run, but the module (a ``%%wasinn`` cell is the module).
GUEST_OPTIONS: tuple[Option, ...] = (
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
            "(wasmtime), read-only with a trailing :ro (or WasmEdge's :readonly); repeatable",
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
            "metavar": "{" + ",".join(backend_names()) + "}",
            "help": "run every model on this backend (default: ONNX Runtime for ONNX; LiteRT for "
            "TFLite and torch for PyTorch when installed; OpenVINO for the rest); see "
            "'wasinn backends'",
        },
        backend_names(),
    ),
    Option(
        ("--timeout",),
        {
            "type": _typed(parse_timeout, "timeout"),
            "metavar": "SECONDS",
            "help": "stop the run after this many seconds of wall-clock time, whatever it is "
            "doing (compiling, in wasm, in a host call or the backend); Ctrl-C stops it too",
        },
    ),
    Option(
        ("--threads",),
        {
            "type": _typed(parse_count, "threads"),
            "metavar": "N",
            "help": "inference threads, for every backend (default: each engine's own)",
        },
    ),
    Option(
        ("--precision",),
        {
            "choices": PRECISIONS,
            "help": "OpenVINO's inference precision: f32 (default, exact), bf16 or f16 (faster "
            "where the CPU has them), auto (OpenVINO's own choice, as its peers run)",
        },
    ),
    Option(
        ("--performance-hint",),
        {"choices": HINTS, "help": "OpenVINO's performance hint (default: OpenVINO's)"},
    ),
    Option(
        ("--providers",),
        {
            "type": _typed(parse_names, "providers"),
            "metavar": "NAME[,NAME]",
            "help": "ONNX Runtime execution providers, in order (default: by target; see "
            "'wasinn backends')",
        },
    ),
    Option(
        ("--max-memory",),
        {
            "type": _typed(parse_size, "size"),
            "metavar": "SIZE",
            "help": "most linear memory the guest may grow to, e.g. 512M (default: 2G; at most 4G)",
        },
    ),
    Option(
        ("--max-model-bytes",),
        {
            "type": _typed(parse_size, "size"),
            "metavar": "SIZE",
            "help": "most bytes one wasi-nn load may pass (default: 512M)",
        },
    ),
    Option(
        ("--max-tensor-bytes",),
        {
            "type": _typed(parse_size, "size"),
            "metavar": "SIZE",
            "help": "most bytes of input tensors held across live contexts, and of tensors kept "
            "in the result (default: 512M)",
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

RUN_OPTIONS: tuple[Option, ...] = (MODULE, *GUEST_OPTIONS)

#: ``build``'s own options, but the source (a ``%%wasinn build`` cell is the source).
_BUILD: tuple[Option, ...] = (
    Option(
        ("--lang",),
        {
            "choices": ("rust", "c"),
            "help": "the source's language (default: by the file's suffix; a cell that "
            "#includes is C, else Rust)",
        },
    ),
    Option(
        ("--release",),
        {"action": "store_true", "help": "optimise (slower to build; default: a debug build)"},
    ),
    Option(
        ("--wasm",),
        {"metavar": "FILE", "help": "also write the module to FILE (it is kept in the cache)"},
    ),
    Option(
        ("--run",),
        {
            "action": "store_true",
            "help": "run it once built, as 'run' does, with the run options and ARGS given here",
        },
    ),
)

#: ``%%wasinn build``: the cell is the source.
BUILD_CELL_OPTIONS: tuple[Option, ...] = (*_BUILD, *GUEST_OPTIONS)

BUILD_OPTIONS: tuple[Option, ...] = (
    Option(
        ("source",),
        {"metavar": "SOURCE", "help": "the guest's source: a Rust main.rs or a C file"},
    ),
    *BUILD_CELL_OPTIONS,
)


FETCH_OPTIONS: tuple[Option, ...] = (
    Option(
        ("names",),
        {"nargs": "*", "metavar": "NAME", "help": "assets or bundles to fetch (see --list)"},
        (*BUNDLES, *ASSETS),
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
    QUIET,
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


NOTEBOOKS_OPTIONS: tuple[Option, ...] = (
    Option(("dir",), {"metavar": "DIR", "help": "folder to copy the notebooks into (made if new)"}),
    Option(
        ("--force",),
        {"action": "store_true", "help": "replace notebooks already in DIR (kept by default)"},
    ),
)


REPEAT = Option(
    ("-n",),
    {
        "type": _typed(parse_count, "count"),
        "default": 10,
        "dest": "repeat",
        "metavar": "N",
        "help": "timed runs after one warm-up (default: 10)",
    },
)

TRACEBACK = Option(
    ("--traceback",),
    {"action": "store_true", "help": "show the full traceback of an error (for bug reports)"},
)

BENCH_OPTIONS: tuple[Option, ...] = (*RUN_OPTIONS, REPEAT, QUIET)

#: ``batch``: a run's options, plus the inputs and where and how to run them.
BATCH_OPTIONS: tuple[Option, ...] = (
    *RUN_OPTIONS,
    Option(
        ("-i", "--inputs"),
        {
            "action": "append",
            "required": True,
            "metavar": "PATH",
            "help": "a folder, a glob such as 'photos/*.jpg', or a file; repeatable. Each item "
            "is one run; {input} in ARGS is its path as the guest sees it (appended when absent; "
            "write {{input}} in %%wasinn, where IPython expands {name})",
        },
    ),
    Option(
        ("--results",),
        {
            "metavar": "FILE",
            "help": "keep the rows in this .parquet or .csv file as they come (rewritten "
            "atomically); a rerun skips the inputs it already has",
        },
    ),
    Option(
        ("--workers",),
        {
            "type": _typed(parse_count, "workers"),
            "metavar": "N",
            "help": "processes to run items on (default: one per core; 1: serially, in this "
            "process)",
        },
    ),
    Option(
        ("--scheduler",),
        {
            "metavar": "ADDRESS",
            "help": "run on this Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of locally; "
            "its workers must see the same paths",
        },
    ),
    Option(
        ("--chunk",),
        {
            "type": _typed(parse_count, "chunk"),
            "metavar": "N",
            "help": "items sent to a worker at a time (default: about 4 chunks per worker)",
        },
    ),
    Option(
        ("--spec",),
        {
            "type": _typed(lambda text: parse_dims(text) and text, "dims"),
            "metavar": "HxWxCxTYPE",
            "help": "convert each image to a tensor file of these dims first (with --color, "
            "--layout) and pass that file as {input}",
        },
    ),
    COLOR,
    LAYOUT,
    Option(("-q", "--quiet"), {"action": "store_true", "help": "no progress bar"}),
)

PRELOAD_OPTIONS: tuple[Option, ...] = (
    Option(("name",), {"metavar": "NAME", "help": "the name guests pass to load_by_name"}),
    Option(
        ("encoding",),
        {"metavar": "ENCODING", "help": "model format: OpenVINO, ONNX, TensorflowLite, PyTorch…"},
        ENCODINGS,
    ),
    Option(
        ("paths",),
        {
            "nargs": "+",
            "metavar": "[TARGET] PATH",
            "help": "optional target (cpu, gpu, tpu, auto), then the model file(s)",
        },
    ),
    Option(
        ("--target",),
        {"metavar": "TARGET", "help": "target when none is given (cpu)"},
        TARGETS,
    ),
)


def _picked(options: tuple[Option, ...], *flags: str) -> tuple[Option, ...]:
    """The options among ``options`` whose first flag is one of ``flags`` (in that order)."""
    by_flag = {option.flags[0]: option for option in options}
    return tuple(by_flag[flag] for flag in flags)


PIPELINE_OPTIONS: tuple[Option, ...] = (
    Option(("graph",), {"metavar": "GRAPH.yaml", "help": "graph definition (operations, "
                        "connections, moduleConfigurations), as Azure IoT Operations writes them"}),
    Option(
        ("inputs",),
        {
            "nargs": "+",
            "metavar": "INPUT",
            "help": "files fed to the source as bytes, one item each (a folder: its files)",
        },
    ),
    Option(
        ("--param",),
        {
            "action": "append",
            "default": [],
            "dest": "params",
            "metavar": "OPERATION:KEY=VALUE",
            "help": "set a module parameter (VALUE @FILE: the file's text); repeatable",
        },
    ),
    Option(
        ("--item-timeout",),
        {
            "type": _typed(parse_timeout, "timeout"),
            "metavar": "SECONDS",
            "help": "fail an input that takes longer (the others still run)",
        },
    ),
    *_picked(GUEST_OPTIONS, "--nn-preload", "-S", "--backend", "--timeout", "--threads",
             "--precision", "--performance-hint", "--providers", "--max-memory",
             "--max-model-bytes", "--max-tensor-bytes"),
)  # fmt: skip
