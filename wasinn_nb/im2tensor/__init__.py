"""im2tensor: images to tensor files and arrays, and back for inspection.

Example:
    >>> from wasinn_nb.im2tensor import TensorSpec, image_to_tensor
    >>> import numpy as np
    >>> image_to_tensor(np.zeros((10, 20, 3), np.uint8), TensorSpec.from_dims("8x8x3xf32")).shape
    (1, 3, 8, 8)
"""

from wasinn_nb.im2tensor.io import load_image, load_tensor, save_tensor
from wasinn_nb.im2tensor.names import TensorName, parse_tensor_name, tensor_file_name
from wasinn_nb.im2tensor.pipeline import ImageSource, image_to_tensor, tensor_to_image
from wasinn_nb.im2tensor.spec import TensorSpec, parse_dims
from wasinn_nb.im2tensor.stats import TensorStats, tensor_stats

__all__ = [
    "ImageSource",
    "TensorName",
    "TensorSpec",
    "TensorStats",
    "image_to_tensor",
    "load_image",
    "load_tensor",
    "parse_dims",
    "parse_tensor_name",
    "save_tensor",
    "tensor_file_name",
    "tensor_stats",
    "tensor_to_image",
]
