#!/usr/bin/env python
"""sr_tf's training steps against the original TF2 SRGAN tutorial's, side by side in one process on one CPU.

The baseline is the tutorial's code as it is written there: tf_keras (Keras 2) models with its Lambda layers
(normalization, pixel shuffle), BatchNormalization(momentum=0.8), its Adam and its `tf.function` train steps, one
call per step. sr_tf's side is its `Trainer.train` with the package's defaults (steps per execution 'auto', no XLA),
in each of `--precisions` (float32, and bfloat16 as `--precision bfloat16` builds and trains), one `train` call a
round; the checkpoint that every `train` call writes when it ends is left out (the tutorial's loop, timed here
without its own periodic checkpoints, would otherwise be compared with one save every few steps: on WDSR that save
alone made sr_tf's rounds 0.83x). Each case alternates rounds (original, sr_tf in each precision, original, ...)
and reports medians, with the fastest round in brackets (on a 2-core machine one process's step times can jump
between two levels, e.g. 0.34 and 0.51 s, from one run to the next). bfloat16 is fast only on CPUs reporting
amx_bf16 or avx512_bf16; the first line prints the flags, and says so where they are missing.

    pip install "tf_keras~=2.21.0"       # bench-only: the tutorial's Keras 2 (match TensorFlow's version)
    python bench/bench_vs_original.py [--steps 5] [--rounds 3] [--cases pretrain,gan,edsr,wdsr]
                                      [--precisions float32,bfloat16] [--profile]

Batch 16 of 24x24 -> 96x96 patches (the tutorial's), constant data, full-size models: SRResNet (64 filters, 16
blocks), the 96x96 discriminator, VGG54 with random weights (weights do not change the cost), EDSR-16 x4 (64
filters), WDSR-B-32 x4 (32 filters, expansion 6). The tutorial wraps WDSR's convolutions in tensorflow_addons'
WeightNormalization(data_init=False), which has no release for this TensorFlow; the baseline's `WeightNormConv2D`
computes what that wrapper computes at every call (the kernel l2-normalised over all but the output axis, times g,
then the convolution), in tf_keras as well.
"""

import argparse
import functools
import os
import statistics
import tempfile

import common  # noqa: F401  (first: the path set-up)
import numpy as np
import tensorflow as tf
from common import clock, machine_line
from op_profile import by_kind, op_seconds

DIV2K_RGB_MEAN = np.array([0.4488, 0.4371, 0.4040]) * 255


# ----------------------------------------------------------------------------------- the tutorial's side (tf_keras)
def original_models(tiny=False):
    """The tutorial's generator, discriminator, VGG54 and EDSR, written as it writes them, in tf_keras (`tiny`:
    4 filters and 1 block, a 32x32 discriminator, for bench/gpu.py --dry-run)."""
    import tf_keras as k
    from tf_keras import layers as L

    def pixel_shuffle(scale):
        return lambda x: tf.nn.depth_to_space(x, scale)

    def upsample(x, filters):
        x = L.Conv2D(filters, 3, padding="same")(x)
        x = L.Lambda(pixel_shuffle(2))(x)
        return L.PReLU(shared_axes=[1, 2])(x)

    def res_block(x_in, filters, momentum=0.8):
        x = L.Conv2D(filters, 3, padding="same")(x_in)
        x = L.BatchNormalization(momentum=momentum)(x)
        x = L.PReLU(shared_axes=[1, 2])(x)
        x = L.Conv2D(filters, 3, padding="same")(x)
        x = L.BatchNormalization(momentum=momentum)(x)
        return L.Add()([x_in, x])

    def sr_resnet(filters=64, blocks=16):
        x_in = L.Input(shape=(None, None, 3))
        x = L.Lambda(lambda t: t / 255.0)(x_in)
        x = L.Conv2D(filters, 9, padding="same")(x)
        x = x_1 = L.PReLU(shared_axes=[1, 2])(x)
        for _ in range(blocks):
            x = res_block(x, filters)
        x = L.Conv2D(filters, 3, padding="same")(x)
        x = L.BatchNormalization()(x)
        x = L.Add()([x_1, x])
        x = upsample(x, filters * 4)
        x = upsample(x, filters * 4)
        x = L.Conv2D(3, 9, padding="same", activation="tanh")(x)
        x = L.Lambda(lambda t: (t + 1) * 127.5)(x)
        return k.Model(x_in, x)

    def discriminator(filters=64, hr_size=96):
        def block(x, n, strides=1, batchnorm=True):
            x = L.Conv2D(n, 3, strides=strides, padding="same")(x)
            if batchnorm:
                x = L.BatchNormalization(momentum=0.8)(x)
            return L.LeakyReLU(alpha=0.2)(x)

        x_in = L.Input(shape=(hr_size, hr_size, 3))
        x = L.Lambda(lambda t: t / 127.5 - 1)(x_in)
        x = block(x, filters, batchnorm=False)
        x = block(x, filters, strides=2)
        for n in (filters * 2, filters * 4, filters * 8):
            x = block(block(x, n), n, strides=2)
        x = L.Flatten()(x)
        x = L.LeakyReLU(alpha=0.2)(L.Dense(1024)(x))
        return k.Model(x_in, L.Dense(1, activation="sigmoid")(x))

    def edsr(scale=4, filters=64, blocks=16):
        x_in = L.Input(shape=(None, None, 3))
        x = L.Lambda(lambda t: (t - DIV2K_RGB_MEAN) / 127.5)(x_in)
        x = b = L.Conv2D(filters, 3, padding="same")(x)
        for _ in range(blocks):
            y = L.Conv2D(filters, 3, padding="same", activation="relu")(b)
            b = L.Add()([b, L.Conv2D(filters, 3, padding="same")(y)])
        x = L.Add()([x, L.Conv2D(filters, 3, padding="same")(b)])
        for _ in range(scale // 2):
            x = L.Lambda(pixel_shuffle(2))(L.Conv2D(filters * 4, 3, padding="same")(x))
        x = L.Conv2D(3, 3, padding="same")(x)
        return k.Model(x_in, L.Lambda(lambda t: t * 127.5 + DIV2K_RGB_MEAN)(x))

    class WeightNormConv2D(L.Layer):
        """tfa's WeightNormalization(Conv2D(...), data_init=False), computed as it computes it."""

        def __init__(self, filters, size, activation=None, **kwargs):
            super().__init__(**kwargs)
            self.filters, self.size, self.activation = filters, size, k.activations.get(activation)

        def build(self, shape):
            self.v = self.add_weight("v", (self.size, self.size, shape[-1], self.filters), initializer="glorot_uniform")
            self.g = self.add_weight("g", (self.filters,), initializer="ones")
            self.g.assign(tf.norm(tf.reshape(self.v, (-1, self.filters)), axis=0))
            self.bias = self.add_weight("bias", (self.filters,), initializer="zeros")

        def call(self, x):
            kernel = tf.nn.l2_normalize(self.v, axis=[0, 1, 2]) * self.g
            return self.activation(tf.nn.bias_add(tf.nn.conv2d(x, kernel, 1, "SAME"), self.bias))

    def wdsr_b(scale=4, filters=32, blocks=32, expansion=6):
        x_in = L.Input(shape=(None, None, 3))
        x = L.Lambda(lambda t: (t - DIV2K_RGB_MEAN) / 127.5)(x_in)
        m = WeightNormConv2D(filters, 3)(x)
        for _ in range(blocks):
            y = WeightNormConv2D(filters * expansion, 1, activation="relu")(m)
            y = WeightNormConv2D(int(filters * 0.8), 1)(y)
            m = L.Add()([m, WeightNormConv2D(filters, 3)(y)])
        m = L.Lambda(pixel_shuffle(scale))(WeightNormConv2D(3 * scale ** 2, 3)(m))
        skip = L.Lambda(pixel_shuffle(scale))(WeightNormConv2D(3 * scale ** 2, 5)(x))
        return k.Model(x_in, L.Lambda(lambda t: t * 127.5 + DIV2K_RGB_MEAN)(L.Add()([m, skip])))

    vgg = k.applications.VGG19(weights=None, include_top=False, input_shape=(None, None, 3))
    vgg54 = k.Model(vgg.input, vgg.layers[20].output)
    if tiny:
        return k, sr_resnet(4, 1), discriminator(4, 32), vgg54, edsr(4, 4, 1), wdsr_b(4, 4, 1, 2)
    return k, sr_resnet(), discriminator(), vgg54, edsr(), wdsr_b()


def original_steps(tiny=False):
    """{case: step(lr, hr)} as the tutorial's trainers write them."""
    k, generator, disc, vgg, edsr_model, wdsr_model = original_models(tiny)

    def supervised(model, loss_fn, rate):
        optimizer = k.optimizers.Adam(learning_rate=rate)

        @tf.function
        def step(lr, hr):
            with tf.GradientTape() as tape:
                loss = loss_fn(hr, model(tf.cast(lr, tf.float32), training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        return step

    bce, mse = k.losses.BinaryCrossentropy(from_logits=False), k.losses.MeanSquaredError()
    g_opt, d_opt = k.optimizers.Adam(1e-4), k.optimizers.Adam(1e-4)

    @tf.function
    def gan(lr, hr):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            lr, hr = tf.cast(lr, tf.float32), tf.cast(hr, tf.float32)
            sr = generator(lr, training=True)
            hr_out, sr_out = disc(hr, training=True), disc(sr, training=True)
            preprocess = k.applications.vgg19.preprocess_input
            content = mse(vgg(preprocess(hr)) / 12.75, vgg(preprocess(sr)) / 12.75)
            perceptual = content + 0.001 * bce(tf.ones_like(sr_out), sr_out)
            d_loss = bce(tf.ones_like(hr_out), hr_out) + bce(tf.zeros_like(sr_out), sr_out)
        g_opt.apply_gradients(zip(g_tape.gradient(perceptual, generator.trainable_variables),
                                  generator.trainable_variables))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, disc.trainable_variables), disc.trainable_variables))
        return perceptual

    return {"pretrain": supervised(generator, mse, 1e-4), "gan": gan,
            "edsr": supervised(edsr_model, k.losses.MeanAbsoluteError(), 1e-4),
            "wdsr": supervised(wdsr_model, k.losses.MeanAbsoluteError(), 1e-3)}


# ----------------------------------------------------------------------------------- sr_tf's side
def sr_tf_trainers(folder, precision="float32"):
    """{case: a function building that case's trainer} with the package's defaults, its models built and trained
    in `precision` (as `--precision` does)."""
    from sr_tf.models import build, srgan
    from sr_tf.precision import policy
    from sr_tf.train import EdsrTrainer, SrganGeneratorTrainer, SrganTrainer, WdsrTrainer

    def in_precision(make):
        def built():
            with policy(precision):
                return make()
        return built

    where = functools.partial(os.path.join, folder, precision)
    return {"pretrain": in_precision(lambda: SrganGeneratorTrainer(build("srresnet-x4"), where("pretrain"),
                                                                   precision=precision)),
            "gan": in_precision(lambda: SrganTrainer(build("srresnet-x4"), srgan.discriminator(), where("gan"),
                                                     vgg=srgan.vgg_54(weights=None), precision=precision)),
            "edsr": in_precision(lambda: EdsrTrainer(build("edsr-16-x4"), where("edsr"), precision=precision)),
            "wdsr": in_precision(lambda: WdsrTrainer(build("wdsr-b-32-x4"), where("wdsr"), precision=precision))}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5, help="steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default="pretrain,gan,edsr,wdsr")
    parser.add_argument("--precisions", default="float32,bfloat16", help="sr_tf's precisions (default %(default)s)")
    parser.add_argument("--profile", action="store_true",
                        help="after the timing, profile one round of each side and print where the time goes")
    args = parser.parse_args()
    from sr_tf import precision

    precisions = args.precisions.split(",")
    for name in precisions:
        precision.check(name)
    rng = np.random.default_rng(0)
    lr = tf.constant(rng.integers(0, 256, (16, 24, 24, 3)).astype("uint8"))
    hr = tf.constant(rng.integers(0, 256, (16, 96, 96, 3)).astype("uint8"))
    data = tf.data.Dataset.from_tensors((lr, hr)).repeat()
    print(machine_line())
    print(f"batch 16 of 24x24 -> 96x96; {args.steps} steps a round, medians of {args.rounds} alternating rounds")
    print("| step | original s/step | " + " | ".join(f"sr_tf {p} s/step | vs original" for p in precisions) + " |")
    print("|---|---|" + "---|---|" * len(precisions))
    originals = original_steps()
    profiles = {}
    with tempfile.TemporaryDirectory() as folder:
        builders = {p: sr_tf_trainers(folder, p) for p in precisions}
        for case in args.cases.split(","):
            step, trainers = originals[case], {p: builders[p][case]() for p in precisions}
            step(lr, hr).numpy()  # tracing
            for trainer in trainers.values():
                trainer.save = lambda best=False: None  # see the module docstring
                trainer.train(data, steps=1, evaluate_every=10 ** 9)
            times = {"original": [], **{p: [] for p in precisions}}
            for _ in range(args.rounds):
                started = clock()
                for _ in range(args.steps):
                    out = step(lr, hr)
                out.numpy()
                times["original"].append(started.elapsed() / args.steps)
                for p, trainer in trainers.items():
                    started = clock()
                    trainer.train(data, steps=int(trainer.step.numpy()) + args.steps, evaluate_every=10 ** 9)
                    times[p].append(started.elapsed() / args.steps)
            medians = {name: statistics.median(t) for name, t in times.items()}
            best = {name: min(t) for name, t in times.items()}
            a, b = medians["original"], best["original"]
            print(f"| {case} | {a:.3f} ({b:.3f}) | " + " | ".join(
                f"{medians[p]:.3f} ({best[p]:.3f}) | {a / medians[p]:.2f}x ({b / best[p]:.2f}x)" for p in precisions)
                + " |", flush=True)
            if args.profile:
                profiles[case] = (
                    op_seconds(lambda: [step(lr, hr) for _ in range(args.steps)][-1].numpy()),
                    {p: op_seconds(lambda t=t: t.train(data, steps=int(t.step.numpy()) + args.steps,
                                                       evaluate_every=10 ** 9)) for p, t in trainers.items()})
    for case, (original, ours) in profiles.items():
        print_profile(case, original, ours, args.steps)


def print_profile(case, original, ours, steps):
    """Op time per step by part of the step (see op_profile.KIND), the original's against sr_tf's in each
    precision (`ours`: {precision: op seconds})."""
    parts = {"original": by_kind(original), **{f"sr_tf {p}": by_kind(ops) for p, ops in ours.items()}}
    print(f"\n{case}: op time per step by part (ms, summed over the executor's threads)\n"
          f"| part | {' | '.join(parts)} |\n|---|{'---|' * len(parts)}")
    first = parts["original"]
    for kind in sorted(set().union(*parts.values()), key=lambda k: -first.get(k, 0)):
        print(f"| {kind} | " + " | ".join(f"{1000 * p.get(kind, 0) / steps:.0f}" for p in parts.values()) + " |")
    print("| total | " + " | ".join(f"{1000 * sum(p.values()) / steps:.0f}" for p in parts.values()) + " |")
    for label, ops in (("original", original), *((f"sr_tf {p}", o) for p, o in ours.items())):
        top = ", ".join(f"{op} {1000 * t / steps:.0f}" for op, t in ops.most_common(8))
        print(f"top ops, {label} (ms/step): {top}")


if __name__ == "__main__":
    main()
