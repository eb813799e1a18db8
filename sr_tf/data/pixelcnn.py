"""Image sources for PixelCNN: MNIST (tensorflow-datasets), the bundled 8x8 digits, and any folder of images.

Every source returns `Splits`: train, valid and test pairs of (images, labels), images uint8 (N, H, W, C) with
values 0..255 (labels int32 (N,), or None for a folder). `quantize` maps 0..255 to `levels` levels and
`pixelcnn_dataset` builds the tf.data pipeline (cache, shuffle, repeat, batch, prefetch with AUTOTUNE).
"""

import collections
import os
import socket

import numpy as np
import tensorflow as tf

from sr_tf.data.io import ASSETS_DIR, read_image, readable_images, resize_square
from sr_tf.errors import Arg, ResourceUnavailableError, UserInputError
from sr_tf.ops import to_uint8

DIGITS_FILE = os.path.join(ASSETS_DIR, "digits", "digits.npz")
FOLDER_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
MNIST_HOST = "storage.googleapis.com"  # where tensorflow-datasets downloads MNIST from
# The offline alternatives, as the messages name them (in Python and on the command line)
DIGITS = Arg("dataset", "digits", api="load_digits()")
FOLDER = Arg("dataset", api="load_folder(path)", flag="--dataset folder --data-dir DIR")

Splits = collections.namedtuple("Splits", ["train", "valid", "test"])
Splits.__doc__ = "Train, validation and test (images, labels) pairs; images uint8 (N, H, W, C) in 0..255."


class DatasetUnavailableError(ResourceUnavailableError):
    """A dataset cannot be read or downloaded (for example MNIST with no network)."""


def quantize(images, levels=256):
    """Maps 0..255 pixel values to `levels` equal-width levels 0..levels-1 (256: unchanged; 2: binarized at 128).

    Args:
        images: uint8 array or tensor.
        levels: integer in 2..256.

    Returns:
        uint8 levels, same shape.
    """
    if not isinstance(levels, (int, np.integer)) or not 2 <= levels <= 256:
        raise UserInputError(f"`levels` must be an integer in 2..256. Received: levels={levels!r}")
    if tf.is_tensor(images):
        return tf.cast(tf.cast(images, tf.int32) * levels // 256, tf.uint8)
    return (np.asarray(images, dtype=np.int32) * levels // 256).astype(np.uint8)


def levels_to_uint8(levels_array, levels):
    """Spreads levels 0..levels-1 over 0..255 for display (`round(v * 255 / (levels - 1))`), as uint8."""
    return to_uint8(levels_array, scale=255.0 / (levels - 1))


def _split(images, labels, valid_fraction, test_fraction, seed):
    """A fixed random split (seeded permutation) into train, valid and test."""
    order = np.random.default_rng(seed).permutation(len(images))
    n_test = int(round(len(images) * test_fraction))
    n_valid = int(round(len(images) * valid_fraction))
    parts = [order[n_test + n_valid:], order[n_test:n_test + n_valid], order[:n_test]]
    return Splits(*[(images[p], None if labels is None else labels[p]) for p in parts])


def load_digits(path=DIGITS_FILE):
    """The bundled 1,797 handwritten 8x8 digits (UCI optdigits via scikit-learn; CC BY 4.0, see LICENSE.md).

    Their 17 grey levels 0..16 are mapped to 0..255 (`round(x * 255 / 16)`), so `quantize` treats them like any
    8-bit image. The split is fixed: 1,347 train, 150 validation, 300 test images.

    Returns:
        `Splits` of (uint8 (N, 8, 8, 1), int32 labels).
    """
    try:
        with np.load(path) as data:
            x, y = data["x"], data["y"]
    except (OSError, KeyError, ValueError) as error:
        raise DatasetUnavailableError(f"Cannot read the digits file {path}: {error}") from error
    if x.ndim != 3 or x.max() > 16:
        raise DatasetUnavailableError(f"{path}: expected 8x8 images with levels 0..16, got shape {x.shape} "
                                      f"and maximum {x.max()}.")
    images = np.round(x.astype(np.float64) * 255.0 / 16.0).astype(np.uint8)[..., None]
    return _split(images, y.astype(np.int32), valid_fraction=150 / 1797, test_fraction=300 / 1797, seed=0)


def can_reach(host, port=443, timeout=5.0):
    """True when a TCP connection to host:port opens within `timeout` seconds (a quick test for a network)."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def load_mnist(data_dir=None, valid_size=5000):
    """MNIST through tensorflow-datasets: train minus its last `valid_size` images, those as validation, and test.

    The data are downloaded once into `data_dir` (tensorflow-datasets' default folder when None). Without a
    network, and with no prepared copy, this fails at once with a clear error instead of retrying for minutes.

    Returns:
        `Splits` of (uint8 (N, 28, 28, 1), int32 labels).

    Raises:
        DatasetUnavailableError: MNIST is not prepared in `data_dir` and cannot be downloaded.
    """
    import tensorflow_datasets as tfds

    splits = [f"train[:-{valid_size}]", f"train[-{valid_size}:]", "test"]

    def read(download):
        return tfds.load("mnist", split=splits, data_dir=data_dir, as_supervised=True, download=download)

    try:
        loaded = read(download=False)
    except Exception:  # not prepared yet: tensorflow-datasets raises AssertionError or its own errors
        if not can_reach(MNIST_HOST):
            raise DatasetUnavailableError(
                f"MNIST is not in {data_dir or 'the tensorflow-datasets folder'} and cannot be downloaded: "
                f"{MNIST_HOST} is unreachable (no network?). Use ", DIGITS, " (bundled, offline) or ", FOLDER,
                " with your own images.") from None
        try:
            loaded = read(download=True)
        except Exception as error:
            raise DatasetUnavailableError(
                f"Downloading MNIST with tensorflow-datasets failed ({type(error).__name__}: {error}). Use ",
                DIGITS, " (bundled, offline) or ", FOLDER, ".") from error
    return Splits(*[_to_arrays(tfds.as_numpy(part.batch(10_000))) for part in loaded])


def _to_arrays(batches):
    """(uint8 images, int32 labels) from an iterable of (images, labels) numpy batches."""
    images, labels = zip(*batches)
    return np.concatenate(images).astype(np.uint8), np.concatenate(labels).astype(np.int32)


def load_folder(path, size, channels=1, valid_fraction=0.1, test_fraction=0.1, seed=0):
    """Every readable image below `path` (recursive; PNG, JPEG, WebP, BMP; unreadable files are skipped with a
    warning naming them), converted and resized to `size` x `size`.

    Grey images are made with PIL's 'L' conversion (ITU-R 601 luma); alpha is dropped. Resizing is
    `resize_square`'s.

    Args:
        path: the folder.
        size: side of the (square) images.
        channels: 1 (grey) or 3 (RGB).
        valid_fraction, test_fraction: fractions of the images held out (fixed seeded split).
        seed: seed of the split.

    Returns:
        `Splits` of (uint8 (N, size, size, channels), None).
    """
    if channels not in (1, 3):
        raise UserInputError(f"`channels` must be 1 or 3. Received: channels={channels!r}")
    if not isinstance(size, int) or size < 2:
        raise UserInputError(f"`size` must be an integer >= 2. Received: size={size!r}")
    files = readable_images(path, FOLDER_EXTENSIONS)  # unreadable files skipped with a warning naming them
    images = []
    for file in files:
        rgb, _ = read_image(file)
        images.append(resize_square(rgb, size, grey=channels == 1))
    if len(images) < 3:
        raise UserInputError(f"{path} holds {len(images)} image(s); at least 3 are needed for train, validation and "
                         "test splits.")
    valid_fraction = max(valid_fraction, 1.0 / len(images))
    test_fraction = max(test_fraction, 1.0 / len(images))
    return _split(np.stack(images), None, valid_fraction, test_fraction, seed)


def pixelcnn_dataset(images, labels=None, levels=256, batch_size=128, shuffle=True, repeat_count=None, seed=None):
    """A tf.data pipeline of quantized images (and labels) for PixelCNN training or evaluation.

    Args:
        images: uint8 (N, H, W, C) in 0..255.
        labels: optional int (N,) labels, for class-conditional models.
        levels: quantization levels (see `quantize`).
        batch_size: examples per batch (the last batch of a finite pass may be smaller).
        shuffle: shuffle every epoch.
        repeat_count: epochs; None repeats forever.
        seed: shuffle seed.

    Returns:
        A dataset of uint8 (B, H, W, C) batches, or of (images, labels) when `labels` is given.
    """
    images = quantize(images, levels)
    ds = tf.data.Dataset.from_tensor_slices(images if labels is None else (images, np.asarray(labels, np.int32)))
    ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(min(len(images), 10_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.repeat(repeat_count)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
