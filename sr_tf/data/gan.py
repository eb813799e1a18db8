"""The training pipeline of an unconditional GAN (FastGAN's) on a folder of images."""

import hashlib
import json
import os
import shutil

import numpy as np
import tensorflow as tf

from sr_tf.atomic import atomic_write_text
from sr_tf.data.base import AUTOTUNE
from sr_tf.data.io import file_signature, read_image, readable_images, resize_square
from sr_tf.data.transforms import element_seeds
from sr_tf.errors import UserInputError
from sr_tf.progress import progress


def gan_dataset(path, im_size, batch_size=8, cache_dir=None, shuffle=True, flip=True, repeat=True, seed=None):
    """The training pipeline of an unconditional GAN on a folder of images (FastGAN's).

    Files are found recursively (PNG, JPEG, WebP; unreadable ones skipped with a warning), converted by
    `to_rgb_uint8` and resized to `im_size` x `im_size` with `resize_square`, once: the decoded set is kept in
    memory, or with `cache_dir` saved there (`tf.data.Dataset.save`, keyed by the file list and size, written to a
    temporary folder and renamed when complete, so an interrupted fill is redone) and read back on later runs.
    (A `from_generator` source is avoided on purpose: while its iterator lives, it halved the speed of the
    training step on a 2-core CPU.) Each epoch is reshuffled; images are flipped left-right at random, scaled
    to [-1, 1] (float32) and batched, with AUTOTUNE parallelism and prefetching.

    Args:
        path: the folder, or a list of image files.
        im_size: side of the square training images.
        batch_size: images per batch (every batch is full; a set smaller than a batch is repeated).
        cache_dir: folder for the tf.data cache files; None caches in memory.
        shuffle, flip: reshuffle every epoch; random horizontal flips.
        seed: integer seed of the shuffling and flips (the same pipeline in every process); None: new each run.

    Returns:
        `(dataset, files)`: batches (B, im_size, im_size, 3) float32 in [-1, 1], and the files used.
    """
    files = list(path) if isinstance(path, (list, tuple)) else readable_images(path)
    if not isinstance(im_size, int) or im_size < 2:
        raise UserInputError(f"`im_size` must be an integer >= 2. Received: im_size={im_size!r}")

    if cache_dir is None:
        ds = tf.data.Dataset.from_tensor_slices(decode_resized(files, im_size))
    else:
        ds = _saved_dataset(files, im_size, cache_dir)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = tf.data.Dataset.zip((ds, element_seeds(seed)))
    ds = ds.map(lambda image, element_seed: _to_gan_input(image, flip, element_seed), num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=repeat).prefetch(AUTOTUNE), files


def decode_resized(files, im_size):
    """uint8 (N, im_size, im_size, 3): each file read by `read_image` and resized by `resize_square` (progress bar
    above 50 files)."""
    bar = progress(len(files), unit_name="image") if len(files) > 50 else None
    images = np.empty((len(files), im_size, im_size, 3), np.uint8)
    for i, file in enumerate(files):
        images[i] = resize_square(read_image(file)[0], im_size)
        if bar is not None:
            bar.add(1)
    return images


def _saved_dataset(files, im_size, cache_dir):
    """The decoded set saved under `cache_dir`, keyed by the file list and size; inside it a JSON record of each
    file's size and modification time, so a file edited in place makes the set be decoded again."""
    key = "\n".join([str(im_size)] + [os.path.abspath(f) for f in files])
    digest = hashlib.sha1(key.encode("utf8", "surrogateescape")).hexdigest()[:12]  # any file name
    path = os.path.join(cache_dir, f"gan_{im_size}_{digest}")
    signatures = [file_signature(f) if os.path.exists(f) else None for f in files]
    record = os.path.join(path, "sources.json")
    if os.path.isdir(path):
        saved = json.load(open(record)) if os.path.exists(record) else None
        if saved is None or any(now is not None and now != then for now, then in zip(signatures, saved)):
            print(f"The images changed since {path} was filled; caching them again.", flush=True)
            shutil.rmtree(path)
    if not os.path.isdir(path):
        print(f"Caching {len(files)} images at {im_size}x{im_size} in {path} ...", flush=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tf.data.Dataset.from_tensor_slices(decode_resized(files, im_size)).save(tmp)
        atomic_write_text(os.path.join(tmp, "sources.json"), json.dumps(signatures))
        os.replace(tmp, path)
    return tf.data.Dataset.load(path)


def _to_gan_input(image, flip, element_seed):
    image = tf.cast(image, tf.float32) / 127.5 - 1.0
    if flip:
        image = tf.image.stateless_random_flip_left_right(image, element_seed)
    return image
