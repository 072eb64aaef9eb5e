"""Colours with an explicit channel order, and palettes of class colours."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from wasinn_nb.errors import SpecError

__all__ = ["DEFAULT_PALETTE", "ROAD_LABELS", "ROAD_PALETTE", "Color", "Palette"]


@dataclass(frozen=True)
class Color:
    """An 8-bit colour. Build and read it with a named channel order, never a bare tuple.

    Example:
        >>> Color.from_hex("#ff8000").as_bgr()
        (0, 128, 255)
    """

    red: int
    green: int
    blue: int

    def __post_init__(self) -> None:
        if not all(0 <= c <= 255 for c in (self.red, self.green, self.blue)):
            raise SpecError(f"colour channels must be 0-255, got {self}")

    @classmethod
    def from_rgb(cls, rgb: Sequence[int]) -> Color:
        """From ``(red, green, blue)``."""
        red, green, blue = (int(c) for c in rgb)
        return cls(red, green, blue)

    @classmethod
    def from_bgr(cls, bgr: Sequence[int]) -> Color:
        """From ``(blue, green, red)``, OpenCV's order."""
        blue, green, red = (int(c) for c in bgr)
        return cls(red, green, blue)

    @classmethod
    def from_hex(cls, text: str) -> Color:
        """From ``"#rrggbb"``."""
        value = text.lstrip("#")
        if len(value) != 6:
            raise SpecError(f"expected a colour like #1f77b4, got {text!r}")
        try:
            return cls(int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
        except ValueError:
            raise SpecError(f"expected a colour like #1f77b4, got {text!r}") from None

    def as_rgb(self) -> tuple[int, int, int]:
        """``(red, green, blue)``."""
        return (self.red, self.green, self.blue)

    def as_bgr(self) -> tuple[int, int, int]:
        """``(blue, green, red)``, for OpenCV images."""
        return (self.blue, self.green, self.red)

    def as_hex(self) -> str:
        """``"#rrggbb"``, for HTML."""
        return f"#{self.red:02x}{self.green:02x}{self.blue:02x}"


@dataclass(frozen=True)
class Palette:
    """Class colours by class index; indices past the end wrap around."""

    colors: tuple[Color, ...]

    def __post_init__(self) -> None:
        if not self.colors:
            raise SpecError("a palette needs at least one colour")

    @classmethod
    def from_hex(cls, *codes: str) -> Palette:
        """From ``"#rrggbb"`` strings."""
        return cls(tuple(Color.from_hex(c) for c in codes))

    def __getitem__(self, index: int) -> Color:
        return self.colors[index % len(self.colors)]

    def __len__(self) -> int:
        return len(self.colors)

    def __iter__(self) -> Iterator[Color]:
        return iter(self.colors)


#: Ten well-separated colours (matplotlib's tab10).
DEFAULT_PALETTE = Palette.from_hex(
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip

#: road-segmentation-adas-0001's classes, in output-channel order.
ROAD_LABELS = ("background", "road", "curb", "mark")

#: Colours for :data:`ROAD_LABELS`, as in OpenVINO's road-segmentation walkthrough.
ROAD_PALETTE = Palette.from_hex("#440154", "#30678d", "#35b778", "#c7d834")
