"""Paired LR/HR augmentation as tf ops (used inside tf.data `map` with AUTOTUNE parallelism), DiffAugment, and
per-element seeds for `Draws` (`sr_tf.ops`), the source of their randomness."""

import tensorflow as tf

from sr_tf.data.matlab import imresize
from sr_tf.errors import UserInputError
from sr_tf.ops import Draws, to_uint8


def element_seeds(seed):
    """A dataset of shape-(2,) seeds, one per element, for `Draws` inside a `map`: the same sequence in every
    process for an integer `seed`, a fresh one per epoch (each new iterator); nondeterministic for None."""
    return tf.data.Dataset.random(seed, rerandomize_each_iteration=True).map(lambda s: tf.stack([s, s // 7 + 1]))


def random_crop(lr_img, hr_img, hr_crop_size=96, scale=2, draws=None):
    """Crops an aligned patch pair at a random position: HR `hr_crop_size`, LR `hr_crop_size // scale`.

    The LR offset is drawn first and the HR offset is exactly `scale` times it, so the pair stays aligned.
    `draws` (a `Draws`) gives the offsets; by default, stateful random ops.
    """
    draws = draws or Draws.current()
    lr_crop_size = hr_crop_size // scale
    lr_shape = tf.shape(lr_img)[:2]
    lr_top = draws.uniform((), maxval=lr_shape[0] - lr_crop_size + 1, dtype=tf.int32)
    lr_left = draws.uniform((), maxval=lr_shape[1] - lr_crop_size + 1, dtype=tf.int32)
    hr_top, hr_left = lr_top * scale, lr_left * scale
    lr_cropped = lr_img[lr_top:lr_top + lr_crop_size, lr_left:lr_left + lr_crop_size]
    hr_cropped = hr_img[hr_top:hr_top + hr_crop_size, hr_left:hr_left + hr_crop_size]
    return lr_cropped, hr_cropped


def random_flip(lr_img, hr_img, draws=None):
    """Flips both images left-right with probability 1/2."""
    flip = (draws or Draws.current()).uniform(()) < 0.5
    return tf.cond(
        flip,
        lambda: (tf.image.flip_left_right(lr_img), tf.image.flip_left_right(hr_img)),
        lambda: (lr_img, hr_img),
    )


def random_rotate(lr_img, hr_img, draws=None):
    """Rotates both images by the same random multiple of 90 degrees."""
    k = (draws or Draws.current()).uniform((), maxval=4, dtype=tf.int32)
    return tf.image.rot90(lr_img, k), tf.image.rot90(hr_img, k)


# ----------------------------------------------------------------------------- DiffAugment (Zhao et al., 2020)
# Differentiable augmentations for GAN training, applied to real and fake batches (B, H, W, C) in [-1, 1] inside
# the train step, with an independent draw per image. Every op is made of tf ops, so it runs in a compiled step and
# gradients flow through it to the generator.


def _per_image_uniform(x, minval, maxval, draws):
    return (draws or Draws.current()).uniform(tf.stack([tf.shape(x)[0], 1, 1, 1]), minval, maxval, dtype=x.dtype,
                                      per_image=True)


def rand_brightness(x, draws=None):
    """Adds one value drawn from U(-0.5, 0.5) per image to every pixel and channel."""
    return x + _per_image_uniform(x, -0.5, 0.5, draws)


def rand_saturation(x, draws=None):
    """Scales each pixel's deviation from its channel mean by a factor drawn from U(0, 2) per image."""
    mean = tf.reduce_mean(x, axis=-1, keepdims=True)
    return (x - mean) * _per_image_uniform(x, 0.0, 2.0, draws) + mean


def rand_contrast(x, draws=None):
    """Scales each image's deviation from its mean (over pixels and channels) by a factor from U(0.5, 1.5)."""
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * _per_image_uniform(x, 0.5, 1.5, draws) + mean


def translate(x, dy, dx):
    """Moves image i by (dy[i], dx[i]) pixels (down, right): out[i, y, x] = x[i, y - dy, x - dx], zeros elsewhere."""
    h, w = tf.shape(x)[1], tf.shape(x)[2]
    rows = tf.range(h)[None, :] - tf.reshape(tf.cast(dy, tf.int32), (-1, 1))  # (B, H) source rows
    cols = tf.range(w)[None, :] - tf.reshape(tf.cast(dx, tf.int32), (-1, 1))  # (B, W) source columns
    out = tf.gather(x, tf.clip_by_value(rows, 0, h - 1), axis=1, batch_dims=1)
    out = tf.gather(out, tf.clip_by_value(cols, 0, w - 1), axis=2, batch_dims=1)
    inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    return out * tf.cast(inside, x.dtype)[..., None]


def max_shift(size, ratio=0.125):
    """The largest translation DiffAugment draws for a side of `size` pixels: round(size * ratio)."""
    return int(size * ratio + 0.5)


def rand_translation(x, draws=None, ratio=0.125):
    """Translates each image by integer offsets drawn uniformly from [-s, s] per axis, s = `max_shift`; zero fill."""
    sy, sx = max_shift(x.shape[1], ratio), max_shift(x.shape[2], ratio)
    n, draws = tf.shape(x)[:1], draws or Draws.current()
    dy = draws.uniform(n, -sy, sy + 1, dtype=tf.int32, per_image=True)
    dx = draws.uniform(n, -sx, sx + 1, dtype=tf.int32, per_image=True)
    return translate(x, dy, dx)


def cutout(x, cy, cx, size):
    """Zeros a `size` x `size` square per image whose top-left corner is (cy[i] - size // 2, cx[i] - size // 2),
    clipped at the borders."""
    h, w = tf.shape(x)[1], tf.shape(x)[2]
    top = tf.reshape(tf.cast(cy, tf.int32) - size // 2, (-1, 1))
    left = tf.reshape(tf.cast(cx, tf.int32) - size // 2, (-1, 1))
    rows, cols = tf.range(h)[None, :], tf.range(w)[None, :]
    in_rows = (rows >= top) & (rows < top + size)
    in_cols = (cols >= left) & (cols < left + size)
    cut = in_rows[:, :, None] & in_cols[:, None, :]
    return x * tf.cast(~cut, x.dtype)[..., None]


def rand_cutout(x, draws=None, ratio=0.5):
    """Cuts out a square of side round(H * ratio) per image, centred uniformly over the image (clipped)."""
    size = max_shift(x.shape[1], ratio)
    n, draws = tf.shape(x)[:1], draws or Draws.current()
    cy = draws.uniform(n, 0, x.shape[1] + (1 - size % 2), dtype=tf.int32, per_image=True)
    cx = draws.uniform(n, 0, x.shape[2] + (1 - size % 2), dtype=tf.int32, per_image=True)
    return cutout(x, cy, cx, size)


AUGMENTATIONS = {
    "color": (rand_brightness, rand_saturation, rand_contrast),
    "translation": (rand_translation,),
    "cutout": (rand_cutout,),
}


def parse_policy(policy):
    """Checks a DiffAugment policy string ('color,translation,cutout' or a subset; '' for none); returns its names."""
    names = [p.strip() for p in (policy or "").split(",") if p.strip()]
    for name in names:
        if name not in AUGMENTATIONS:
            raise UserInputError(f"Unknown DiffAugment policy '{name}'; expected a comma-separated subset of "
                             f"{list(AUGMENTATIONS)}. Received: policy={policy!r}")
    return names


def diff_augment(x, policy="color,translation", draws=None):
    """DiffAugment: applies the policy's augmentations in order, each with independent draws per image.

    Args:
        x: float images (B, H, W, C) in [-1, 1] with a static H and W.
        policy: comma-separated subset of 'color' (brightness, saturation, contrast), 'translation' (up to 1/8
            of the side, zero fill) and 'cutout' (a square of half the side).
        draws: a `Draws` (seeded, per replica); by default, stateful random ops.

    Returns:
        The augmented batch, same shape and dtype.
    """
    for name in parse_policy(policy):
        for op in AUGMENTATIONS[name]:
            x = op(x, draws)
    return x


DOWNSCALE_METHODS = ("bicubic", "matlab")


def downscale(hr, scale, method="bicubic"):
    """Makes an LR image from an HR one, rounded to uint8.

    Args:
        hr: (H, W, 3) uint8 array or tensor (H and W divisible by `scale` for 'bicubic').
        scale: integer factor.
        method: 'bicubic' (`tf.image.resize` bicubic with antialiasing, this package's default since the
            tutorial) or 'matlab' (MATLAB's `imresize`, as published benchmark LR images are made; see
            `sr_tf.data.matlab`; sizes the scale does not divide give ceil(H / scale) x ceil(W / scale)).
    """
    if method == "matlab":
        return imresize(tf.cast(hr, tf.uint8), scale)
    if method != "bicubic":
        raise UserInputError(f"Unknown downscale method. Expected one of {list(DOWNSCALE_METHODS)}. "
                             f"Received: method={method!r}")
    hr = tf.convert_to_tensor(hr)
    size = tf.shape(hr)[:2] // scale
    return to_uint8(tf.image.resize(tf.cast(hr, tf.float32), size, method="bicubic", antialias=True))


def crop_to_multiple(image, scale):
    """Crops the bottom/right of an (H, W, ...) image so that both sides are multiples of `scale`."""
    return image[: image.shape[0] - image.shape[0] % scale, : image.shape[1] - image.shape[1] % scale]
