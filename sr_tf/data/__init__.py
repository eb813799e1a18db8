"""Data pipelines: DIV2K, users' image folders, and the augmentation transforms."""

from sr_tf.data.base import PairedImages, cache_is_complete
from sr_tf.data.div2k import DIV2K, download_archive
from sr_tf.data.images import ImageFolder, downscale, list_images, read_image, to_rgb_uint8
from sr_tf.data.transforms import random_crop, random_flip, random_rotate

__all__ = [
    "DIV2K", "ImageFolder", "PairedImages", "cache_is_complete", "download_archive", "downscale", "list_images",
    "read_image", "to_rgb_uint8", "random_crop", "random_flip", "random_rotate",
]
