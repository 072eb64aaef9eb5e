"""Looking at results: pure rendering to BGR images, ipywidgets views, and rich displays.

``viz.render`` needs only numpy and OpenCV; the widgets in ``viz.widgets`` import ipywidgets
when they are built. ``viz.display`` gives results their Jupyter displays. The palettes live
with the results they colour and are re-exported here.
"""

from wasinn_nb.results.palette import DEFAULT_PALETTE, ROAD_LABELS, ROAD_PALETTE, Color, Palette

__all__ = ["DEFAULT_PALETTE", "ROAD_LABELS", "ROAD_PALETTE", "Color", "Palette"]
