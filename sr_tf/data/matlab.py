"""MATLAB's `imresize(image, 1/scale, 'bicubic')` in TensorFlow ops: how the LR images of the published benchmark
tables (Set5, Set14, B100, Urban100, DIV2K) were made; `upscale` is the same resize enlarging (the tables' bicubic
baseline: the kernel unwidened, 4 taps).

What it reproduces, per dimension:
- the cubic kernel with a = -0.5: (1.5|x|^3 - 2.5|x|^2 + 1) on |x| <= 1, (-0.5|x|^3 + 2.5|x|^2 - 4|x| + 2) on
  1 < |x| <= 2, 0 beyond;
- antialiasing when shrinking by f = 1/scale: the kernel becomes f * cubic(f * x), 4 * scale pixels wide;
- output pixel j (1-based) sits at u = j * scale + (1 - scale) / 2 in input coordinates; its taps are the
  ceil(4 * scale) + 2 input pixels from floor(u - 2 * scale) on, weighted by the kernel at u - i and normalized to
  sum to 1;
- taps outside the image mirror symmetrically (index 0 is pixel 1, -1 is pixel 2, n + 1 is pixel n);
- the output side is ceil(n / scale), so sizes the scale does not divide work;
- rows (height) first, then columns, as MATLAB orders equal scale factors;
- uint8 images are computed in float64 and rounded half away from zero to uint8 after each dimension, as
  MATLAB's per-dimension kernel returns the input's class; float images are left unrounded.

Tensors of any (dynamic) height and width work inside `tf.data` `map`: the weights are a dense (out, in) matrix
built with TF ops per call, applied with one matrix product per dimension.
"""

import math

import tensorflow as tf


def cubic(x):
    """MATLAB's cubic convolution kernel (a = -0.5)."""
    ax = tf.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * tf.cast(ax <= 1, x.dtype)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * tf.cast((ax > 1) & (ax <= 2), x.dtype)
    return near + far


def resize_matrix(length, factor):
    """The (ceil(length * factor), length) float64 matrix of MATLAB's bicubic resize by `factor` (output over
    input size; antialiased when below 1) along one dimension of `length` pixels (a scalar tensor or int)."""
    f = float(factor)
    shrink = f < 1
    width = 4.0 / f if shrink else 4.0
    taps = math.ceil(width) + 2
    length = tf.cast(length, tf.int64)
    out = tf.cast(tf.math.ceil(tf.cast(length, tf.float64) * f - 1e-9), tf.int64)
    u = tf.range(1.0, tf.cast(out, tf.float64) + 1.0, dtype=tf.float64) / f + 0.5 * (1.0 - 1.0 / f)
    left = tf.floor(u - width / 2.0)
    index = left[:, None] + tf.range(taps, dtype=tf.float64)[None, :]
    weights = f * cubic(f * (u[:, None] - index)) if shrink else cubic(u[:, None] - index)
    weights = weights / tf.reduce_sum(weights, axis=1, keepdims=True)
    period = 2 * length
    k = tf.math.floormod(tf.cast(index, tf.int64) - 1, period)
    source = tf.where(k < length, k, period - 1 - k)  # 0-based, mirrored
    flat = tf.range(out, dtype=tf.int64)[:, None] * length + source
    matrix = tf.math.unsorted_segment_sum(tf.reshape(weights, [-1]), tf.reshape(flat, [-1]), out * length)
    return tf.reshape(matrix, tf.stack([out, length]))


def _round_uint8(x):
    return tf.cast(tf.clip_by_value(tf.floor(x + 0.5), 0.0, 255.0), tf.uint8)


def _resize(image, factor):
    image = tf.convert_to_tensor(image)
    is_uint8 = image.dtype == tf.uint8
    x = tf.cast(image, tf.float64)
    shape = tf.shape(x)
    x = tf.einsum("oh,hwc->owc", resize_matrix(shape[0], factor), x)
    if is_uint8:
        x = tf.cast(_round_uint8(x), tf.float64)
    x = tf.einsum("ow,hwc->hoc", resize_matrix(shape[1], factor), x)
    return _round_uint8(x) if is_uint8 else x


def imresize(image, scale):
    """Shrinks an (H, W, C) image by `scale` (> 1; integer for SR) as MATLAB's `imresize(image, 1/scale)` does
    with its default bicubic method, to (ceil(H / scale), ceil(W / scale), C).

    Args:
        image: uint8 (the result is uint8, rounded per dimension as MATLAB does) or float (float64 result,
            unrounded) tensor or array.
        scale: the shrink factor.
    """
    if float(scale) <= 1:
        raise ValueError(f"imresize here shrinks: expected scale > 1. Received: scale={scale}")
    return _resize(image, 1.0 / float(scale))


def upscale(image, scale):
    """Enlarges an (H, W, C) image `scale` times as MATLAB's `imresize(image, scale)` (bicubic, no antialiasing
    needed): the bicubic baseline of published benchmark tables. dtypes as for `imresize`."""
    if float(scale) < 1:
        raise ValueError(f"upscale enlarges: expected scale >= 1. Received: scale={scale}")
    return _resize(image, float(scale))
