"""The one conversion to displayable pixels that every part of the package shares."""

import numpy as np
import tensorflow as tf


def to_uint8(values, scale=1.0, offset=0.0):
    """`clip(round((values + offset) * scale), 0, 255)` as uint8: the step from computed values to pixels.

    Model outputs in 0..255 use the defaults; images in [-1, 1] use `offset=1, scale=127.5`; PixelCNN levels
    0..L-1 use `scale=255 / (L - 1)`; 16-bit images use `scale=1 / 257`.

    Args:
        values: a tensor (the result is a uint8 tensor) or anything numpy converts (a uint8 numpy array).
        scale, offset: the affine map applied before rounding.
    """
    if tf.is_tensor(values):
        x = tf.cast(values, tf.float32)
        if offset:
            x = x + offset
        if scale != 1.0:
            x = x * scale
        return tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)
    x = np.asarray(values, dtype=np.float64)
    if offset:
        x = x + offset
    if scale != 1.0:
        x = x * scale
    return np.clip(np.round(x), 0, 255).astype(np.uint8)
