#!/usr/bin/env python
"""Real-ESRGAN's networks: inference time and peak memory of sr_tf (Keras whole and tiled, TFLite float32 /
dynamic / int8, ONNX Runtime) against PyTorch running the authors' own architecture code (BasicSR 1.4.2) on the
same CPU, in the same run, and the training steps of `rrdb` and `realesrgan` in GFLOP/s next to a float32 matmul.

    python bench/bench_realesrgan.py --torch-python /tmp/torchenv/bin/python --basicsr /tmp/basicsr-1.4.2
    python bench/bench_realesrgan.py --presets realesr-general-x4v3 --size 128      # quicker
    python bench/bench_realesrgan.py --train-only

The PyTorch side (a scratch environment with a CPU torch, and BasicSR's source tree; see
tests/data/realesrgan_reference/make.py) builds each network with random weights, saves them with torch.save and
times the network; sr_tf imports that very file with `from_pytorch`, so both run the same weights, and the outputs
are compared. Every variant runs in its own process, its model loaded first; its peak resident memory is then
reset and measured over the timed calls (Linux's VmHWM: the framework, the weights and the run's buffers).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
REFERENCE = os.path.join(REPO, "tests", "data", "realesrgan_reference")
PRESETS = ("realesr-general-x4v3", "realesrgan-x4plus")
# preset -> BasicSR constructor arguments (the published networks)
TORCH_NETS = {"realesr-general-x4v3": ("srvgg", dict(num_in_ch=3, num_out_ch=3, num_feat=64, num_conv=32, upscale=4)),
              "realesrgan-x4plus": ("rrdbnet", dict(num_in_ch=3, num_out_ch=3, scale=4, num_feat=64, num_block=23,
                                                    num_grow_ch=32))}
VARIANTS = ("keras", "keras-tiled", "tflite-none", "tflite-dynamic", "tflite-int8", "onnx")
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
    started = time.perf_counter()
    for _ in range(repeats):
        out = fn()
    return (time.perf_counter() - started) / repeats, out


def torch_worker(args):
    """In the PyTorch environment: build, randomize, save, time; prints JSON."""
    import torch

    sys.path.insert(0, REFERENCE)
    from make import load_basicsr_archs, randomize

    rrdbnet_arch, srvgg_arch = load_basicsr_archs(args.basicsr)
    kind, kwargs = TORCH_NETS[args.torch_worker]
    net = (srvgg_arch.SRVGGNetCompact if kind == "srvgg" else rrdbnet_arch.RRDBNet)(**kwargs)
    net = randomize(net, 0)
    with torch.no_grad():  # randomize's N(0, 0.1) weights explode over 23 blocks: scale them to keep outputs finite
        for p in net.parameters():
            p.mul_(0.3)
    torch.save({"params_ema": net.state_dict()}, args.weights)
    x = torch.from_numpy(lr_image(args.size).transpose(2, 0, 1)[None].astype(np.float32) / 255.0)
    reset_peak()
    with torch.inference_mode():
        seconds, out = timed(lambda: net(x), args.repeats)
    np.save(args.output, out.numpy()[0].transpose(1, 2, 0) * 255.0)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "threads": torch.get_num_threads(),
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
    lr = lr_image(args.size)
    reset_peak()
    seconds, out = timed(lambda: resolve_single(model, lr, tile=tile, tile_pad=TILE_PAD), args.repeats)
    np.save(args.output, out)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb()}))


def run_json(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def matmul_gflops(n=2048, repeats=10):
    import tensorflow as tf

    a = tf.random.normal((n, n))
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
    """Steps per second of RealEsrnetTrainer and RealEsrganTrainer on full-size RRDBNet at small patches."""
    import tensorflow as tf

    from sr_tf import specs
    from sr_tf.losses import PerceptualLoss
    from sr_tf.models.realesrgan import unet_discriminator
    from sr_tf.specs.realesrgan import REALESRGAN_LAYERS
    from sr_tf.train import RealEsrganTrainer, RealEsrnetTrainer

    hr, batch = args.train_patch, args.train_batch
    rng = np.random.default_rng(0)
    data = tf.data.Dataset.from_tensors((rng.integers(0, 256, (batch, hr // 4, hr // 4, 3)).astype("uint8"),
                                         rng.integers(0, 256, (batch, hr, hr, 3)).astype("uint8"))).repeat()
    peak = matmul_gflops()
    print(f"\nTraining steps, batch {batch} of {hr}x{hr} HR patches (full-size RRDBNet x4, random weights); "
          f"float32 2048^2 matmul: {peak:.0f} GFLOP/s in this run")
    print("| stage | steps/s | GFLOP per step (fwd x3, profiler) | GFLOP/s | of the matmul's |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for stage in ("rrdb", "realesrgan"):
            generator = specs.preset("realesrgan-x4plus").architecture.build()
            g_flop = forward_gflop(generator, (batch, hr // 4, hr // 4, 3))
            if stage == "rrdb":
                trainer = RealEsrnetTrainer(generator, os.path.join(tmp, stage), jit_compile=args.jit)
                flop = 3 * g_flop
            else:
                perceptual = PerceptualLoss(REALESRGAN_LAYERS, vgg_weights=None)
                discriminator = unet_discriminator()
                trainer = RealEsrganTrainer(generator, discriminator, os.path.join(tmp, stage), perceptual=perceptual,
                                            jit_compile=args.jit)
                d_flop = forward_gflop(discriminator, (batch, hr, hr, 3))
                vgg_flop = forward_gflop(perceptual.features, (2 * batch, hr, hr, 3))
                # G fwd+bwd; D on real and fake, fwd+bwd (its gradient to the generator rides on the same pass);
                # VGG on SR and GT forward, backward through the SR half
                flop = 3 * g_flop + 2 * 3 * d_flop + vgg_flop + vgg_flop
            trainer.train(data, steps=1, evaluate_every=10 ** 6)  # tracing and warm-up
            started = time.perf_counter()
            trainer.train(data, steps=1 + args.train_steps, evaluate_every=10 ** 6)
            rate = args.train_steps / (time.perf_counter() - started)
            print(f"| {stage} | {rate:.3f} | {flop:.1f} | {flop * rate:.0f} | {flop * rate / peak:.0%} |")


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
    parser.add_argument("--torch-worker", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args)
    if args.variant:
        return sr_tf_worker(args)
    import tensorflow as tf

    print(f"{platform.machine()}, {os.cpu_count()} CPU cores, TensorFlow {tf.__version__}")
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

    me = [sys.executable, os.path.abspath(__file__), "--size", str(args.size), "--repeats", str(args.repeats)]
    for name in args.presets.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            weights, rows = os.path.join(tmp, f"{name}.pth"), []
            baseline = run_json([args.torch_python, *me[1:], "--torch-worker", name, "--basicsr", args.basicsr,
                                 "--weights", weights, "--output", os.path.join(tmp, "torch.npy")])
            rows.append(("PyTorch, BasicSR's code (baseline)", baseline))
            model = from_pytorch(weights)
            assert model.spec == specs.preset(name).architecture
            files = {"keras": weights, "keras-tiled": weights}
            for quantize in ("none", "dynamic", "int8"):
                files[f"tflite-{quantize}"] = os.path.join(tmp, f"{quantize}.tflite")
                representative = representative_patches(4, count=8) if quantize == "int8" else None
                to_tflite(model, files[f"tflite-{quantize}"], quantize=quantize, representative=representative)
            files["onnx"] = os.path.join(tmp, "model.onnx")
            to_onnx(model, files["onnx"])
            outputs = {}
            for variant in VARIANTS:
                out = os.path.join(tmp, f"{variant}.npy")
                rows.append((variant, run_json([*me, "--variant", variant, "--weights", files[variant],
                                                "--output", out])))
                outputs[variant] = np.load(out).astype(np.float64)
            reference = np.clip(np.round(np.load(os.path.join(tmp, "torch.npy"))), 0, 255)
            print(f"\n{name} ({model.count_params():,} parameters) on a {args.size}x{args.size} LR image, "
                  f"torch {baseline['torch']} with {baseline['threads']} threads; tiles {TILE} + {TILE_PAD} pad")
            print("| runtime | seconds | vs PyTorch | peak RSS (MB) | max difference from PyTorch (grey levels) |")
            print("|---|---|---|---|---|")
            for label, row in rows:
                diff = "-" if label not in outputs else f"{np.abs(outputs[label] - reference).max():.0f}"
                print(f"| {label} | {row['seconds']:.2f} | {baseline['seconds'] / row['seconds']:.2f}x | "
                      f"{row['peak_mb']:.0f} | {diff} |")


if __name__ == "__main__":
    main()
