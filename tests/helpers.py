"""Helpers the tests share: tiny generated images, subprocess runs of the command lines, model round trips, tiny
PixelCNNs, and `run_layer_test`, which checks a custom layer the way keras-hub's TestCase does."""

import functools
import os
import subprocess
import sys

import keras
import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def random_image(rng, height, width, channels=3):
    """A random uint8 image."""
    return rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)


def write_png(path, array, mode=None):
    """Writes an array as PNG (creating folders) and returns the path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    (Image.fromarray(array, mode) if mode else Image.fromarray(array)).save(path)
    return path


def block_mean(hr, scale):
    """Mean of each scale x scale block of (..., H, W, C) images (the exact inverse of nearest upsampling)."""
    hr = np.asarray(hr, dtype=np.float64)
    *lead, h, w, c = hr.shape
    return hr.reshape(*lead, h // scale, scale, w // scale, scale, c).mean(axis=(-4, -2))


def keras_round_trip(model, tmp_path):
    """Saves a model as .keras and loads it back in safe mode."""
    import keras

    path = os.path.join(tmp_path, f"{model.name}.keras")
    model.save(path)
    return keras.saving.load_model(path, safe_mode=True)


def offline(*args, **kwargs):
    """Stands in for a Keras application constructor on a machine without network: the download fails."""
    raise OSError("network unreachable")


def run_cli(args, cwd=REPO, timeout=300, env=None):
    """Runs a command-line entry point in a subprocess and returns the CompletedProcess."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=full_env)


def randomize_batchnorm(model, seed=0):
    """Random moving statistics, so inference-mode BatchNorm is not the identity."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.2, layer.moving_mean.shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape).astype("float32"))
    return model


PIXELCNN_CASES = ["pixelcnn-grey", "pixelcnn-rgb", "gated-grey", "gated-rgb-conditional"]


def tiny_pixelcnn(name):
    """(model, labels) of one tiny network variant of PIXELCNN_CASES. All four are built on first use, in one
    seeded sequence, and shared by the tests (none is built at import time)."""
    return _tiny_pixelcnns()[name]


@functools.lru_cache(maxsize=None)
def _tiny_pixelcnns():
    from sr_tf.models import pixelcnn

    keras.utils.set_random_seed(3)
    return {
        "pixelcnn-grey": (randomize_batchnorm(pixelcnn.pixelcnn((6, 7, 1), num_res_blocks=2, hidden=8, levels=4)),
                          None),
        "pixelcnn-rgb": (randomize_batchnorm(pixelcnn.pixelcnn((5, 6, 3), num_res_blocks=2, hidden=12, levels=5)),
                         None),
        "gated-grey": (pixelcnn.gated_pixelcnn((6, 7, 1), num_layers=3, hidden=8, levels=4), None),
        "gated-rgb-conditional": (pixelcnn.gated_pixelcnn((5, 6, 3), num_layers=2, hidden=12, levels=5, num_classes=3),
                                  np.array([0, 1, 2, 1], np.int32)),
    }


FASTGAN_TINY_G = dict(ngf=4, nz=8)
FASTGAN_TINY_D = dict(ndf=4, decoder_width=4)


def tiny_fastgan(im_size=64):
    """A tiny FastGAN (generator, discriminator) pair."""
    from sr_tf.models import fastgan

    return fastgan.generator(im_size, **FASTGAN_TINY_G), fastgan.discriminator(im_size, **FASTGAN_TINY_D)


def write_gan_folder(root, rng, n=5):
    """A folder of images for the GAN pipeline: n PNGs (some in a sub-folder), a JPEG, a WebP, a broken PNG
    and a text file."""
    for i in range(n):
        write_png(str(root / ("sub" if i % 2 else "") / f"img{i}.png"), random_image(rng, 40 + i, 48))
    Image.fromarray(random_image(rng, 30, 30)).save(root / "photo.jpg")
    Image.fromarray(random_image(rng, 30, 30)).save(root / "photo.webp")
    (root / "broken.png").write_bytes(b"not a png")
    (root / "notes.txt").write_text("ignored")
    return root
