#!/usr/bin/env python
"""The Real-ESRGAN degradation pipeline against what training consumes: patches/s of the bundled photos'
ImageFolder pipeline with `degradation='realesrgan'` and with the default bicubic LR (baseline), next to the
patches/s the demo model's training step eats, all measured in this run; then the time of each stage of the
degradation on one 96x96 patch, to name the one that sets the wall.

    python bench/bench_degradations.py [--batches 40]
"""

import argparse
import tempfile

import common  # noqa: F401  (first: the path set-up)
import numpy as np
import tensorflow as tf
from bench_scale import raw_rate  # (same folder: steps/s of the step alone, one tf.function)
from common import clock, machine_line

from sr_tf.data import ImageFolder
from sr_tf.data import degradations as D
from sr_tf.data.io import read_image, sample_files
from sr_tf.ops import Draws
from sr_tf.specs import preset
from sr_tf.train import EdsrTrainer

DEMO = preset("demo")  # the demo's architecture and recipe

TRAIN = ["astronaut.png", "coffee.png", "rocket.png"]


def pipeline_rate(degradation, batches, batch_size):
    ds = ImageFolder(sample_files(TRAIN), scale=DEMO.architecture.scale, crop_to_scale=True,
                     degradation=degradation).dataset(batch_size=batch_size, seed=0)
    iterator = iter(ds)
    for _ in range(3):
        next(iterator)
    started = clock()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / started.elapsed()


def training_rate(steps, batch_size):
    """Patches/s the demo model's train step consumes (one tf.function over `steps` steps, constant batch)."""
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (batch_size, 96, 96, 3), dtype=np.uint8)
    data = tf.data.Dataset.from_tensors((hr[:, ::4, ::4], hr)).repeat()
    model = DEMO.architecture.build()
    with tempfile.TemporaryDirectory() as folder:
        return raw_rate(EdsrTrainer(model, folder, learning_rate=1e-4), data, steps) * batch_size


def stage_times(repeats=200):
    """Milliseconds per 96x96 patch of each stage, each in its own tf.function."""
    hr = tf.constant(read_image(sample_files(["astronaut.png"])[0])[0][:96, :96])
    x = tf.cast(hr, tf.float32) / 255.0
    blur = D.REALESRGAN.first.blur
    stage = D.REALESRGAN.first
    kernel = D.mixed_kernel(Draws(tf.constant([1, 1], tf.int64)), blur)
    cases = {
        "whole degradation": lambda s: D.realesrgan(hr, 4, Draws(s)),
        "kernel draw (21x21)": lambda s: D.mixed_kernel(Draws(s), blur),
        "blur (depthwise 21x21, reflect)": lambda s: D.filter2d(x, kernel),
        "random resize": lambda s: D._random_resize(x, tf.shape(x)[:2], stage, Draws(s)),
        "noise (Gaussian or Poisson)": lambda s: D.add_noise(x, stage, Draws(s)),
        "JPEG": lambda s: D.jpeg(x, Draws(s), stage.jpeg_quality),
    }
    out = {}
    for name, fn in cases.items():
        f = tf.function(fn)
        f(tf.constant([0, 1], tf.int64))
        started = clock()
        for k in range(repeats):
            f(tf.constant([k, 1], tf.int64))
        out[name] = started.elapsed() / repeats * 1000
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    batch = DEMO.recipe.batch_size
    print(machine_line())
    bicubic = pipeline_rate("bicubic", args.batches, batch)
    real = pipeline_rate("realesrgan", args.batches, batch)
    consumed = training_rate(30, batch)
    print(f"pipeline, bicubic LR (baseline): {bicubic:8.1f} patches/s")
    print(f"pipeline, realesrgan:            {real:8.1f} patches/s  ({real / bicubic:.2f}x the baseline)")
    print(f"demo training step consumes:     {consumed:8.1f} patches/s  (realesrgan feeds "
          f"{real / consumed:.2f}x that)")
    for name, ms in stage_times().items():
        print(f"  {name:34s} {ms:6.2f} ms per 96x96 patch")


if __name__ == "__main__":
    main()
