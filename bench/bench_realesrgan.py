#!/usr/bin/env python
"""Real-ESRGAN's networks: inference time and peak memory of sr_tf (Keras whole and tiled, in float32 and
bfloat16, TFLite float32 / float16 / dynamic / int8, ONNX Runtime) against PyTorch running the authors' own
architecture code (BasicSR 1.4.2) on the same CPU, in the same run, as `inference_realesrgan.py` runs it (float32)
and at its best there (bfloat16 autocast, channels_last, torch.compile), and the training steps of `rrdb` and
`realesrgan` in each precision, in GFLOP/s next to a matmul of that precision.

    python bench/bench_realesrgan.py --torch-python /tmp/torchenv/bin/python --basicsr /tmp/basicsr-1.4.2
    python bench/bench_realesrgan.py --presets realesr-general-x4v3 --size 128      # quicker
    python bench/bench_realesrgan.py ... --variants keras,keras-bfloat16 --torch-modes float32,bfloat16-cl
    python bench/bench_realesrgan.py --train-only [--precisions float32,bfloat16]

bfloat16 is fast only on CPUs reporting amx_bf16 or avx512_bf16 (the first line prints the flags); torch.compile
needs a C++ compiler. Every output is compared with PyTorch float32's (a fast configuration with a wrong output is
reported as wrong, not as fast).

The PyTorch side (a scratch environment with a CPU torch, and BasicSR's source tree; see
tests/data/realesrgan_reference/make.py) builds each network with random weights, saves them with torch.save and
times the network; sr_tf imports that very file with `from_pytorch`, so both run the same weights, and the outputs
are compared. Every variant runs in its own process, its model loaded first; its peak resident memory is then
reset and measured over the timed calls (Linux's VmHWM: the framework, the weights and the run's buffers).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

import common  # noqa: F401  (first: the path set-up)
import numpy as np
from common import clock, machine_line

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
REFERENCE = os.path.join(REPO, "tests", "data", "realesrgan_reference")
PRESETS = ("realesr-general-x4v3", "realesrgan-x4plus")
# preset -> BasicSR constructor arguments (the published networks)
TORCH_NETS = {"realesr-general-x4v3": ("srvgg", dict(num_in_ch=3, num_out_ch=3, num_feat=64, num_conv=32, upscale=4)),
              "realesrgan-x4plus": ("rrdbnet", dict(num_in_ch=3, num_out_ch=3, scale=4, num_feat=64, num_block=23,
                                                    num_grow_ch=32)),
              "realesr-animevideov3": ("srvgg", dict(num_in_ch=3, num_out_ch=3, num_feat=64, num_conv=16, upscale=4))}
VARIANTS = ("keras", "keras-bfloat16", "keras-tiled", "tflite-none", "tflite-float16", "tflite-dynamic",
            "tflite-int8", "onnx")
# PyTorch configurations: the float32 baseline first (what inference_realesrgan.py runs on a CPU)
TORCH_MODES = {"float32": "PyTorch float32, BasicSR's code (baseline)",
               "bfloat16": "PyTorch autocast bfloat16",
               "bfloat16-cl": "PyTorch autocast bfloat16, channels_last",
               "compile-bfloat16-cl": "PyTorch torch.compile, autocast bfloat16, channels_last"}
TILE, TILE_PAD = 128, 10  # Real-ESRGAN's --tile_pad default is 10


def reset_peak():
    """Resets the process's peak resident memory (Linux: VmHWM), so the peak measured next is the run's own and
    not that of importing the framework."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_mb():
    """The process's peak resident memory since `reset_peak` (VmHWM), in MB; ru_maxrss where /proc is absent."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lr_image(size):
    return np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)


def timed(fn, repeats):
    """(seconds per call after one warm-up call, the last result)."""
    out = fn()
    started = clock()
    for _ in range(repeats):
        out = fn()
    return started.elapsed() / repeats, out


def torch_worker(args):
    """In the PyTorch environment: build and randomize the network (saving its weights on the first mode, loading
    them on the others), time it in `args.torch_mode`; prints JSON."""
    import torch

    sys.path.insert(0, REFERENCE)
    from make import load_basicsr_archs, randomize

    rrdbnet_arch, srvgg_arch = load_basicsr_archs(args.basicsr)
    kind, kwargs = TORCH_NETS[args.torch_worker]
    net = (srvgg_arch.SRVGGNetCompact if kind == "srvgg" else rrdbnet_arch.RRDBNet)(**kwargs)
    if os.path.exists(args.weights):
        net.load_state_dict(torch.load(args.weights, weights_only=True)["params_ema"])
    else:
        net = randomize(net, 0)
        with torch.no_grad():  # randomize's N(0, 0.1) weights explode over 23 blocks: scale them to keep outputs finite
            for p in net.parameters():
                p.mul_(0.3)
        torch.save({"params_ema": net.state_dict()}, args.weights)
    net.eval()
    x = torch.from_numpy(lr_image(args.size).transpose(2, 0, 1)[None].astype(np.float32) / 255.0)
    mode = args.torch_mode
    if mode.endswith("-cl"):
        net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    run = torch.compile(net) if mode.startswith("compile") else net

    def call():
        if "bfloat16" in mode:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return run(x).float()
        return run(x)

    with torch.inference_mode():
        started = clock()
        call()  # torch.compile compiles here
        first = started.elapsed()
        reset_peak()
        seconds, out = timed(call, args.repeats)
    np.save(args.output, out.contiguous().numpy()[0].transpose(1, 2, 0) * 255.0)
    print(json.dumps({"seconds": seconds, "first_s": first, "peak_mb": peak_mb(), "threads": torch.get_num_threads(),
                      "torch": torch.__version__}))


def sr_tf_worker(args):
    """In sr_tf's environment: load one variant's file, time resolve_single; prints JSON."""
    from sr_tf.inference import resolve_single

    variant = args.variant
    if variant.startswith("keras"):
        from sr_tf.models import from_pytorch

        model = from_pytorch(args.weights)
    elif variant.startswith("tflite"):
        from sr_tf.deploy import TFLiteModel

        model = TFLiteModel(args.weights)
    else:
        from sr_tf.deploy import OnnxModel

        model = OnnxModel(args.weights)
    tile = TILE if variant == "keras-tiled" else None
    precision = "bfloat16" if variant == "keras-bfloat16" else None
    lr = lr_image(args.size)
    resolve_single(model, lr, tile=tile, tile_pad=TILE_PAD, precision=precision)  # (the bfloat16 copy is built here)
    reset_peak()
    seconds, out = timed(lambda: resolve_single(model, lr, tile=tile, tile_pad=TILE_PAD, precision=precision),
                         args.repeats)
    np.save(args.output, out)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb()}))


def run_json(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def matmul_gflops(n=2048, repeats=10, dtype="float32"):
    import tensorflow as tf

    a = tf.cast(tf.random.normal((n, n)), dtype)
    f = tf.function(lambda: tf.linalg.matmul(a, a))
    seconds, _ = timed(lambda: f().numpy(), repeats)
    return 2 * n ** 3 / seconds / 1e9


def forward_gflop(model, shape):
    """Floating-point operations of one forward pass at `shape`, counted by TensorFlow's profiler (convolutions
    and matmuls; element-wise work is not counted)."""
    import tensorflow as tf

    function = tf.function(lambda x: model(x, training=False)).get_concrete_function(tf.TensorSpec(shape))
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(function.graph, options=options).total_float_ops / 1e9


def bench_training(args):
    """Steps per second of RealEsrnetTrainer and RealEsrganTrainer on full-size RRDBNet at small patches, in each
    of `--precisions`."""
    import tensorflow as tf

    from sr_tf import precision

    hr, batch = args.train_patch, args.train_batch
    rng = np.random.default_rng(0)
    data = tf.data.Dataset.from_tensors((rng.integers(0, 256, (batch, hr // 4, hr // 4, 3)).astype("uint8"),
                                         rng.integers(0, 256, (batch, hr, hr, 3)).astype("uint8"))).repeat()
    precisions, rates = args.precisions.split(","), {}
    peaks = {p: matmul_gflops(dtype=p) for p in precisions}
    print(f"\nTraining steps, batch {batch} of {hr}x{hr} HR patches (full-size RRDBNet x4, random weights); "
          "2048^2 matmul in this run: " + ", ".join(f"{p} {peak:.0f} GFLOP/s" for p, peak in peaks.items()))
    print("| stage | precision | steps/s | vs float32 | GFLOP per step (fwd x3, profiler) | GFLOP/s | of the "
          "precision's matmul |\n|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for stage, p in ((stage, p) for stage in ("rrdb", "realesrgan") for p in precisions):
            with precision.policy(p):
                rate, flop = rates[stage, p] = train_rate(args, stage, p, data, os.path.join(tmp, f"{stage}-{p}"))
            ratio = f"{rate / rates[stage, 'float32'][0]:.2f}x" if (stage, "float32") in rates else "-"
            print(f"| {stage} | {p} | {rate:.3f} | {ratio} | {flop:.1f} | {flop * rate:.0f} | "
                  f"{flop * rate / peaks[p]:.0%} |", flush=True)


def train_rate(args, stage, precision, data, folder):
    """(steps per second, GFLOP per step) of one training stage, its models built in the current policy."""
    from sr_tf import specs
    from sr_tf.losses import PerceptualLoss
    from sr_tf.models.realesrgan import unet_discriminator
    from sr_tf.specs.realesrgan import REALESRGAN_LAYERS
    from sr_tf.train import RealEsrganTrainer, RealEsrnetTrainer

    hr, batch = args.train_patch, args.train_batch
    generator = specs.preset("realesrgan-x4plus").architecture.build()
    g_flop = forward_gflop(generator, (batch, hr // 4, hr // 4, 3))
    if stage == "rrdb":
        trainer = RealEsrnetTrainer(generator, folder, jit_compile=args.jit, precision=precision)
        flop = 3 * g_flop
    else:
        perceptual = PerceptualLoss(REALESRGAN_LAYERS, vgg_weights=None)
        discriminator = unet_discriminator()
        trainer = RealEsrganTrainer(generator, discriminator, folder, perceptual=perceptual, jit_compile=args.jit,
                                    precision=precision)
        d_flop = forward_gflop(discriminator, (batch, hr, hr, 3))
        vgg_flop = forward_gflop(perceptual.features, (2 * batch, hr, hr, 3))
        # G fwd+bwd; D on real and fake, fwd+bwd (its gradient to the generator rides on the same pass);
        # VGG on SR and GT forward, backward through the SR half
        flop = 3 * g_flop + 2 * 3 * d_flop + vgg_flop + vgg_flop
    trainer.train(data, steps=1, evaluate_every=10 ** 6)  # tracing and warm-up
    started = clock()
    trainer.train(data, steps=1 + args.train_steps, evaluate_every=10 ** 6)
    return args.train_steps / started.elapsed(), flop


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default=",".join(PRESETS))
    parser.add_argument("--size", type=int, default=256, help="side of the LR image (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--torch-python", help="python of an environment with a CPU PyTorch (the baseline)")
    parser.add_argument("--basicsr", help="BasicSR 1.4.2's source tree (for the baseline)")
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--no-train", action="store_true")
    parser.add_argument("--train-patch", type=int, default=64)
    parser.add_argument("--train-batch", type=int, default=4)
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--jit", action="store_true", help="train steps with XLA")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="sr_tf's runtimes (default: all)")
    parser.add_argument("--torch-modes", default="float32",
                        help=f"PyTorch configurations, float32 first: {', '.join(TORCH_MODES)} (default %(default)s)")
    parser.add_argument("--precisions", default="float32,bfloat16", help="of the training steps")
    parser.add_argument("--torch-worker", help=argparse.SUPPRESS)
    parser.add_argument("--torch-mode", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args)
    if args.variant:
        return sr_tf_worker(args)


    print(machine_line())
    if not args.train_only:
        bench_inference(args)
    if not args.no_train:
        bench_training(args)


def bench_inference(args):
    if not (args.torch_python and args.basicsr):
        raise SystemExit("The inference comparison needs --torch-python and --basicsr (the PyTorch baseline writes "
                         "the weights both sides run); --train-only runs the training part alone.")
    from sr_tf import specs
    from sr_tf.deploy import representative_patches, to_onnx, to_tflite
    from sr_tf.models import from_pytorch

    variants, modes = args.variants.split(","), args.torch_modes.split(",")
    unknown = sorted(set(variants) - set(VARIANTS)) + sorted(set(modes) - set(TORCH_MODES))
    if unknown or modes[0] != "float32":
        raise SystemExit(f"--variants takes {', '.join(VARIANTS)}; --torch-modes {', '.join(TORCH_MODES)}, "
                         f"float32 first (the baseline). Received: {', '.join(unknown) or args.torch_modes}")
    me = [sys.executable, os.path.abspath(__file__), "--size", str(args.size), "--repeats", str(args.repeats)]
    for name in args.presets.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            weights, rows, outputs = os.path.join(tmp, f"{name}.pth"), [], {}
            for mode in modes:
                out = os.path.join(tmp, f"torch-{mode}.npy")
                rows.append((TORCH_MODES[mode], run_json([args.torch_python, *me[1:], "--torch-worker", name,
                                                          "--torch-mode", mode, "--basicsr", args.basicsr,
                                                          "--weights", weights, "--output", out])))
                outputs[TORCH_MODES[mode]] = np.load(out).astype(np.float64)
            baseline = rows[0][1]
            model = from_pytorch(weights)
            assert model.spec == specs.preset(name).architecture
            files = {"keras": weights, "keras-bfloat16": weights, "keras-tiled": weights}
            for variant in variants:
                if variant.startswith("tflite"):
                    quantize = variant.split("-", 1)[1]
                    files[variant] = os.path.join(tmp, f"{quantize}.tflite")
                    representative = representative_patches(4, count=8) if quantize == "int8" else None
                    to_tflite(model, files[variant], quantize=quantize, representative=representative,
                              min_psnr=None)  # (random weights: speed and agreement only)
                elif variant == "onnx":
                    files["onnx"] = os.path.join(tmp, "model.onnx")
                    to_onnx(model, files["onnx"])
            for variant in variants:
                out = os.path.join(tmp, f"{variant}.npy")
                rows.append((variant, run_json([*me, "--variant", variant, "--weights", files[variant],
                                                "--output", out])))
                outputs[variant] = np.load(out).astype(np.float64)
            reference = np.clip(np.round(outputs[TORCH_MODES["float32"]]), 0, 255)
            print(f"\n{name} ({model.count_params():,} parameters) on a {args.size}x{args.size} LR image, "
                  f"torch {baseline['torch']} with {baseline['threads']} threads; tiles {TILE} + {TILE_PAD} pad")
            print("| runtime | seconds | vs PyTorch float32 | peak RSS (MB) | difference from PyTorch float32: max / "
                  "mean grey levels |\n|---|---|---|---|---|")
            for label, row in rows:
                d = np.abs(np.clip(np.round(outputs[label]), 0, 255) - reference)
                first = f" (first call {row['first_s']:.1f} s)" if row.get("first_s", 0) > 2 * row["seconds"] else ""
                print(f"| {label} | {row['seconds']:.3f}{first} | {baseline['seconds'] / row['seconds']:.2f}x | "
                      f"{row['peak_mb']:.0f} | {d.max():.0f} / {d.mean():.2f} |", flush=True)


if __name__ == "__main__":
    main()
