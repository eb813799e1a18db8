"""Data: image files (`io`), DIV2K (`div2k`), users' SR folders (`folder`), the GAN pipeline (`gan`), PixelCNN
sources (`pixelcnn`) and the augmentation and degradation transforms (`transforms`)."""

from sr_tf.data.base import PairedImages, cache_is_complete
from sr_tf.data.div2k import DIV2K, download_archive
from sr_tf.data.folder import ImageFolder
from sr_tf.data.io import image_grid, list_images, read_image, save_image, to_rgb_uint8
from sr_tf.data.transforms import crop_to_multiple, downscale, random_crop, random_flip, random_rotate

__all__ = [
    "DIV2K", "ImageFolder", "PairedImages", "cache_is_complete", "download_archive", "downscale", "list_images",
    "read_image", "to_rgb_uint8", "random_crop", "random_flip", "random_rotate", "crop_to_multiple", "image_grid",
    "save_image",
]
