"""train_srgan.py's `evaluate` command: a model next to bicubic on DIV2K valid, a folder, or benchmark sets with
the published protocol; `compare_with_bicubic` also scores the demo."""

import numpy as np

from sr_tf.cli.common import sr_architecture_flags
from sr_tf.cli.sr_data import report_cropped
from sr_tf.data import DIV2K, ImageFolder
from sr_tf.errors import UserInputError
from sr_tf.inference import resolve_single
from sr_tf.metrics import bicubic_upscale, psnr, psnr_y, ssim
from sr_tf.models import load_sr_model, spec_of

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
    width = max(10, *(len(name) for name in results))
    print(f"{'':{width}s} {'PSNR RGB':>9s} {'PSNR Y':>8s} {'SSIM Y':>7s}   mean error R/G/B (grey levels)")
    for name, r in results.items():
        print(f"{name:{width}s} {r['psnr']:9.2f} {r['psnr_y']:8.2f} {r['ssim']:7.4f}   "
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
    model = load_sr_model(args.model, args.weights, **sr_architecture_flags(args))
    scale = spec_of(model).scale
    if args.benchmark is not None:
        run_benchmark(model, args.benchmark, scale, tile=args.tile, self_ensemble=args.self_ensemble)
        return 0
    if args.hr_dir:
        source = ImageFolder(args.hr_dir, scale=scale, lr_dir=args.lr_dir, hr_crop_size=scale,
                             crop_to_scale=args.crop_to_scale, skip_unreadable=True,
                             degradation="bicubic" if args.degradation is None else args.degradation)
        report_cropped(source)
    else:
        source = DIV2K(scale=scale, subset="valid", downgrade=args.downgrade, images_dir=args.images_dir,
                       caches_dir=args.caches_dir, degradation=args.degradation)
    pairs = ((lr[0], hr[0]) for lr, hr in source.dataset(1, repeat_count=1, random_transform=False))
    if args.limit is not None:
        pairs = (p for p, _ in zip(pairs, range(args.limit)))
    print_comparison(compare_with_bicubic(model, pairs, scale, tile=args.tile,
                                          self_ensemble=args.self_ensemble))
    return 0
