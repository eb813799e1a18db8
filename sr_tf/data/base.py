"""The training/validation pipeline shared by every paired LR/HR image source (DIV2K, folders)."""

import os

import tensorflow as tf

from sr_tf.data.transforms import Draws, element_seeds, random_crop, random_flip, random_rotate
from sr_tf.progress import progress

AUTOTUNE = tf.data.AUTOTUNE


class PairedImages:
    """Base of LR/HR sources. Subclasses set `scale` and `hr_crop_size` and implement `lr_dataset`/`hr_dataset`.

    A subclass that sets `patch_degradation` (a `degrade(hr, scale, draws)` callable, see
    `sr_tf.data.degradations`) gets training LR patches made from each augmented HR patch, with the patch's own
    draws, instead of crops of `lr_dataset`; its `lr_dataset` should return `degraded_lr()`.
    """

    scale = None
    hr_crop_size = 96
    shuffle_buffer_size = 256
    patch_degradation = None
    VALIDATION_SEED = 2026  # full-image degradations draw from fixed per-image seeds, the same at every epoch

    def lr_dataset(self):
        """A dataset of LR images (uint8, HxWx3), aligned one to one with `hr_dataset`."""
        raise NotImplementedError

    def hr_dataset(self):
        """A dataset of HR images (uint8, HxWx3)."""
        raise NotImplementedError

    def _pairs_for_cropping(self):
        """LR/HR pairs that random cropping may use (subclasses drop pairs smaller than the crop)."""
        return tf.data.Dataset.zip((self.lr_dataset(), self.hr_dataset()))

    def _hr_for_cropping(self):
        """HR images that random cropping may use, for `patch_degradation` (subclasses drop small ones)."""
        return self.hr_dataset()

    def degraded_lr(self):
        """`patch_degradation` of each whole HR image, with fixed per-image seeds (validation and `lr_dataset`)."""
        degrade, scale = self.patch_degradation, self.scale
        seeds = tf.data.Dataset.random(self.VALIDATION_SEED).batch(2)
        return tf.data.Dataset.zip((self.hr_dataset(), seeds)).map(
            lambda hr, seed: degrade(hr, scale, Draws(seed)), num_parallel_calls=AUTOTUNE)

    def dataset(self, batch_size=16, repeat_count=None, random_transform=True, seed=None):
        """Builds the tf.data pipeline of (lr, hr) batches.

        With `random_transform`, each image pair yields an aligned random crop (HR `hr_crop_size`, LR
        `hr_crop_size // scale`), a random rotation by a multiple of 90 degrees and a random left-right flip,
        mapped in parallel with AUTOTUNE; patches are shuffled and batches span epochs, so every batch is full
        (the last one of a finite `repeat_count` may be short). Without it, full images are returned in order (use
        `batch_size=1` when sizes differ).

        The augmentation draws from per-element seeds (stateless ops), so with an integer `seed` the pipeline is
        the same in every process and every run - what multi-worker training needs, since each worker builds the
        whole pipeline and keeps its share of every batch - while each epoch still gets new crops and a new order.

        Args:
            batch_size: images per batch.
            repeat_count: epochs; None repeats forever.
            random_transform: crop/rotate/flip/shuffle for training, or full images for validation.
            seed: integer seed of the crops, rotations, flips and shuffling; None: different at every run.

        Returns:
            A `tf.data.Dataset` of `(lr, hr)` uint8 batches, prefetched.
        """
        if random_transform:
            scale, crop, degrade = self.scale, self.hr_crop_size, self.patch_degradation

            def augment(pair, element_seed):
                draws = Draws(element_seed)
                lr, hr = random_crop(*pair, hr_crop_size=crop, scale=scale, draws=draws)
                return random_flip(*random_rotate(lr, hr, draws), draws)

            def augment_and_degrade(hr, element_seed):
                draws = Draws(element_seed)
                _, hr = random_crop(hr, hr, hr_crop_size=crop, scale=1, draws=draws)
                hr = random_flip(*random_rotate(hr, hr, draws), draws)[1]
                lr = tf.ensure_shape(degrade(hr, scale, draws), (crop // scale, crop // scale, 3))
                return lr, hr

            if degrade is None:
                ds = tf.data.Dataset.zip((self._pairs_for_cropping(), element_seeds(seed))).map(
                    augment, num_parallel_calls=AUTOTUNE)
            else:
                ds = tf.data.Dataset.zip((self._hr_for_cropping(), element_seeds(seed))).map(
                    augment_and_degrade, num_parallel_calls=AUTOTUNE)
            ds = ds.shuffle(self.shuffle_buffer_size, seed=seed)
            # Epochs before batches: every batch is full even when the images are not a multiple of the batch
            # (a short batch would weigh its examples more, and would split unevenly over replicas).
            ds = ds.repeat(repeat_count).batch(batch_size)
        else:
            ds = tf.data.Dataset.zip((self.lr_dataset(), self.hr_dataset())).batch(batch_size).repeat(repeat_count)
        return ds.prefetch(AUTOTUNE)


def cache_is_complete(cache_file):
    """True when a tf.data cache file was fully written: its `.index` and at least one data shard exist."""
    directory, name = os.path.split(os.path.abspath(cache_file))
    if not os.path.isfile(cache_file + ".index"):
        return False
    return any(f.startswith(name + ".data-") for f in os.listdir(directory))


def remove_cache(cache_file):
    """Removes every file of a tf.data cache (index, data shards, lock files left by an interrupted fill)."""
    directory, name = os.path.split(os.path.abspath(cache_file))
    if os.path.isdir(directory):
        for f in os.listdir(directory):
            if f == name + ".index" or f.startswith(name + ".data-") or (f.startswith(name) and "lockfile" in f):
                os.remove(os.path.join(directory, f))


def cached(ds, cache_file, count, description):
    """Caches `ds` in `cache_file`, filling it once with a progress bar when it is missing or incomplete.

    An incomplete cache - an `.index` without its data shard, or shards and lock files left by an interrupted
    fill - is removed and rebuilt instead of failing later with a NotFoundError inside tf.data.

    Args:
        ds: the dataset of decoded images.
        cache_file: cache path prefix (tf.data adds `.index` and `.data-*`).
        count: number of elements, for the progress bar.
        description: what is cached, for the progress message.

    Returns:
        The cached dataset.
    """
    os.makedirs(os.path.dirname(os.path.abspath(cache_file)), exist_ok=True)
    if not cache_is_complete(cache_file):
        remove_cache(cache_file)
        print(f"Caching {description} in {cache_file} ...", flush=True)
        bar = progress(count, unit_name="image")
        for _ in ds.cache(cache_file):
            bar.add(1)
    return ds.cache(cache_file)
