#!/usr/bin/env python
"""Seconds per FastGAN iteration (one D step + one G step + the EMA update) at 256 px, batch 8, full-size models.

Configurations, each timed in this run over the same batch after warm-up iterations (tracing excluded):
  - baseline: `FastGANTrainer` step as a plain tf.function, float32, L1 reconstruction loss;
  - the same step compiled with XLA (`jit_compile=True`);
  - the perceptual reconstruction loss (VGG16 features; random weights here: weights do not change the cost).
Ratios are against the baseline of the same run.

    python bench/bench_fastgan.py [--im-size 256] [--batch-size 8] [--iterations 3] [--skip-xla] [--skip-perceptual]
"""

import argparse
import os
import platform
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from sr_tf.losses import PerceptualDistance
from sr_tf.models import fastgan
from sr_tf.train.fastgan import FastGANTrainer


def seconds_per_iteration(trainer, batch, iterations, warmup=1):
    """Mean wall time of `iterations` full iterations (step + EMA), after `warmup` untimed ones."""
    step = tf.function(trainer._distributed_step)

    def iteration():
        out = step(batch)
        trainer._ema_fn()
        return out

    for _ in range(warmup):
        iteration()
    started = time.perf_counter()
    for _ in range(iterations):
        out = iteration()
    tf.nest.map_structure(lambda t: t.numpy(), out)
    return (time.perf_counter() - started) / iterations


def build_trainer(args, folder, **kwargs):
    """A FastGANTrainer of full-size models at `args.im_size`, seeded, writing nothing but its checkpoint folder."""
    keras.utils.set_random_seed(0)
    generator = fastgan.generator(args.im_size)
    discriminator = fastgan.discriminator(args.im_size)
    return FastGANTrainer(generator, discriminator, folder, sample_every=0, **kwargs)


def main():
    """Times each configuration and prints a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--im-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--skip-xla", action="store_true")
    parser.add_argument("--skip-perceptual", action="store_true")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, GPUs: {len(tf.config.list_physical_devices('GPU'))}, "
          f"TensorFlow {tf.__version__}, Keras {keras.__version__}")
    batch = tf.constant(np.random.default_rng(0).uniform(-1, 1, (args.batch_size, args.im_size, args.im_size, 3)),
                        tf.float32)
    configs = [("baseline: tf.function, float32, L1 recon", {})]
    if not args.skip_xla:
        configs.append(("XLA (jit_compile=True), L1 recon", {"jit_compile": True}))
    if not args.skip_perceptual:
        perceptual = PerceptualDistance.__new__(PerceptualDistance)
        perceptual.features = PerceptualDistance.feature_model(
            keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3)))
        configs.append(("perceptual recon (VGG16 features)", {"recon_distance": perceptual}))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, kwargs) in enumerate(configs):
            trainer = build_trainer(args, os.path.join(tmp, str(i)), **kwargs)
            seconds = seconds_per_iteration(trainer, batch, args.iterations)
            results.append((name, seconds))
            print(f"{name}: {seconds:.2f} s/iteration", flush=True)
    base = results[0][1]
    print(f"\n{args.im_size} px, batch {args.batch_size}, ngf = ndf = 64, nz = 256, {args.iterations} timed iterations")
    print("| configuration | s / iteration | relative speed |\n|---|---|---|")
    for name, seconds in results:
        print(f"| {name} | {seconds:.2f} | {base / seconds:.2f}x |")


if __name__ == "__main__":
    main()
