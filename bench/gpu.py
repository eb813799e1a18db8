#!/usr/bin/env python
"""One command for a lent GPU machine: every training step, inference and sampling case this project measures,
in float32, float16 and bfloat16 (Keras's mixed policies, as `--precision` builds them) and float32 with XLA,
each bounded in time and written down as soon as it is measured.

Runbook (a fresh machine with a GPU, from the repository root):

    python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[gpu,test]" && pip install "tf_keras~=2.21.0"
    python bench/gpu.py --budget 480            # writes bench/RESULTS-gpu.md and bench/results-gpu.json

`--dry-run` runs every case at tiny sizes on whatever device there is (the CPU here; the precision variants once,
on the first case), in well under two minutes: the test suite runs it, so the GPU run does not fail on a typo. It
writes into a fresh temporary folder unless --output / --json name files, never into the repository (a CPU dry
run must not be committed as GPU figures).
`--budget SECONDS` skips the cases that would not fit (a case is not started with less than its allowance,
`--case-seconds`, left) and says which; a case runs a fixed number of steps (`--steps`), so its time is bounded.

What is measured: the machine (GPU, memory, CUDA/cuDNN as TensorFlow reports them, float32 and float16 matmul
peaks in the same run); training steps/s, GFLOP/s (TensorFlow's profiler count of one forward pass x 3) and peak
GPU memory for SRResNet pre-training, the SRGAN step, EDSR-16, Real-ESRNet and Real-ESRGAN (RRDBNet x4), FastGAN
at 256 and 1024 px; MirroredStrategy over all GPUs when there are two or more; `resolve_single` of a 1920x1080
image x4 (whole and tiled); PixelCNN fast sampling; and the original tutorial's pre-training step as the baseline
(needs tf_keras).
"""

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402, F401  (the path set-up: the checkout's sr_tf)
from common import clock, machine_line  # noqa: E402

PRECISIONS = ("float32", "float16", "bfloat16", "xla")  # xla: float32, jit_compile=True


def machine():
    """What TensorFlow reports of the machine, and float32 / float16 matmul peaks measured now."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    info = {"host": platform.node(), "cpu_cores": os.cpu_count(), "tensorflow": tf.__version__, "gpus": []}
    for gpu in gpus:
        details = tf.config.experimental.get_device_details(gpu)
        info["gpus"].append({"name": details.get("device_name", gpu.name),
                             "compute_capability": details.get("compute_capability")})
    build = tf.sysconfig.get_build_info()
    info["cuda"], info["cudnn"] = build.get("cuda_version"), build.get("cudnn_version")
    for dtype in ("float32", "float16"):
        n = 4096 if gpus else 512
        a = tf.random.normal((n, n), dtype=dtype)
        f = tf.function(lambda: tf.linalg.matmul(a, a))
        f().numpy()
        started = clock()
        for _ in range(10):
            out = f()
        out.numpy()
        info[f"matmul_{dtype}_tflops"] = 2 * n ** 3 * 10 / started.elapsed() / 1e12
    return info


def peak_memory_mb():
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        return None
    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2 ** 20


def reset_memory():
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        tf.config.experimental.reset_memory_stats("GPU:0")


def sr_batch(batch, lr_size, scale):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    return tf.data.Dataset.from_tensors((rng.integers(0, 256, (batch, lr_size, lr_size, 3)).astype("uint8"),
                                         rng.integers(0, 256, (batch, lr_size * scale, lr_size * scale, 3))
                                         .astype("uint8"))).repeat()


def trainer_cases(tiny):
    """{name: (build(folder, **trainer options) -> (trainer, dataset, forward GFLOP))}."""
    from bench_realesrgan import forward_gflop

    from sr_tf import specs
    from sr_tf.losses import PerceptualLoss
    from sr_tf.models import build, fastgan, srgan
    from sr_tf.models.realesrgan import unet_discriminator
    from sr_tf.specs.realesrgan import REALESRGAN_LAYERS
    from sr_tf.train import (
        EdsrTrainer,
        FastGANTrainer,
        RealEsrganTrainer,
        RealEsrnetTrainer,
        SrganGeneratorTrainer,
        SrganTrainer,
    )

    batch, lr_size = (2, 8) if tiny else (16, 24)
    sr_small = dict(num_filters=4, num_res_blocks=1) if tiny else {}
    rrdb = dict(num_feat=8, num_block=1, num_grow_ch=4) if tiny else {}

    def srresnet():
        return build("srresnet-x4", **sr_small)

    def pretrain(folder, **kw):
        model = srresnet()
        return SrganGeneratorTrainer(model, folder, **kw), sr_batch(batch, lr_size, 4), \
            3 * forward_gflop(model, (batch, lr_size, lr_size, 3))

    def gan(folder, **kw):
        model, disc = srresnet(), srgan.discriminator(num_filters=4 if tiny else 64, hr_size=lr_size * 4)
        flop = 3 * forward_gflop(model, (batch, lr_size, lr_size, 3)) + 6 * forward_gflop(
            disc, (batch, lr_size * 4, lr_size * 4, 3))
        return SrganTrainer(model, disc, folder, vgg=srgan.vgg_54(weights=None), **kw), \
            sr_batch(batch, lr_size, 4), flop

    def edsr(folder, **kw):
        model = build("edsr-16-x4", **sr_small)
        return EdsrTrainer(model, folder, **kw), sr_batch(batch, lr_size, 4), \
            3 * forward_gflop(model, (batch, lr_size, lr_size, 3))

    def rrdb_stage(folder, **kw):
        model = specs.preset("realesrgan-x4plus").architecture.replace(**rrdb).build()
        size = 8 if tiny else 32
        return RealEsrnetTrainer(model, folder, **kw), sr_batch(batch, size, 4), \
            3 * forward_gflop(model, (batch, size, size, 3))

    def realesrgan_stage(folder, **kw):
        model = specs.preset("realesrgan-x4plus").architecture.replace(**rrdb).build()
        disc = unet_discriminator(num_feat=4 if tiny else 64)
        size = 8 if tiny else 32
        layers = (("conv1_2", 1.0),) if tiny else REALESRGAN_LAYERS
        perceptual = PerceptualLoss(layers, vgg_weights=None)
        flop = 3 * forward_gflop(model, (batch, size, size, 3)) + 6 * forward_gflop(disc, (batch, size * 4,
                                                                                            size * 4, 3))
        return RealEsrganTrainer(model, disc, folder, perceptual=perceptual, **kw), sr_batch(batch, size, 4), flop

    def fastgan_case(im_size):
        def make(folder, **kw):
            import tensorflow as tf

            size = 64 if tiny else im_size
            width = dict(ngf=4, nz=8) if tiny else {}
            generator = fastgan.generator(size, **width)
            disc = fastgan.discriminator(size, **(dict(ndf=4, decoder_width=4) if tiny else {}))
            images = np.random.default_rng(0).uniform(-1, 1, (2 if tiny else 8, size, size, 3)).astype("float32")
            flop = 3 * forward_gflop(generator, (images.shape[0], generator.inputs[0].shape[-1]))
            return FastGANTrainer(generator, disc, folder, sample_every=0, **kw), \
                tf.data.Dataset.from_tensors(images).repeat(), flop
        return make

    return {"srresnet-pretrain": pretrain, "srgan-step": gan, "edsr-16": edsr, "rrdb (Real-ESRNet)": rrdb_stage,
            "realesrgan (GAN stage)": realesrgan_stage, "fastgan-256": fastgan_case(256),
            "fastgan-1024": fastgan_case(1024)}


def run_trainer_case(make, precision, steps, strategy=None):
    import keras

    from sr_tf.precision import policy

    built = "float32" if precision == "xla" else precision
    try:
        with tempfile.TemporaryDirectory() as folder, policy(built):
            options = dict(precision=built, jit_compile=precision == "xla")
            scope = strategy.scope() if strategy is not None else _nothing()
            with scope:
                trainer, data, gflop = make(folder, strategy=strategy, **options) if strategy is not None else \
                    make(folder, **options)
            trainer.train(data, steps=1, evaluate_every=10 ** 9)  # tracing and warm-up
            reset_memory()
            started = clock()
            trainer.train(data, steps=1 + steps, evaluate_every=10 ** 9)
            rate = steps / started.elapsed()
            return {"steps_per_s": rate, "gflop_per_step": gflop, "gflop_per_s": gflop * rate,
                    "peak_mb": peak_memory_mb()}
    finally:
        keras.mixed_precision.set_global_policy("float32")
        keras.utils.clear_session()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def inference_cases(tiny):
    from sr_tf import specs
    from sr_tf.inference import resolve_single
    from sr_tf.precision import with_precision

    height, width = (36, 64) if tiny else (1080, 1920)
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    cases = {}
    for i, preset in enumerate(("edsr-16-x4", "realesr-general-x4v3", "realesrgan-x4plus")):
        overrides = (dict(num_filters=4, num_res_blocks=1) if preset.startswith("edsr") else
                     dict(num_feat=8, num_conv=2) if "general" in preset else dict(num_feat=8, num_block=1,
                                                                                     num_grow_ch=4)) if tiny else {}
        model = specs.preset(preset).architecture.replace(**overrides).build()
        for tile in (None, 16 if tiny else 256):
            # (--dry-run: the 16-bit variants once, on the first case, as for the trainers)
            for precision in ("float32", "float16", "bfloat16") if not tiny or (i, tile) == (0, None) else ("float32",):
                def run(model=with_precision(model, precision), tile=tile):
                    resolve_single(model, image, tile=tile, tile_pad=4 if tiny else 16)
                name = f"resolve {preset} {width}x{height} x4 " + ("whole" if tile is None else f"tiles {tile}")
                cases[(name, precision)] = run
    return cases


def pixelcnn_case(tiny):
    from sr_tf import models, sampling

    model = models.build("pixelcnn", input_shape=(4, 4, 1), num_res_blocks=1, hidden=4, levels=4) if tiny else \
        models.build("pixelcnn-mnist")
    return lambda: sampling.sample(model, 2 if tiny else 16, seed=0)


def original_case(tiny):
    """The tutorial's pre-training step (tf_keras), or None when tf_keras is not installed."""
    try:
        import tf_keras  # noqa: F401 - only whether it is installed
    except ImportError:
        return None
    import tensorflow as tf
    from bench_vs_original import original_steps

    step = original_steps(tiny=tiny)["pretrain"]
    rng = np.random.default_rng(0)
    size = 8 if tiny else 24
    batch = 2 if tiny else 16
    lr = tf.constant(rng.integers(0, 256, (batch, size, size, 3)).astype("uint8"))
    hr = tf.constant(rng.integers(0, 256, (batch, size * 4, size * 4, 3)).astype("uint8"))
    return lambda: step(lr, hr).numpy()


def timed(fn, repeats):
    fn()
    reset_memory()
    started = clock()
    for _ in range(repeats):
        fn()
    return {"seconds": started.elapsed() / repeats, "peak_mb": peak_memory_mb()}


class Report:
    """Writes the Markdown table and the JSON after every case, so an interrupted run keeps what it measured."""

    def __init__(self, markdown, json_path, info):
        self.markdown, self.json_path, self.info, self.rows, self.skipped = markdown, json_path, info, [], []

    def add(self, case, precision, result, started):
        result = {**result, "wall_s": time.monotonic() - started}  # the case's whole time, building included
        self.rows.append({"case": case, "precision": precision, **result})
        print(f"{case} [{precision}]: " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                                     for k, v in result.items()), flush=True)
        self.write()

    def skip(self, case, why):
        self.skipped.append({"case": case, "why": why})
        print(f"skipped {case}: {why}", flush=True)
        self.write()

    def write(self):
        from sr_tf.atomic import atomic_write_text

        atomic_write_text(self.json_path, json.dumps({"machine": self.info, "results": self.rows,
                                                      "skipped": self.skipped}, indent=1))
        gpus = ", ".join(g["name"] for g in self.info["gpus"]) or "no GPU"
        lines = [f"# GPU results ({datetime.date.today()})", "",
                 f"{gpus}; CUDA {self.info.get('cuda')}, cuDNN {self.info.get('cudnn')}, TensorFlow "
                 f"{self.info['tensorflow']}; matmul peaks float32 {self.info['matmul_float32_tflops']:.1f} "
                 f"TFLOP/s, float16 {self.info['matmul_float16_tflops']:.1f} TFLOP/s (same run).", "",
                 "| case | precision | steps/s or s | GFLOP/s | peak MB |", "|---|---|---|---|---|"]
        for r in self.rows:
            speed = f"{r['steps_per_s']:.2f} steps/s" if "steps_per_s" in r else f"{r['seconds']:.3f} s"
            flops = f"{r['gflop_per_s']:.0f}" if "gflop_per_s" in r else "-"
            peak = "-" if r.get("peak_mb") is None else f"{r['peak_mb']:.0f}"
            lines.append(f"| {r['case']} | {r['precision']} | {speed} | {flops} | {peak} |")
        lines += [""] + [f"- skipped {s['case']}: {s['why']}" for s in self.skipped]
        atomic_write_text(self.markdown, "\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="every case at tiny sizes (the test suite runs it)")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds for the whole run (default 600)")
    parser.add_argument("--case-seconds", type=float, default=None,
                        help="allowance of one case (default: 60, or 2 with --dry-run)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps a case (default 10; 1 dry)")
    parser.add_argument("--output", default=None, help="default bench/RESULTS-gpu.md (--dry-run: a temporary folder)")
    parser.add_argument("--json", default=None, help="default bench/results-gpu.json (--dry-run: a temporary folder)")
    args = parser.parse_args(argv)
    where = tempfile.mkdtemp(prefix="gpu-dry-run-") if args.dry_run else HERE
    args.output = args.output or os.path.join(where, "RESULTS-gpu.md")
    args.json = args.json or os.path.join(where, "results-gpu.json")
    import tensorflow as tf

    tiny = args.dry_run
    allowance = args.case_seconds if args.case_seconds is not None else (2.0 if tiny else 60.0)
    steps = args.steps if args.steps is not None else (1 if tiny else 10)
    deadline = time.monotonic() + args.budget
    print(machine_line(), flush=True)
    report = Report(args.output, args.json, machine())

    def fits(case):
        if time.monotonic() + allowance > deadline:
            report.skip(case, f"less than its {allowance:.0f} s allowance left of --budget {args.budget:.0f} s")
            return None
        return time.monotonic()

    for i, (case, make) in enumerate(trainer_cases(tiny).items()):
        if tiny and case == "fastgan-1024":
            report.skip(case, "at --dry-run sizes it is fastgan-256's network (64 px)")
            continue
        for precision in (PRECISIONS if not tiny or i == 0 else ("float32",)):
            started = fits(f"{case} [{precision}]")
            if started:
                report.add(case, precision, run_trainer_case(make, precision, steps), started)
    gpus = tf.config.list_physical_devices("GPU")
    started = fits("srresnet-pretrain MirroredStrategy") if len(gpus) >= 2 else None
    if started:
        strategy = tf.distribute.MirroredStrategy()
        report.add(f"srresnet-pretrain, MirroredStrategy over {len(gpus)} GPUs", "float32",
                   run_trainer_case(trainer_cases(tiny)["srresnet-pretrain"], "float32", steps, strategy), started)
    elif len(gpus) < 2:
        report.skip("MirroredStrategy", f"{len(gpus)} GPU(s): needs two or more")
    for (case, precision), run in inference_cases(tiny).items():
        started = fits(f"{case} [{precision}]")
        if started:
            report.add(case, precision, timed(run, 1 if tiny else 3), started)
    started = fits("pixelcnn fast sampling")
    if started:
        report.add("pixelcnn fast sampling, 16 images" if not tiny else "pixelcnn fast sampling (tiny)", "float32",
                   timed(pixelcnn_case(tiny), 1), started)
    started = fits("original tutorial pre-training step")
    original = original_case(tiny) if started else None
    if started and original is None:
        report.skip("original tutorial pre-training step", "tf_keras is not installed")
    elif started:
        report.add("original tutorial pre-training step (tf_keras)", "float32", timed(original, steps), started)
    print(f"Wrote {args.output} and {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
