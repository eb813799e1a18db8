"""Paired LR/HR augmentation as tf ops (used inside tf.data `map` with AUTOTUNE parallelism)."""

import tensorflow as tf


def random_crop(lr_img, hr_img, hr_crop_size=96, scale=2):
    """Crops an aligned patch pair at a random position: HR `hr_crop_size`, LR `hr_crop_size // scale`.

    The LR offset is drawn first and the HR offset is exactly `scale` times it, so the pair stays aligned.
    """
    lr_crop_size = hr_crop_size // scale
    lr_shape = tf.shape(lr_img)[:2]
    lr_top = tf.random.uniform(shape=(), maxval=lr_shape[0] - lr_crop_size + 1, dtype=tf.int32)
    lr_left = tf.random.uniform(shape=(), maxval=lr_shape[1] - lr_crop_size + 1, dtype=tf.int32)
    hr_top, hr_left = lr_top * scale, lr_left * scale
    lr_cropped = lr_img[lr_top:lr_top + lr_crop_size, lr_left:lr_left + lr_crop_size]
    hr_cropped = hr_img[hr_top:hr_top + hr_crop_size, hr_left:hr_left + hr_crop_size]
    return lr_cropped, hr_cropped


def random_flip(lr_img, hr_img):
    """Flips both images left-right with probability 1/2."""
    flip = tf.random.uniform(shape=()) < 0.5
    return tf.cond(
        flip,
        lambda: (tf.image.flip_left_right(lr_img), tf.image.flip_left_right(hr_img)),
        lambda: (lr_img, hr_img),
    )


def random_rotate(lr_img, hr_img):
    """Rotates both images by the same random multiple of 90 degrees."""
    k = tf.random.uniform(shape=(), maxval=4, dtype=tf.int32)
    return tf.image.rot90(lr_img, k), tf.image.rot90(hr_img, k)
