"""train_srgan.py demo: a small EDSR trained for a few minutes on three bundled photos and compared with bicubic on
the held-out fourth (as it is, darkened and smoothed), and with `--degradation realesrgan` a second model trained
on Real-ESRGAN-degraded LR, compared on the held-out photo degraded by independent draws."""

import dataclasses
import functools
import os
import time

import keras
import numpy as np
import tensorflow as tf

from sr_tf import specs
from sr_tf.cli.common import chosen_precision, interrupted_status, pipeline_seed
from sr_tf.cli.runner import Options, destination, print_artifacts, write_artifacts
from sr_tf.cli.sr_evaluate import compare_with_bicubic, print_comparison
from sr_tf.data import ImageFolder, crop_to_multiple, degradations, downscale, read_image, save_image
from sr_tf.data.io import SAMPLE_HELD_OUT, SAMPLE_TRAIN, sample_files
from sr_tf.inference import resolve_single
from sr_tf.metrics import bicubic_upscale
from sr_tf.ops import Draws, to_uint8
from sr_tf.precision import policy
from sr_tf.train import EdsrTrainer

TEST_SEED = 90_001  # the held-out photo's degradations: draws no training or validation pipeline makes
HELD_OUT_DRAWS = 8
# The held-out test of the degradation-trained model: Real-ESRGAN's model, JPEG quality limited to 30-60 in both
# orders (the first order always blurs; both always add noise).
HELD_OUT_DEGRADATION = dataclasses.replace(
    degradations.REALESRGAN, first=dataclasses.replace(degradations.REALESRGAN.first, jpeg_quality=(30, 60)),
    second=dataclasses.replace(degradations.REALESRGAN.second, jpeg_quality=(30, 60)))


def held_out_variants(hr):
    """The held-out photo as it is, darkened to 30 % and smoothed (Gaussian blur, sigma 2 px): a colour bias of
    1-2 grey levels, invisible on the photo, costs several dB on the last two."""
    x = np.arange(-10, 11, dtype=np.float32)
    g = np.exp(-x ** 2 / 8.0)
    kernel = tf.constant(np.outer(g, g) / np.outer(g, g).sum())
    smooth = to_uint8(degradations.filter2d(tf.cast(hr, tf.float32), kernel)).numpy()
    return {SAMPLE_HELD_OUT: hr, "dark (x0.3)": to_uint8(hr.astype(np.float32) * 0.3), "smooth (blur 2 px)": smooth}


def train_model(args, degradation, checkpoint_dir, valid_lr, valid_hr, precision):
    """Trains the demo EDSR on the bundled photos with `degradation`; the trainer. Stopped by Ctrl-C or SIGTERM
    (a checkpoint saved), it exits with status 130 or 143. `precision`: the one the run chose.

    The learning rate drops tenfold at `--lr-decay-at` of the steps by assigning the optimizer's rate between two
    runs of the loop, not with a schedule: a schedule would change the optimizer's variables and make checkpoints
    of earlier demo runs (and of `--lr-decay-at 1`) unreadable."""
    scale = args.scale
    train = ImageFolder(sample_files(SAMPLE_TRAIN), scale=scale, hr_crop_size=96, crop_to_scale=True,
                        degradation=degradation)
    valid_ds = tf.data.Dataset.from_tensors((valid_lr[None], valid_hr[None]))
    chosen = precision
    with policy(chosen):
        model = architecture(args).build()
    data = {"source": "bundled samples (demo)", "scale": scale, **({} if degradation == "bicubic" else
                                                                     {"degradation": degradation})}
    trainer = EdsrTrainer(model, checkpoint_dir, learning_rate=args.learning_rate, jit_compile=args.jit, data=data,
                          log_interval=args.log_interval, precision=chosen)
    trainer.restore()  # before the pipeline's seed, which depends on the step restored
    started = time.perf_counter()
    decay_step = int(args.steps * args.lr_decay_at)
    for end, rate in ((decay_step, args.learning_rate), (args.steps, args.learning_rate / 10)):
        if int(trainer.step.numpy()) >= end:
            continue
        trainer.optimizers["model"].learning_rate.assign(rate)
        train_ds = train.dataset(batch_size=args.batch_size, random_transform=True,
                                 seed=pipeline_seed(args.seed, trainer))
        trainer.train(train_ds, valid_ds, steps=end, evaluate_every=args.evaluate_every)
        if trainer.interrupted:  # saved at the step reached; the status says by which signal
            raise SystemExit(interrupted_status(trainer.interrupted))
    print(f"Training ({degradation} LR): {time.perf_counter() - started:.0f} s in this run, "
          f"{int(trainer.step.numpy())} steps in total.")
    trainer.restore_best()
    return trainer


def architecture(args):
    """The demo preset's architecture with the command line's scale, filters and blocks."""
    return specs.architecture("demo", scale=args.scale, num_filters=args.num_filters,
                              num_res_blocks=args.num_res_blocks)


def write_model(args, model, suffix=""):
    """Writes the demo model's artifacts (`.keras`, `.weights.h5`, legacy `.h5`, named by the demo recipe or
    `--weights-out`, with `suffix`); returns their paths."""
    folder, name, legacy = destination(specs.preset("demo").recipe, architecture(args), args)
    return write_artifacts(folder, name + suffix, model, legacy=os.path.splitext(legacy)[0] + f"{suffix}.h5")


def run_demo(args):
    """Trains the demo model(s) and prints the comparisons; writes the weights and side-by-side PNGs (bicubic |
    model(s) | original). Returns 0 when every model beats its baselines in PSNR (RGB and Y) on every comparison,
    1 otherwise, 130 / 143 when stopped by Ctrl-C / SIGTERM."""
    args = Options(args)
    keras.utils.set_random_seed(args.seed)
    precision = chosen_precision(args.precision)
    scale = args.scale
    hr = crop_to_multiple(read_image(sample_files([SAMPLE_HELD_OUT])[0])[0], scale)
    lr = downscale(hr, scale).numpy()
    trainer = train_model(args, "bicubic", args.checkpoint_dir, lr, hr, precision)
    model = trainer.model
    paths = write_model(args, model)
    beats = True
    for name, image in held_out_variants(hr).items():
        results = compare_with_bicubic(model, [(downscale(image, scale).numpy(), image)], scale)
        print(f"\nHeld-out photo {name} ({hr.shape[1]}x{hr.shape[0]}, x{scale}):")
        print_comparison(results)
        beats &= all(results["model"][k] > results["bicubic"][k] for k in ("psnr", "psnr_y"))
    side_by_side = np.concatenate([bicubic_upscale(lr, scale).numpy(), resolve_single(model, lr), hr], axis=1)
    save_image(args.output, side_by_side)
    print_artifacts([*paths, args.output])
    print(f"Comparison (bicubic | model | original): {args.output}")
    print("The model beats bicubic." if beats else "The model does NOT beat bicubic yet; train longer (--steps).")
    if args.degradation == "realesrgan":
        beats &= run_degraded_demo(args, model, hr, precision)
    return 0 if beats else 1


def held_out_draws(hr, scale, seed, degrade, count=HELD_OUT_DRAWS):
    """`count` independent degradations of the held-out photo (uint8 LR images), from seeds that no training or
    validation pipeline uses."""
    return [degrade(hr, scale, Draws(tf.constant([TEST_SEED + k, seed], tf.int64))).numpy() for k in range(count)]


def compare_on_draws(hr, lrs, scale, models, title):
    """Prints bicubic and `models` on the degraded copies `lrs` of `hr`: the means over the draws, and on how many
    draws the last model has the best Y-PSNR of all rows. Returns the means ({row: {metric: value}})."""
    per_draw = [compare_with_bicubic(None, [(lr, hr)], scale, models=models) for lr in lrs]
    rows, last = list(per_draw[0]), list(models)[-1]
    results = {row: {**{k: float(np.mean([d[row][k] for d in per_draw])) for k in per_draw[0][row]},
                     "n": len(lrs)} for row in rows}
    wins = sum(all(d[last]["psnr_y"] > d[row]["psnr_y"] for row in rows if row != last) for d in per_draw)
    print(f"\n{title}\nHeld-out photo {SAMPLE_HELD_OUT} ({hr.shape[1]}x{hr.shape[0]}, x{scale}), means over "
          f"{len(lrs)} independent draws:")
    print_comparison(results)
    print(f"The {last} model has the best Y-PSNR on {wins} of the {len(lrs)} draws.")
    return results


def run_degraded_demo(args, bicubic_model, hr, precision):
    """The `--degradation realesrgan` half of the demo; True when the degradation-trained model beats bicubic and
    the bicubic-trained model (mean PSNR, RGB and Y) on the held-out photo degraded by independent draws of
    `HELD_OUT_DEGRADATION`. Also prints, without a verdict, the milder first-order `degradations.photo`."""
    scale = args.scale
    validation = ImageFolder(sample_files([SAMPLE_HELD_OUT]), scale=scale, hr_crop_size=96, crop_to_scale=True,
                             degradation="realesrgan")
    valid_lr = next(iter(validation.lr_dataset())).numpy()  # the training model's fixed validation draw
    trainer = train_model(args, "realesrgan", args.checkpoint_dir + "-realesrgan", valid_lr, hr, precision)
    paths = write_model(args, trainer.model, suffix="-realesrgan")
    models = {"bicubic-trained": bicubic_model, "degradation-trained": trainer.model}
    degrade = functools.partial(degradations.realesrgan, params=HELD_OUT_DEGRADATION)
    lrs = held_out_draws(hr, scale, args.seed, degrade)
    results = compare_on_draws(hr, lrs, scale, models, "Real-ESRGAN's degradation model with JPEG quality 30-60 "
                                                       "(blur, resizes, noise, JPEG, twice):")
    compare_on_draws(hr, held_out_draws(hr, scale, args.seed, degradations.photo), scale, models,
                     "A milder, first-order degradation, outside the bulk of the training draws (Gaussian blur "
                     "sigma 0.8-1.6, noise 3-8 grey levels, JPEG quality 30-60):")
    output = args.output.replace(".png", "_degraded.png")
    lr = lrs[0]
    save_image(output, np.concatenate([bicubic_upscale(lr, scale).numpy(), *[resolve_single(m, lr) for m in
                                                                             models.values()], hr], axis=1))
    print_artifacts(paths)
    print(f"Comparison on the first Real-ESRGAN draw (bicubic | bicubic-trained | "
          f"degradation-trained | original): {output}")
    best = results["degradation-trained"]
    wins = all(best[k] > max(results["bicubic"][k], results["bicubic-trained"][k]) for k in ("psnr", "psnr_y"))
    print("The degradation-trained model beats both on the Real-ESRGAN draws (mean PSNR, RGB and Y)." if wins else
          "The degradation-trained model does NOT beat both on the Real-ESRGAN draws yet.")
    return wins
