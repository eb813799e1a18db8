"""train_srgan.py's evaluation commands: `evaluate` (a model next to bicubic on DIV2K valid, a folder, or
benchmark sets with the published protocol) and the offline `demo`."""

import time

import keras
import numpy as np
import tensorflow as tf

from sr_tf.cli.common import EXIT_INTERRUPTED
from sr_tf.cli.srgan import SAMPLE_HELD_OUT, SAMPLE_TRAIN
from sr_tf.data import DIV2K, ImageFolder, crop_to_multiple, downscale, read_image, save_image
from sr_tf.data.io import sample_files
from sr_tf.errors import UserInputError
from sr_tf.inference import resolve_single
from sr_tf.metrics import bicubic_upscale, psnr, psnr_y, ssim
from sr_tf.models import build_sr_model, load_sr_model
from sr_tf.train import EdsrTrainer
from sr_tf.weights_io import save_weights


METRICS = ("psnr", "psnr_y", "ssim", "bias_r", "bias_g", "bias_b")


def scores(hr, sr, scale):
    """RGB PSNR, Y-PSNR and SSIM (benchmark protocol, `scale` border pixels cropped) and the mean error of each
    colour channel (sr - hr, grey levels: a colour bias costs several dB on smooth images)."""
    bias = (sr.astype(np.float64) - hr).mean(axis=(0, 1))
    return (float(psnr(hr, sr)), psnr_y(hr, sr, crop_border=scale), ssim(hr, sr, crop_border=scale), *bias)


def compare_with_bicubic(model, pairs, scale, tile=None, self_ensemble=False, bicubic=None, models=None):
    """Scores of a model and of bicubic upscaling over (lr, hr) uint8 image pairs.

    Args:
        model: the model (or None with `models`).
        pairs: (lr, hr) pairs.
        scale: the upscaling factor (also the border cropped for Y-PSNR and SSIM).
        tile: tiled inference.
        self_ensemble: add a 'model+' row (EDSR+ protocol).
        bicubic: the bicubic upscaler (default `sr_tf.metrics.bicubic_upscale`).
        models: {row name: model} instead of `model` (the rows after 'bicubic').

    Returns:
        {'bicubic': {...}, 'model': {...}[, 'model+': {...}]}: the means of `METRICS` over the pairs, plus 'n'.
    """
    models = models or {"model": model}
    bicubic = bicubic or (lambda lr: bicubic_upscale(lr, scale).numpy())
    results = {"bicubic": [], **{name: [] for name in models}}
    if self_ensemble:
        results.update({f"{name}+": [] for name in models})
    for lr, hr in pairs:
        lr, hr = np.asarray(lr), np.asarray(hr)
        results["bicubic"].append(scores(hr, np.asarray(bicubic(lr)), scale))
        for name, m in models.items():
            results[name].append(scores(hr, resolve_single(m, lr, tile=tile), scale))
            if self_ensemble:
                results[f"{name}+"].append(scores(hr, resolve_single(m, lr, tile=tile, self_ensemble=True), scale))
    return {name: {**dict(zip(METRICS, np.mean(values, axis=0))), "n": len(values)}
            for name, values in results.items()}


def print_comparison(results):
    """Prints the table of `compare_with_bicubic`."""
    print(f"{'':10s} {'PSNR RGB':>9s} {'PSNR Y':>8s} {'SSIM Y':>7s}   mean error R/G/B (grey levels)")
    for name, r in results.items():
        print(f"{name:10s} {r['psnr']:9.2f} {r['psnr_y']:8.2f} {r['ssim']:7.4f}   "
              f"{r['bias_r']:+.2f} {r['bias_g']:+.2f} {r['bias_b']:+.2f}")


def run_benchmark(model, root, scale, tile=None, self_ensemble=False):
    """Per-set Y-PSNR / SSIM table of the model next to MATLAB bicubic over the benchmark sets under `root`
    (see `sr_tf.data.benchmark`); returns {set name: results of `compare_with_bicubic`}."""
    from sr_tf.data.benchmark import find_sets, set_images
    from sr_tf.data.matlab import upscale

    table = {}
    print(f"x{scale}, Y-PSNR (dB) / SSIM on Y with {scale} border pixels cropped; bicubic: MATLAB imresize"
          + ("; model+: self-ensemble" if self_ensemble else ""))
    for name, folder in find_sets(root):
        pairs = ((lr, hr) for _, lr, hr in set_images(folder, scale))
        table[name] = r = compare_with_bicubic(model, pairs, scale, tile, self_ensemble,
                                               bicubic=lambda lr: upscale(lr, scale).numpy())
        print(f"{name:12s} {r['bicubic']['n']:4d} images  " + "   ".join(
            f"{row} {v['psnr_y']:.2f} / {v['ssim']:.4f}" for row, v in r.items()))
    return table


def run_evaluate(args):
    """The `evaluate` subcommand: the model next to bicubic on DIV2K valid, a folder, or benchmark sets."""
    if args.benchmark is not None and (args.hr_dir or args.lr_dir or args.limit is not None):
        raise UserInputError("--benchmark evaluates whole benchmark sets; it does not combine with --hr-dir, "
                             "--lr-dir or --limit.")
    model = load_sr_model(args.model, args.weights, scale=args.scale, num_filters=args.num_filters,
                          num_res_blocks=args.num_res_blocks, wdsr_type=args.wdsr_type)
    if args.benchmark is not None:
        run_benchmark(model, args.benchmark, args.scale, tile=args.tile, self_ensemble=args.self_ensemble)
        return 0
    if args.hr_dir:
        source = ImageFolder(args.hr_dir, scale=args.scale, lr_dir=args.lr_dir, hr_crop_size=args.scale,
                             crop_to_scale=args.crop_to_scale, skip_unreadable=True,
                             degradation=args.degradation or "bicubic")
    else:
        source = DIV2K(scale=args.scale, subset="valid", downgrade=args.downgrade, images_dir=args.images_dir,
                       caches_dir=args.caches_dir, degradation=args.degradation)
    pairs = ((lr[0], hr[0]) for lr, hr in source.dataset(1, repeat_count=1, random_transform=False))
    if args.limit is not None:
        pairs = (p for p, _ in zip(pairs, range(args.limit)))
    print_comparison(compare_with_bicubic(model, pairs, args.scale, tile=args.tile,
                                          self_ensemble=args.self_ensemble))
    return 0


def run_demo(args):
    """Trains a small EDSR on three bundled photos, then compares it with bicubic on the held-out fourth.

    Writes the weights and a side-by-side PNG (bicubic | model | original) and returns 0 when the model beats
    bicubic in PSNR (RGB and Y), 1 otherwise, 130 when interrupted.
    """
    keras.utils.set_random_seed(args.seed)
    scale = args.scale
    train = ImageFolder(sample_files(SAMPLE_TRAIN), scale=scale, hr_crop_size=96, crop_to_scale=True)
    train_ds = train.dataset(batch_size=args.batch_size, random_transform=True)
    hr, _ = read_image(sample_files([SAMPLE_HELD_OUT])[0])
    hr = crop_to_multiple(hr, scale)
    lr = downscale(hr, scale).numpy()
    valid_ds = tf.data.Dataset.from_tensors((lr[None], hr[None]))
    model = build_sr_model("edsr", scale=scale, num_filters=args.num_filters, num_res_blocks=args.num_res_blocks)
    trainer = EdsrTrainer(model, args.checkpoint_dir, learning_rate=args.learning_rate, jit_compile=args.jit,
                          data={"source": "bundled samples (demo)", "scale": scale}, log_interval=args.log_interval)
    started = time.perf_counter()
    trainer.train(train_ds, valid_ds, steps=args.steps, evaluate_every=args.evaluate_every)
    if trainer.interrupted:
        return EXIT_INTERRUPTED
    print(f"Training: {time.perf_counter() - started:.0f} s in this run, {int(trainer.step.numpy())} steps in total.")
    trainer.restore_best()
    save_weights(trainer.model, args.weights_out)
    results = compare_with_bicubic(trainer.model, [(lr, hr)], scale)
    print(f"\nHeld-out photo {SAMPLE_HELD_OUT} ({hr.shape[1]}x{hr.shape[0]}, x{scale}):")
    print_comparison(results)
    bicubic = bicubic_upscale(lr, scale).numpy()
    side_by_side = np.concatenate([bicubic, resolve_single(trainer.model, lr), hr], axis=1)
    save_image(args.output, side_by_side)
    print(f"Weights: {args.weights_out}\nComparison (bicubic | model | original): {args.output}")
    beats = all(results["model"][k] > results["bicubic"][k] for k in ("psnr", "psnr_y"))
    print("The model beats bicubic." if beats else "The model does NOT beat bicubic yet; train longer (--steps).")
    return 0 if beats else 1
