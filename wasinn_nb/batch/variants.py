"""Variants of photos (flips, crops, brightness) to try a batch on more inputs than you have."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from wasinn_nb.im2tensor.io import load_image, save_image

__all__ = ["VARIANTS", "make_variants"]

Image = npt.NDArray[np.uint8]


def _crop(fraction: float) -> Callable[[Image], Image]:
    def crop(image: Image) -> Image:
        height, width = image.shape[:2]
        top, left = int(height * (1 - fraction) / 2), int(width * (1 - fraction) / 2)
        return image[top : top + max(1, int(height * fraction)),
                     left : left + max(1, int(width * fraction))]  # fmt: skip

    return crop


def _brightness(factor: float) -> Callable[[Image], Image]:
    def adjust(image: Image) -> Image:
        scaled: Image = np.clip(image.astype(np.float32) * factor, 0, 255).round().astype(np.uint8)
        return scaled

    return adjust


#: Each variant's name and how it changes a BGR image.
VARIANTS: dict[str, Callable[[Image], Image]] = {
    "orig": lambda image: image,
    "flip": lambda image: image[:, ::-1],
    "crop90": _crop(0.9),
    "dark": _brightness(0.6),
    "bright": _brightness(1.4),
    "crop75": _crop(0.75),
    "flip-crop80": lambda image: _crop(0.8)(image[:, ::-1]),
    "flip-dark": lambda image: _brightness(0.75)(image[:, ::-1]),
}


def make_variants(
    photos: Iterable[str | os.PathLike[str]],
    folder: str | os.PathLike[str],
    count: int,
    *,
    max_side: int = 512,
) -> list[Path]:
    """Write ``count`` PNG variants of ``photos`` into ``folder``, cycling photos and variants.

    File ``i`` is variant ``i // len(photos)`` of photo ``i % len(photos)``; after every
    variant was used, the next round crops 3 % more. Photos are first shrunk to at most
    ``max_side`` pixels a side. The same photos give the same files.

    Example:
        >>> import tempfile, cv2
        >>> tmp = Path(tempfile.mkdtemp())
        >>> _ = cv2.imwrite(str(tmp / "p.png"), np.full((8, 8, 3), 100, np.uint8))
        >>> [p.name for p in make_variants([tmp / "p.png"], tmp / "out", 3)]
        ['p-orig-000.png', 'p-flip-001.png', 'p-crop90-002.png']
    """
    import cv2

    sources = [Path(p) for p in photos]
    images = []
    for path in sources:
        image: Image = np.asarray(load_image(path), np.uint8)
        scale = max_side / max(image.shape[:2])
        if scale < 1:
            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
        images.append(image)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    names = list(VARIANTS)
    written = []
    for i in range(count):
        photo, step = i % len(sources), i // len(sources)
        name, round_ = names[step % len(names)], step // len(names)
        image = VARIANTS[name](images[photo])
        if round_:
            image = _crop(1 - 0.03 * min(round_, 20))(image)
        path = out / f"{sources[photo].stem}-{name}-{i:03d}.png"
        save_image(np.ascontiguousarray(image), path)
        written.append(path)
    return written
