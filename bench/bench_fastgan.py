#!/usr/bin/env python
"""Seconds per FastGAN iteration (one D step + one G step + the EMA update) at 256 px, batch 8, full-size models.

Configurations, each timed in this run over the same batch after warm-up iterations (tracing excluded):
  - baseline: `FastGANTrainer`'s step (the one `Trainer.train` runs: step, counter, EMA) as a tf.function, float32,
    L1 reconstruction loss;
  - the same step compiled with XLA (`jit_compile=True`);
  - the perceptual reconstruction loss (VGG16 features; random weights here: weights do not change the cost);
  - with `--torch-python PYTHON`: the official iteration in PyTorch (`bench/fastgan_torch.py`, run by PYTHON, a
    scratch environment with a CPU torch), timed in rounds alternating with sr_tf's iteration in each of
    `--precisions` (float32 and bfloat16 by default; bfloat16 is fast only where the CPU reports amx_bf16 or
    avx512_bf16).
Ratios are against the baseline of the same run.

    python bench/bench_fastgan.py [--im-size 256] [--batch-size 8] [--iterations 3] [--skip-xla] [--skip-perceptual]
    python bench/bench_fastgan.py --torch-python /tmp/torchenv/bin/python --rounds 3 --skip-xla --skip-perceptual
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile

import common  # noqa: F401  (first: the path set-up)
import keras
import numpy as np
import tensorflow as tf
from common import clock, machine_line

from sr_tf.losses import PerceptualDistance
from sr_tf.models import fastgan
from sr_tf.train.fastgan import FastGANTrainer


class Timer:
    """Times the trainer's whole iteration (`Trainer._one_step`: the step, the step counter and the EMA update) on
    one constant batch, as `Trainer.train` runs it at one step per call."""

    def __init__(self, trainer, batch, warmup=1):
        data = tf.data.Dataset.from_tensors(batch).repeat()
        self.iterator = iter(trainer.strategy.experimental_distribute_dataset(data))
        self.step = tf.function(trainer._one_step)
        for _ in range(warmup):
            self(1)

    def __call__(self, iterations):
        """Mean wall time of `iterations` iterations."""
        started = clock()
        for _ in range(iterations):
            out = self.step(self.iterator)
        tf.nest.map_structure(lambda t: t.numpy(), out)
        return started.elapsed() / iterations


def seconds_per_iteration(trainer, batch, iterations, warmup=1):
    """Mean wall time of `iterations` full iterations (step + EMA), after `warmup` untimed ones."""
    return Timer(trainer, batch, warmup)(iterations)


def torch_seconds(python, args):
    """One round of the PyTorch baseline in its own process: its mean seconds per iteration."""
    out = subprocess.run([python, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fastgan_torch.py"),
                          "--im-size", str(args.im_size), "--batch-size", str(args.batch_size),
                          "--iterations", str(args.iterations)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def side_by_side(args, batch, folder):
    """Alternating rounds of sr_tf's iteration in each of `--precisions` and the PyTorch one (float32, as the
    official code trains); prints the medians and the ratios."""
    from sr_tf.precision import policy

    timers = {}
    for p in args.precisions.split(","):
        with policy(p):
            timers[p] = Timer(build_trainer(args, os.path.join(folder, p), precision=p), batch)
    ours, theirs = {p: [] for p in timers}, []
    for r in range(args.rounds):
        for p, timer in timers.items():
            ours[p].append(timer(args.iterations))
        result = torch_seconds(args.torch_python, args)
        theirs.append(result["seconds"][0])
        print(f"round {r + 1}: " + ", ".join(f"sr_tf {p} {t[-1]:.2f} s" for p, t in ours.items()) +
              f", PyTorch {theirs[-1]:.2f} s (torch {result['torch']}, {result['threads']} threads)", flush=True)
    base = statistics.median(theirs)
    print(f"\n| FastGAN iteration, {args.im_size} px, batch {args.batch_size} | s / iteration (median of "
          f"{args.rounds}) | vs PyTorch |\n|---|---|---|\n| official iteration in PyTorch (baseline) | {base:.2f} | "
          "1.00x |")
    for p, times in ours.items():
        mine = statistics.median(times)
        print(f"| sr_tf `FastGANTrainer`, {p} | {mine:.2f} | {base / mine:.2f}x |")


def build_trainer(args, folder, **kwargs):
    """A FastGANTrainer of full-size models at `args.im_size` (built in the current Keras policy), seeded, writing
    nothing but its checkpoint folder."""
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
    parser.add_argument("--torch-python", help="a Python with a CPU torch: time the PyTorch baseline side by side")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the side-by-side comparison")
    parser.add_argument("--precisions", default="float32,bfloat16", help="sr_tf's, side by side (default %(default)s)")
    args = parser.parse_args()
    print(machine_line())
    batch = tf.constant(np.random.default_rng(0).uniform(-1, 1, (args.batch_size, args.im_size, args.im_size, 3)),
                        tf.float32)
    if args.torch_python:
        with tempfile.TemporaryDirectory() as tmp:
            side_by_side(args, batch, tmp)
        return
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
