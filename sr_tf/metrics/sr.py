"""Image-quality metrics: the tutorial's RGB PSNR, and Y-channel PSNR/SSIM as benchmark tables compute them.

Benchmark protocol (what SR papers report on Set5/Set14/BSD100): convert to Y of YCbCr with BT.601
(Y = 16 + 65.481 R + 128.553 G + 24.966 B for RGB in [0, 1]), crop `scale` pixels at every border, and compute in
float64. SSIM uses an 11x11 Gaussian window with sigma 1.5, C1 = (0.01 * 255)^2 and C2 = (0.03 * 255)^2, over
the valid region of the window. Identical images give an infinite PSNR.
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


def psnr_y(img1, img2, crop_border=0):
    """PSNR on the Y channel with `crop_border` pixels removed at each side (pass the scale), in float64.

    Args:
        img1, img2: RGB images (H, W, 3) or batches (B, H, W, 3) in 0..255.
        crop_border: pixels cropped at every border before comparing.

    Returns:
        A float for one image, or an array with one value per image of a batch.
    """
    a, b = _prepare(img1, img2, crop_border, y_only=True)
    mse = np.mean((a - b) ** 2, axis=(-3, -2, -1))
    with np.errstate(divide="ignore"):
        value = 10.0 * np.log10(255.0 ** 2 / mse)
    return float(value) if np.ndim(value) == 0 else value


def _gaussian_window(size=11, sigma=1.5):
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter_valid(x, window):
    """Separable 'valid' filtering over the two image axes of (..., H, W)."""
    k = len(window)
    x = np.lib.stride_tricks.sliding_window_view(x, k, axis=-2) @ window
    return np.lib.stride_tricks.sliding_window_view(x, k, axis=-1) @ window


def _ssim_channel(a, b):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    w = _gaussian_window()
    mu1, mu2 = _filter_valid(a, w), _filter_valid(b, w)
    sigma1 = _filter_valid(a * a, w) - mu1 ** 2
    sigma2 = _filter_valid(b * b, w) - mu2 ** 2
    sigma12 = _filter_valid(a * b, w) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * sigma12 + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (sigma1 + sigma2 + c2))
    return ssim_map.mean(axis=(-2, -1))


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
    a, b = np.moveaxis(a, -1, -3), np.moveaxis(b, -1, -3)  # (..., C, H, W)
    value = _ssim_channel(a, b).mean(axis=-1)
    return float(value) if np.ndim(value) == 0 else value


def bicubic_upscale(lr, scale):
    """Bicubic upscaling of uint8 RGB images by `scale` (the baseline next to every model), rounded to uint8."""
    lr = tf.convert_to_tensor(lr)
    size = tf.shape(lr)[-3:-1] * scale
    return to_uint8(tf.image.resize(tf.cast(lr, tf.float32), size, method="bicubic"))
