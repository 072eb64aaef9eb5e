"""Models and images the walkthroughs use: a pinned manifest and a verifying fetcher.

Example:
    >>> from wasinn_nb.data import BUNDLES
    >>> BUNDLES["road-segmentation"][0]
    'road-segmentation-adas-0001.xml'
"""

from wasinn_nb.data.fetcher import FetchError, data_dir, fetch, fetch_asset, mirror_dir
from wasinn_nb.data.manifest import ASSETS, BUNDLES, Asset

__all__ = [
    "ASSETS",
    "BUNDLES",
    "Asset",
    "FetchError",
    "data_dir",
    "fetch",
    "fetch_asset",
    "mirror_dir",
]
