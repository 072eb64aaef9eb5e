"""Models, images, example guests and notebooks: a pinned manifest, a verifying fetcher.

Example:
    >>> from wasinn_nb.data import BUNDLES
    >>> BUNDLES["road-segmentation"][0]
    'road-segmentation-adas-0001.xml'
"""

from wasinn_nb.data.fetcher import data_dir, fetch, fetch_asset, mirror_dir
from wasinn_nb.data.guests import example_guest, example_notebooks
from wasinn_nb.data.manifest import ASSETS, BUNDLES, Asset
from wasinn_nb.errors import FetchError

__all__ = [
    "ASSETS",
    "BUNDLES",
    "Asset",
    "FetchError",
    "data_dir",
    "example_guest",
    "example_notebooks",
    "fetch",
    "fetch_asset",
    "mirror_dir",
]
