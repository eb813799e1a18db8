#!/usr/bin/env python
"""PixelCNN sampling: the fast cached sampler against the naive loop (one full forward pass per pixel).

Default: the tutorial's network (28x28x1, 15 residual blocks, h=128, 256 levels, random weights with random
BatchNorm statistics: the weights do not change the cost), 16 samples, the same seed for both samplers. The naive
loop is timed over its first `--naive-rows` rows and scaled by the row count (its cost per pixel does not depend
on the row); the fast sampler is timed over the whole image (trace included). The rows both sampled are compared:
they must be identical. Both are also put in GFLOP/s (forward FLOPs counted by TensorFlow's profiler; the fast
sampler does 1/(H W) of them per step) next to a 2048^2 float32 matmul measured in the same run.

    python bench/bench_pixelcnn.py [--n 16] [--naive-rows 2] [--model pixelcnn|gated] [--head logistic_mixture]
"""

import argparse

import common  # noqa: F401  (first: the path set-up)
import keras
import numpy as np
import tensorflow as tf
from bench_scale import forward_flops, rate_of  # same folder
from common import clock, machine_line

from sr_tf import sampling
from sr_tf.models import pixelcnn as pixelcnn_lib


def randomize_batchnorm(model, rng):
    """Random moving statistics, so inference-mode BatchNorm is not an identity."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape).astype("float32"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--naive-rows", type=int, default=2)
    parser.add_argument("--model", choices=["pixelcnn", "gated"], default="pixelcnn")
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--head", choices=pixelcnn_lib.HEADS, default="softmax")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    shape = (args.size, args.size, 1)
    if args.model == "pixelcnn":
        model = pixelcnn_lib.pixelcnn(shape, head=args.head)  # 15 blocks, h=128: the tutorial's network
    else:
        model = pixelcnn_lib.gated_pixelcnn(shape, head=args.head)
    randomize_batchnorm(model, np.random.default_rng(0))
    print(machine_line())
    print(f"{tf.config.threading.get_inter_op_parallelism_threads()} inter-op threads; {model.name} ({args.head} head) "
          f"{model.count_params():,} parameters; "
          f"{args.n} samples of {args.size}x{args.size}")

    started = clock()
    naive = sampling.sample_naive(model, args.n, seed=1, rows=args.naive_rows)
    naive_seconds = started.elapsed()
    naive_total = naive_seconds * args.size / args.naive_rows
    print(f"naive: {naive_seconds:.1f} s for {args.naive_rows} rows -> {naive_total:.0f} s estimated for "
          f"{args.size} rows ({naive_seconds / (args.naive_rows * args.size):.3f} s per forward pass)")

    started = clock()
    fast = sampling.sample(model, args.n, seed=1)
    fast_seconds = started.elapsed()
    print(f"fast:  {fast_seconds:.1f} s for all {args.size} rows (tracing included)")

    flops = forward_flops(model, [(args.n, *shape)])
    n = 2048
    a = tf.random.normal((n, n))
    matmul = 2 * n ** 3 / rate_of(lambda: tf.matmul(a, a)) / 1e9
    print(f"forward pass {flops / 1e9:.1f} GFLOP: naive {flops / (naive_total / args.size ** 2) / 1e9:.0f} GFLOP/s, "
          f"fast {flops / fast_seconds / 1e9:.0f} GFLOP/s, float32 matmul {matmul:.0f} GFLOP/s")

    same = np.array_equal(naive[:, :args.naive_rows], fast[:, :args.naive_rows])
    print(f"first {args.naive_rows} rows identical: {same}")
    print(f"speed-up: {naive_total / fast_seconds:.0f}x")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
