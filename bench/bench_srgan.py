#!/usr/bin/env python
"""Throughput of sr_tf's SRResNet and SRGAN train steps against the same steps written the plain way.

Batch 16 of 24x24 -> 96x96 patches, full-size models (SRResNet 64 filters / 16 blocks, the 96x96 discriminator,
VGG54 with random weights: the weights do not change the cost). "plain" is a tf.function step without XLA in
float32, the way the original tutorial writes it (separate VGG passes for HR and SR); each ratio is measured
against the plain step in the same run. Also measures the DIV2K-style pipeline's patches/s from a cache file
against a sequential version of the same pipeline.

    python bench/bench_srgan.py [--steps 5] [--jit] [--mixed-precision]
"""

import argparse
import os
import tempfile

import common  # noqa: F401  (first: the path set-up)
import keras
import numpy as np
import tensorflow as tf
from common import clock, machine_line

from sr_tf.data import ImageFolder
from sr_tf.data.transforms import random_crop, random_flip, random_rotate
from sr_tf.models import srgan
from sr_tf.train import SrganGeneratorTrainer, SrganTrainer, enable_mixed_precision


def timed(step, batch, steps, warmup=2):
    for _ in range(warmup):
        step(batch)
    started = clock()
    for _ in range(steps):
        out = step(batch)
    tf.nest.map_structure(lambda t: t.numpy(), out)  # wait for the last step
    return steps / started.elapsed()


def plain_pretrain_step(model):
    optimizer = keras.optimizers.Adam(1e-4)

    @tf.function
    def step(batch):
        lr, hr = tf.cast(batch[0], tf.float32), tf.cast(batch[1], tf.float32)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(hr - model(lr, training=True)))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def plain_gan_step(generator, discriminator, vgg):
    g_opt, d_opt = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
    bce, mse = keras.losses.BinaryCrossentropy(), keras.losses.MeanSquaredError()
    preprocess = keras.applications.vgg19.preprocess_input

    @tf.function
    def step(batch):
        lr, hr = tf.cast(batch[0], tf.float32), tf.cast(batch[1], tf.float32)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            sr = generator(lr, training=True)
            hr_out, sr_out = discriminator(hr, training=True), discriminator(sr, training=True)
            content = mse(vgg(preprocess(hr)) / 12.75, vgg(preprocess(sr)) / 12.75)
            perceptual = content + 0.001 * bce(tf.ones_like(sr_out), sr_out)
            disc = bce(tf.ones_like(hr_out), hr_out) + bce(tf.zeros_like(sr_out), sr_out)
        g_grads = g_tape.gradient(perceptual, generator.trainable_variables)
        d_grads = d_tape.gradient(disc, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return perceptual

    return step


def pipeline_patches_per_second(batches=60):
    rng = np.random.default_rng(0)
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        for i in range(16):
            Image.fromarray(rng.integers(0, 256, (384, 512, 3), dtype=np.uint8)).save(f"{tmp}/{i}.png")
        folder = ImageFolder(tmp, scale=4, caches_dir=os.path.join(tmp, "caches"))
        fast = folder.dataset(batch_size=16)
        pairs = tf.data.Dataset.zip((folder.lr_dataset(), folder.hr_dataset()))
        sequential = pairs.map(lambda lr, hr: random_crop(lr, hr, 96, 4)).map(random_rotate).map(random_flip)
        sequential = sequential.batch(16).repeat()
        results = {}
        for name, ds in (("sequential", sequential), ("sr_tf", fast)):
            iterator = iter(ds)
            next(iterator)
            started = clock()
            for _ in range(batches):
                next(iterator)
            results[name] = batches * 16 / started.elapsed()
        return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--mixed-precision", action="store_true", help="GPU only")
    args = parser.parse_args()
    print(machine_line())
    rng = np.random.default_rng(0)
    batch = (tf.constant(rng.integers(0, 256, (16, 24, 24, 3)), tf.uint8),
             tf.constant(rng.integers(0, 256, (16, 96, 96, 3)), tf.uint8))
    rows = []
    # Plain steps first, in float32, before any mixed-precision policy is set.
    plain = timed(plain_pretrain_step(srgan.generator()), batch, args.steps)
    vgg = srgan.vgg_54(weights=None)
    plain_gan = timed(plain_gan_step(srgan.generator(), srgan.discriminator(), vgg), batch, args.steps)
    if args.mixed_precision:
        enable_mixed_precision()
    options = dict(jit_compile=args.jit, mixed_precision=args.mixed_precision)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = SrganGeneratorTrainer(srgan.generator(), os.path.join(tmp, "pre"), **options)
        ours = timed(tf.function(trainer._distributed_step), batch, args.steps)
        rows.append(("SRResNet pre-training", plain, ours))
        gan = SrganTrainer(srgan.generator(), srgan.discriminator(), os.path.join(tmp, "gan"),
                           vgg=vgg if not args.mixed_precision else srgan.vgg_54(weights=None), **options)
        ours_gan = timed(tf.function(gan._distributed_step), batch, args.steps)
        rows.append(("SRGAN (VGG54)", plain_gan, ours_gan))
    print(f"\nsr_tf options: jit_compile={args.jit}, mixed_precision={args.mixed_precision}; "
          f"batch 16, 24 -> 96, {args.steps} timed steps after 2 warm-up steps")
    print(f"{'step':24s} {'plain steps/s':>14s} {'sr_tf steps/s':>14s} {'ratio':>6s}")
    for name, base, fast in rows:
        print(f"{name:24s} {base:14.3f} {fast:14.3f} {fast / base:6.2f}x")
    pipeline = pipeline_patches_per_second()
    print(f"\npipeline from cache (patches/s): sequential {pipeline['sequential']:.0f}, "
          f"sr_tf (AUTOTUNE, prefetch) {pipeline['sr_tf']:.0f}, "
          f"ratio {pipeline['sr_tf'] / pipeline['sequential']:.2f}x")


if __name__ == "__main__":
    main()
