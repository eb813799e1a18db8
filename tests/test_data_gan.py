"""The GAN data pipeline: recursive folders, [-1, 1] scaling, unreadable files, the cache folder."""

import os
import re
import warnings

import numpy as np
import pytest
from helpers import random_image, write_png
from model_helpers import write_gan_folder

from sr_tf.data.gan import gan_dataset
from sr_tf.data.io import read_image, readable_images, resize_square


def test_gan_dataset_reads_folders_recursively_and_scales_to_minus_one_one(tmp_path, rng):
    root = write_gan_folder(tmp_path / "images", rng)
    with pytest.warns(UserWarning, match="broken.png"):
        ds, files = gan_dataset(str(root), 16, batch_size=3, shuffle=False, flip=False, repeat=False)
    assert len(files) == 7 and any(f.endswith(".webp") for f in files) and any("sub" in f for f in files)
    images = np.concatenate(list(ds.as_numpy_iterator()))
    expected = np.stack([resize_square(read_image(f)[0], 16) for f in files]).astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(images, expected, atol=1e-6)
    with pytest.warns(UserWarning, match="broken.png"):
        repeated, _ = gan_dataset(str(root), 16, batch_size=10)
    batch = next(iter(repeated))  # repeats: full batches even of 7 images
    assert batch.shape == (10, 16, 16, 3)


def test_empty_or_unreadable_folders_are_clear_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=f"No images .* found in {re.escape(str(empty))}"):
        readable_images(str(empty))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"junk")
    (bad / "b.jpg").write_bytes(b"")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=f"None of the 2 image files .* in {re.escape(str(bad))}"):
            readable_images(str(bad))

def test_gan_dataset_cache_dir_is_filled_once_and_read_back(tmp_path, rng):
    files = [write_png(str(tmp_path / "img" / f"{i}.png"), random_image(rng, 20, 24)) for i in range(3)]
    cache = tmp_path / "cache"
    first = np.concatenate(list(gan_dataset(files, 8, cache_dir=str(cache), shuffle=False, flip=False,
                                            repeat=False)[0].as_numpy_iterator()))
    assert len(os.listdir(cache)) == 1 and not any(".tmp" in n for n in os.listdir(cache))
    for f in files:
        os.remove(f)  # the second run must not decode them again
    second = np.concatenate(list(gan_dataset(files, 8, cache_dir=str(cache), shuffle=False, flip=False,
                                             repeat=False)[0].as_numpy_iterator()))
    np.testing.assert_array_equal(first, second)
