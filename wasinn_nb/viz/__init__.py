"""Looking at results: palettes, pure rendering to BGR images, and ipywidgets views.

``viz.render`` and ``viz.palette`` need only numpy and OpenCV; the widgets in ``viz.widgets``
import ipywidgets when they are built.
"""

from wasinn_nb.viz.palette import DEFAULT_PALETTE, ROAD_LABELS, ROAD_PALETTE, Color, Palette

__all__ = ["DEFAULT_PALETTE", "ROAD_LABELS", "ROAD_PALETTE", "Color", "Palette"]
