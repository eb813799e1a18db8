"""PixelCNN data sources: quantization, the bundled digits, image folders, the tf.data pipeline and MNIST."""

import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import write_png
from PIL import Image

from sr_tf.cli import pixelcnn as pixelcnn_cli
from sr_tf.data import pixelcnn as pixelcnn_data
from sr_tf.data.pixelcnn import DatasetUnavailableError, load_digits, load_folder, pixelcnn_dataset, quantize


def test_quantize():
    values = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(quantize(values, 256), values)
    np.testing.assert_array_equal(quantize(values, 2), (values >= 128).astype(np.uint8))
    q4 = quantize(values, 4)
    assert q4.max() == 3 and (np.diff(q4.astype(int)) >= 0).all() and np.bincount(q4).tolist() == [64] * 4
    np.testing.assert_array_equal(quantize(tf.constant(values), 4).numpy(), q4)
    with pytest.raises(ValueError, match="levels"):
        quantize(values, 1)


def test_bundled_digits_splits():
    splits = load_digits()
    sizes = [len(part[0]) for part in splits]
    assert sizes == [1347, 150, 300]
    images = np.concatenate([part[0] for part in splits])
    assert images.shape[1:] == (8, 8, 1) and images.dtype == np.uint8 and images.max() == 255
    assert len(np.unique(images)) == 17  # the 17 original grey levels
    keys = [{part[0][i].tobytes() + bytes([part[1][i]]) for i in range(len(part[0]))} for part in splits]
    assert len(keys[1] & keys[2]) < 3 and set(np.unique(splits.train[1])) == set(range(10))
    assert os.path.exists(os.path.join(os.path.dirname(pixelcnn_data.DIGITS_FILE), "LICENSE.md"))


def test_folder_source_grey_and_rgb(tmp_path, rng):
    for i in range(5):
        write_png(str(tmp_path / "imgs" / f"sub{i % 2}" / f"{i}.png"),
                  rng.integers(0, 256, (20 + i, 30, 3), dtype=np.uint8))
    Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(tmp_path / "imgs" / "grey.webp")
    grey = load_folder(str(tmp_path / "imgs"), size=12, channels=1)
    rgb = load_folder(str(tmp_path / "imgs"), size=12, channels=3)
    assert sum(len(p[0]) for p in grey) == 6 and grey.train[0].shape[1:] == (12, 12, 1)
    assert rgb.train[0].shape[1:] == (12, 12, 3) and rgb.train[1] is None
    with pytest.raises(FileNotFoundError, match="missing"):
        load_folder(str(tmp_path / "missing"), size=12)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty"):
        load_folder(str(tmp_path / "empty"), size=12)


def test_pixelcnn_dataset_batches_levels_and_labels():
    images = np.arange(10 * 4, dtype=np.uint8).reshape(10, 2, 2, 1) * 6
    labels = np.arange(10)
    batches = list(pixelcnn_dataset(images, labels, levels=4, batch_size=4, shuffle=False, repeat_count=1))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), quantize(images, 4))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), labels)


def test_mnist_through_tensorflow_datasets_mock():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=40):
        splits = pixelcnn_data.load_mnist(valid_size=10)
    assert splits.train[0].shape[1:] == (28, 28, 1) and splits.train[0].dtype == np.uint8
    assert all(len(part[0]) == len(part[1]) > 0 for part in splits) and splits.test[1].dtype == np.int32


def test_mnist_offline_error_suggests_digits(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pixelcnn_data, "can_reach", lambda host, **kwargs: False)
    with pytest.raises(DatasetUnavailableError, match=r"load_digits\(\)"):
        pixelcnn_data.load_mnist(str(tmp_path / "tfds"))
    status = pixelcnn_cli.main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "tfds"),
                                "--checkpoint-dir", str(tmp_path / "ckpt")])
    assert status == 2 and "--dataset digits" in capsys.readouterr().err
