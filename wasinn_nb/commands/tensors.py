"""``im2tensor``, ``inspect`` and ``to-png``: images to tensor files, and tensor files looked at."""

from __future__ import annotations

import argparse
import dataclasses
import glob
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from wasinn_nb.commands.base import Outcome, Session
from wasinn_nb.enums import Layout
from wasinn_nb.errors import ImageReadError, ShapeError, TensorFileError, WasinnError
from wasinn_nb.im2tensor import (
    TensorName,
    TensorSpec,
    image_to_tensor,
    load_tensor,
    parse_tensor_name,
    save_tensor,
    tensor_file_name,
    tensor_stats,
    tensor_to_image,
)
from wasinn_nb.im2tensor.io import save_image
from wasinn_nb.im2tensor.stats import TensorStats, guess_channel_axis
from wasinn_nb.progress import note, progress
from wasinn_nb.viz.render import channel_to_image

__all__ = ["convert", "expand_images", "inspect", "to_png"]

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
)
_GLOB_CHARS = frozenset("*?[")


def expand_images(pattern: str) -> tuple[list[Path], bool]:
    """Resolve ``--image``: a file, a folder (its images) or a glob. Returns ``(paths, many)``.

    Raises:
        ImageReadError: If a folder or glob matches no image.
    """
    path = Path(pattern)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    elif _GLOB_CHARS & set(pattern):
        matches = glob.glob(pattern, recursive=True)  # noqa: PTH207 (Path.glob refuses absolute patterns)
        found = sorted(Path(p) for p in matches if Path(p).is_file())
    else:
        return [path], False
    if not found:
        raise ImageReadError(pattern, "no images found")
    return found, True


def convert(args: argparse.Namespace, session: Session) -> Outcome[Any]:
    """``im2tensor``: convert one image (or many) to tensor files.

    The value is the tensor for one image, or the files written for several.
    """
    spec = TensorSpec.from_options(vars(args))
    images, many = expand_images(args.image)
    if many:
        return _convert_many(images, spec, args, session)
    tensor = image_to_tensor(images[0], spec, max_pixels=args.max_pixels)
    target = _single_target(args.tensor, images[0], spec)
    if target is not None:
        save_tensor(tensor, target)
    where = f"wrote {target}" if target else "not written (no --tensor)"
    stats = tensor_stats(tensor, channel_axis=spec.channel_axis, color=spec.color)
    report = f"{images[0]} -> {spec.describe()}, {tensor.nbytes:,} bytes, {where}\n{stats.format()}"
    return Outcome(tensor, "" if args.quiet else report)


def _single_target(tensor: str | None, image: Path, spec: TensorSpec) -> Path | None:
    if tensor is None:
        return None
    target = Path(tensor)
    return target / tensor_file_name(image.stem, spec) if target.is_dir() else target


def _convert_many(
    images: list[Path], spec: TensorSpec, args: argparse.Namespace, session: Session
) -> Outcome[list[Path]]:
    if args.tensor is None:
        raise TensorFileError("--tensor FOLDER is needed to convert several images")
    folder = Path(args.tensor)
    targets = _batch_targets(images, folder, spec, ".npy" if args.npy else ".tensor")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TensorFileError(f"cannot create {folder}: {error.strerror or error}") from None
    written = []
    pairs = list(zip(images, targets, strict=True))
    for image, target in progress(
        pairs, desc="im2tensor", unit="image", enabled=not args.quiet, file=session.err
    ):
        try:
            tensor = image_to_tensor(image, spec, max_pixels=args.max_pixels)
            written.append(save_tensor(tensor, target))
        except WasinnError as error:
            note(f"im2tensor: error: {error}", file=session.err)
    report = f"converted {len(written)} of {len(images)} images into {folder}"
    failed = len(images) - len(written)
    problem = f"{failed} of {len(images)} images failed" if failed else None
    return Outcome(written, "" if args.quiet else report, int(failed > 0), problem)


def _batch_targets(images: list[Path], folder: Path, spec: TensorSpec, suffix: str) -> list[Path]:
    targets = [folder / tensor_file_name(image.stem, spec, suffix=suffix) for image in images]
    seen: dict[Path, Path] = {}
    for image, target in zip(images, targets, strict=True):
        if target in seen:
            raise TensorFileError(f"{seen[target]} and {image} would both be written to {target}")
        seen[target] = image
    return targets


def _read_tensor(args: argparse.Namespace) -> tuple[npt.NDArray[np.generic], TensorName | None]:
    """Load the tensor named by the options, with its interpretation (from --dims or the name)."""
    path = Path(args.tensor)
    name: TensorName | None = args.dims or parse_tensor_name(path)
    if name is not None and args.layout is not None and name.image_style:
        name = dataclasses.replace(name, layout=args.layout)
    if name is not None and args.color is not None:
        name = dataclasses.replace(name, color=args.color)
    raw = path.suffix.lower() != ".npy"
    shape = name.shape if name is not None and (raw or args.dims) else None
    dtype = args.dtype or (name.dtype if name else None)
    return load_tensor(path, shape=shape, dtype=dtype), name


def inspect(args: argparse.Namespace, session: Session) -> Outcome[TensorStats]:
    """``inspect``: shape, dtype and per-channel statistics of a tensor file."""
    array, name = _read_tensor(args)
    layout = args.layout or (name.layout if name else None)
    axis = guess_channel_axis(array.shape, layout)
    stats = tensor_stats(array, channel_axis=axis, color=name.color if name else None)
    source = "--dims" if args.dims else ("file name" if name else ".npy header")
    return Outcome(stats, stats.format(title=f"{args.tensor}  (shape from {source})"))


def to_png(args: argparse.Namespace, session: Session) -> Outcome[Path]:
    """``to-png``: write a tensor file as an image, undoing layout, colour and normalization."""
    array, name = _read_tensor(args)
    layout = args.layout or (name.layout if name else None)
    axis = guess_channel_axis(array.shape, layout)
    if axis is None:
        raise ShapeError("tensor", "an image-like (N)CHW or (N)HWC shape", array.shape)
    if args.channel is not None:
        pixels = channel_to_image(array, axis, args.channel)
    else:
        pixels = tensor_to_image(array, _spec_for(array.shape, axis, args, name))
    path = save_image(pixels, args.output)
    return Outcome(path, f"wrote {args.output} ({pixels.shape[1]}x{pixels.shape[0]})")


def _spec_for(
    shape: tuple[int, ...], axis: int, args: argparse.Namespace, name: TensorName | None
) -> TensorSpec:
    channels = shape[axis]
    if channels not in (1, 3):
        raise ShapeError(
            f"tensor has {channels} channels; pick one with --channel N, or an image",
            "C = 1 or 3",
            shape,
        )
    if len(shape) == 4 and shape[0] != 1:
        raise ShapeError("tensor", "a batch of 1", shape)
    layout = Layout.NHWC if axis == len(shape) - 1 else Layout.NCHW
    height, width = (shape[-3], shape[-2]) if layout is Layout.NHWC else shape[-2:]
    color = args.color or (name.color if name else None)
    options = {"mean": args.mean, "std": args.std, "scale": args.scale, "color": color}
    return TensorSpec(
        height, width, channels, layout=layout, batch=len(shape) == 4,
        **{k: v for k, v in options.items() if v is not None},
    )  # fmt: skip
