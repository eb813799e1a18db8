"""Image-quality metrics: the tutorial's RGB PSNR, and Y-channel PSNR/SSIM as benchmark tables compute them.

Benchmark protocol (what SR papers report on Set5/Set14/BSD100): convert to Y of YCbCr with BT.601
(Y = 16 + 65.481 R + 128.553 G + 24.966 B for RGB in [0, 1], in float64), crop `scale` pixels at every border,
then TensorFlow's `tf.image.psnr` and `tf.image.ssim` (which compute in float32: within 1e-4 dB and 1e-5 of a
float64 computation, tests/test_inference.py). SSIM uses an 11x11 Gaussian window with sigma 1.5,
C1 = (0.01 * 255)^2 and C2 = (0.03 * 255)^2, over the valid region of the window, averaged over the channels.
Identical images give an infinite PSNR.
"""

import numpy as np
import tensorflow as tf

from sr_tf.errors import UserInputError
from sr_tf.ops import to_uint8


def psnr(x1, x2):
    """PSNR in dB over all RGB values with max 255, per image (the tutorial's metric, `tf.image.psnr`).

    Args:
        x1, x2: images or batches (..., H, W, C) in 0..255.

    Returns:
        A float32 tensor with one value per image (inf where the images are identical).
    """
    return tf.image.psnr(tf.cast(x1, tf.float32), tf.cast(x2, tf.float32), max_val=255)


def rgb_to_y(image):
    """Y channel (BT.601, studio range 16..235) of RGB images in 0..255, as float64 (..., H, W)."""
    image = np.asarray(image, dtype=np.float64) / 255.0
    return 16.0 + image @ np.array([65.481, 128.553, 24.966])


def _prepare(img1, img2, crop_border, y_only):
    img1, img2 = np.asarray(img1), np.asarray(img2)
    if img1.shape != img2.shape:
        raise UserInputError(f"Images must have the same shape. Received: {img1.shape} and {img2.shape}")
    if y_only:
        img1, img2 = rgb_to_y(img1)[..., None], rgb_to_y(img2)[..., None]
    else:
        img1, img2 = img1.astype(np.float64), img2.astype(np.float64)
    if crop_border:
        c = crop_border
        img1, img2 = img1[..., c:-c, c:-c, :], img2[..., c:-c, c:-c, :]
    return img1, img2


def _as_result(value):
    value = np.asarray(value, np.float64)
    return float(value) if value.ndim == 0 else value


def psnr_y(img1, img2, crop_border=0):
    """PSNR on the Y channel with `crop_border` pixels removed at each side (pass the scale).

    Args:
        img1, img2: RGB images (H, W, 3) or batches (B, H, W, 3) in 0..255.
        crop_border: pixels cropped at every border before comparing.

    Returns:
        A float for one image, or an array with one value per image of a batch.
    """
    a, b = _prepare(img1, img2, crop_border, y_only=True)
    return _as_result(tf.image.psnr(a, b, max_val=255.0))


def ssim(img1, img2, crop_border=0, y_only=True):
    """SSIM with an 11x11 Gaussian window (sigma 1.5), on Y by default, after cropping `crop_border` pixels.

    Args:
        img1, img2: RGB images (H, W, 3) or batches (B, H, W, 3) in 0..255.
        crop_border: pixels cropped at every border (pass the scale for benchmark numbers).
        y_only: compare the Y channel (benchmark protocol) or average the SSIM of R, G and B.

    Returns:
        A float for one image, or an array with one value per image of a batch.
    """
    a, b = _prepare(img1, img2, crop_border, y_only)
    if min(a.shape[-3:-1]) < 11:
        raise UserInputError(f"SSIM needs images of at least 11x11 after cropping. Received: {a.shape[-3:-1]}")
    return _as_result(tf.image.ssim(a, b, max_val=255.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03))


def bicubic_upscale(lr, scale):
    """Bicubic upscaling of uint8 RGB images by `scale` (the baseline next to every model), rounded to uint8."""
    lr = tf.convert_to_tensor(lr)
    size = tf.shape(lr)[-3:-1] * scale
    return to_uint8(tf.image.resize(tf.cast(lr, tf.float32), size, method="bicubic"))
