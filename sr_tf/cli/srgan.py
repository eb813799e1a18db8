"""The command line of train_srgan.py: data sources, models, trainers, weights paths, evaluation and the offline
demo."""

import argparse
import os

import keras
import tensorflow as tf

from sr_tf.cli.common import (EXIT_INTERRUPTED, add_log_interval, add_training_options, finish_worker, float_range,
                              int_range, make_training_strategy, pipeline_seed, positive_float, positive_int,
                              run_command, trainer_options)
from sr_tf.config import SR_DEMO, SR_RECIPES
from sr_tf.data import DIV2K, ImageFolder
from sr_tf.data.io import sample_files
from sr_tf.errors import UserInputError
from sr_tf.models import build_sr_model, srgan
from sr_tf.train import EdsrTrainer, SrganGeneratorTrainer, SrganTrainer, WdsrTrainer, enable_mixed_precision
from sr_tf.weights_io import load_weights, save_weights

SAMPLE_TRAIN = ("astronaut.png", "coffee.png", "rocket.png")
SAMPLE_HELD_OUT = "chelsea.png"


def default_paths(command, args):
    """The tutorial's checkpoint folder and weights path(s) for a training subcommand (SRGAN at a scale other
    than 4: `-x<scale>` folders, so they never mix with the x4 files)."""
    if command in ("pretrain", "gan"):
        suffix = "" if args.scale == 4 else f"-x{args.scale}"
        folder = f"weights/srgan{suffix}"
        if command == "pretrain":
            return SR_RECIPES[command].checkpoint_dir + suffix, {"model": f"{folder}/pre_generator.h5"}
        return SR_RECIPES[command].checkpoint_dir + suffix, {"generator": f"{folder}/gan_generator.h5",
                                                             "discriminator": f"{folder}/gan_discriminator.h5"}
    name = f"{'edsr' if command == 'edsr' else 'wdsr-' + args.wdsr_type}-{args.num_res_blocks}-x{args.scale}"
    return f".ckpt/{name}", {"model": f"weights/{name}/weights.h5"}


def datasets(args, scale, hr_crop_size=96, seed=None):
    """(train dataset, validation dataset) from DIV2K, the user's folders, or the bundled samples; `seed` seeds
    the training pipeline's crops, flips and order."""
    if args.data == "folder" and args.hr_dir is None:
        raise UserInputError("--data folder needs --hr-dir.")
    degradation = "bicubic" if args.degradation is None else args.degradation
    if args.data == "samples":
        train = ImageFolder(sample_files(SAMPLE_TRAIN), scale=scale, hr_crop_size=hr_crop_size, crop_to_scale=True,
                            degradation=degradation)
        valid = ImageFolder(sample_files([SAMPLE_HELD_OUT]), scale=scale, hr_crop_size=hr_crop_size,
                            crop_to_scale=True, degradation=degradation)
    elif args.hr_dir is not None:
        train = ImageFolder(args.hr_dir, scale=scale, lr_dir=args.lr_dir, hr_crop_size=hr_crop_size,
                            crop_to_scale=args.crop_to_scale, caches_dir=args.caches_dir, skip_unreadable=True,
                            degradation=degradation)
        valid = None
        if args.valid_hr_dir:
            valid = ImageFolder(args.valid_hr_dir, scale=scale, lr_dir=args.valid_lr_dir, hr_crop_size=hr_crop_size,
                                crop_to_scale=args.crop_to_scale, skip_unreadable=True,
                                degradation="bicubic" if args.valid_lr_dir else degradation)
    else:
        kwargs = dict(scale=scale, downgrade=args.downgrade, images_dir=args.images_dir, caches_dir=args.caches_dir,
                      hr_crop_size=hr_crop_size, degradation=args.degradation)
        train, valid = DIV2K(subset="train", **kwargs), DIV2K(subset="valid", **kwargs)
    train_ds = train.dataset(batch_size=args.batch_size, random_transform=True, seed=seed)
    valid_ds = None
    if valid is not None:  # the tutorial validates on the first 10 validation images
        valid_ds = valid.dataset(batch_size=1, random_transform=False, repeat_count=1).take(10)
    return train_ds, valid_ds


def _build_generator(kind, args, scale):
    return build_sr_model("srgan" if kind == "srresnet" else kind, scale=scale, num_filters=args.num_filters,
                          num_res_blocks=args.num_res_blocks, wdsr_type=getattr(args, "wdsr_type", "b"))


def data_record(args, scale):
    """What the training data are, as the checkpoint folder records them (resuming on other data is an error)."""
    def where(path):
        return None if path is None else os.path.abspath(path)

    extra = {} if args.degradation is None else {"degradation": args.degradation}
    if args.data == "samples":
        return {"source": "bundled samples", "scale": scale, **extra}
    if args.hr_dir is not None:
        return {"source": "folder", "hr_dir": where(args.hr_dir), "lr_dir": where(args.lr_dir), "scale": scale,
                "crop_to_scale": args.crop_to_scale, **extra}
    return {"source": "DIV2K", "scale": scale, "downgrade": args.downgrade, **extra}


def build_trainer(command, args, checkpoint_dir, strategy=None):
    """Builds the models (in the strategy's scope) and the trainer for a training subcommand."""
    scale = args.scale
    common = dict(trainer_options(args, strategy), data=data_record(args, scale))
    with (strategy or tf.distribute.get_strategy()).scope():
        if command == "pretrain":
            return SrganGeneratorTrainer(_build_generator("srresnet", args, args.scale), checkpoint_dir, **common)
        if command == "edsr":
            return EdsrTrainer(_build_generator("edsr", args, args.scale), checkpoint_dir, **common)
        if command == "wdsr":
            return WdsrTrainer(_build_generator("wdsr", args, args.scale), checkpoint_dir, **common)
        generator = _build_generator(args.generator, args, args.scale)
        if args.generator_weights is None:
            args.generator_weights = default_paths("pretrain", args)[1]["model"]
        if args.generator_weights:
            load_weights(generator, args.generator_weights)
        discriminator = srgan.discriminator(num_filters=64, hr_size=96)
        vgg_weights = None if args.vgg_weights == "none" else args.vgg_weights
        return SrganTrainer(generator, discriminator, checkpoint_dir, content_loss=args.content_loss,
                            vgg_weights=vgg_weights, **common)


def run_training(command, args):
    """Runs a training subcommand; returns the exit status (130 when interrupted with Ctrl-C)."""
    strategy = make_training_strategy(args)
    keras.utils.set_random_seed(args.seed)
    if args.mixed_precision:
        enable_mixed_precision()
    checkpoint_dir, weights = default_paths(command, args)
    if args.checkpoint_dir is not None:
        checkpoint_dir = args.checkpoint_dir
    if args.weights_out:
        weights = {"model": args.weights_out} if len(weights) == 1 else {
            "generator": args.weights_out,
            "discriminator": args.weights_out.replace("generator", "discriminator")
            if "generator" in args.weights_out else os.path.splitext(args.weights_out)[0] + "_discriminator.h5"}
    trainer = build_trainer(command, args, checkpoint_dir, strategy)
    train_ds, valid_ds = datasets(args, args.scale, seed=pipeline_seed(args.seed, trainer))
    recipe = SR_RECIPES[command]
    save_best_only = args.save_best_only if args.save_best_only is not None else recipe.save_best_only
    steps = args.steps if args.steps is not None else recipe.steps
    trainer.train(train_ds, valid_ds, steps=steps, evaluate_every=args.evaluate_every,
                  save_best_only=save_best_only and valid_ds is not None)
    if trainer.interrupted:
        return EXIT_INTERRUPTED
    if finish_worker(trainer):
        return 0
    if valid_ds is not None:
        trainer.restore_best()
        print(f"Best validation PSNR: {float(trainer.best_score.numpy()):.2f} dB")
    for name, path in weights.items():
        save_weights(trainer.models[name], path)
        print(f"Saved {name} weights to {path}")
    return 0


def _add_data_args(p):
    p.add_argument("--data", choices=["div2k", "folder", "samples"], default="div2k",
                   help="training data: DIV2K (default), your folders (--hr-dir) or the bundled photos")
    p.add_argument("--scale", type=int, choices=[2, 3, 4, 8], default=4)
    p.add_argument("--downgrade", default="bicubic", choices=["bicubic", "unknown", "mild", "difficult"])
    p.add_argument("--images-dir", default=".div2k/images")
    p.add_argument("--caches-dir", default=".div2k/caches")
    p.add_argument("--hr-dir", help="folder of HR training images (LR made by bicubic unless --lr-dir)")
    p.add_argument("--lr-dir", help="folder of LR images matching --hr-dir by file name")
    p.add_argument("--valid-hr-dir", help="folder of HR validation images")
    p.add_argument("--valid-lr-dir", help="folder of LR validation images")
    p.add_argument("--crop-to-scale", action="store_true", help="crop HR images to a multiple of the scale")
    p.add_argument("--degradation", choices=["bicubic", "matlab", "realesrgan"], default=None,
                   help="make LR from HR images: bicubic (folders' default), MATLAB bicubic, or Real-ESRGAN's "
                        "blur/resize/noise/JPEG model per patch (default for DIV2K: its downloaded LR images)")


def _add_model_args(p, num_filters, num_res_blocks):
    p.add_argument("--num-filters", type=positive_int, default=num_filters)
    p.add_argument("--num-res-blocks", type=positive_int, default=num_res_blocks)


def parser():
    """The argument parser of train_srgan.py."""
    root = argparse.ArgumentParser(prog="train_srgan.py", description="Train and evaluate SRGAN, EDSR and WDSR.")
    sub = root.add_subparsers(dest="command", required=True)
    for command, help_text in [("pretrain", "SRResNet pre-training (MSE)"), ("gan", "SRGAN training"),
                               ("edsr", "EDSR training (L1)"), ("wdsr", "WDSR training (L1)")]:
        p = sub.add_parser(command, help=help_text)
        _add_data_args(p)
        recipe = SR_RECIPES[command]
        _add_model_args(p, recipe.num_filters, recipe.num_res_blocks)
        p.add_argument("--steps", type=positive_int, default=None, help=f"total steps (default {recipe.steps:,})")
        p.add_argument("--batch-size", type=positive_int, default=recipe.batch_size, help="default %(default)s")
        p.add_argument("--evaluate-every", type=positive_int, default=recipe.evaluate_every,
                       help="default %(default)s")
        p.add_argument("--checkpoint-dir", default=None)
        p.add_argument("--save-best-only", action=argparse.BooleanOptionalAction, default=None,
                       help=f"keep checkpoints only when validation PSNR improves (default {recipe.save_best_only})")
        p.add_argument("--seed", type=int, default=0, help="seed of the weights and the input pipeline "
                                                              "(default %(default)s)")
        add_training_options(p)
        p.add_argument("--weights-out", default=None, help="weights file to write (default: the tutorial's path)")
        p.add_argument("--wdsr-type", choices=["a", "b"], default="b")
        if command == "gan":
            p.add_argument("--generator", choices=["srresnet", "edsr", "wdsr"], default="srresnet")
            p.add_argument("--generator-weights", default=None,
                           help="pre-trained generator weights ('' to start from scratch; default: what "
                                "pretrain wrote at this scale, weights/srgan[-x<scale>]/pre_generator.h5)")
            p.add_argument("--content-loss", choices=["VGG22", "VGG54"], default="VGG54")
            p.add_argument("--vgg-weights", default="imagenet", help="'imagenet', a local file, or 'none'")
    p = sub.add_parser("evaluate", help="PSNR/SSIM of a model next to bicubic")
    _add_data_args(p)
    _add_model_args(p, None, None)
    p.add_argument("--model", choices=["srgan", "edsr", "wdsr"], required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--wdsr-type", choices=["a", "b"], default="b")
    p.add_argument("--tile", type=positive_int, default=None)
    p.add_argument("--limit", type=positive_int, default=None, help="evaluate only the first N images")
    p.add_argument("--benchmark", metavar="DIR", help="benchmark sets (Set5/HR/*.png [Set5/LR_bicubic/X4/*.png], "
                                                      "...): per-set Y-PSNR/SSIM next to MATLAB bicubic")
    p.add_argument("--self-ensemble", action="store_true", help="also score the 8-way self-ensemble (model+)")
    p = sub.add_parser("demo", help="offline demo: train on bundled photos, compare with bicubic")
    for name in ("scale", "steps", "batch_size", "evaluate_every", "learning_rate", "lr_decay_at", "num_filters",
                 "num_res_blocks", "seed", "checkpoint_dir", "weights_out", "output"):
        value = SR_DEMO[name]
        kind = {int: positive_int, float: positive_float}.get(type(value), type(value))
        if name == "seed":
            kind = int
        elif name == "scale":
            kind = int_range(2, 8)
        elif name == "lr_decay_at":
            kind = float_range(0.0, 1.0, high_open=False)
        p.add_argument(f"--{name.replace('_', '-')}", type=kind, default=value, help="default %(default)s")
    p.add_argument("--degradation", choices=["bicubic", "realesrgan"], default="bicubic",
                   help="realesrgan: also train on Real-ESRGAN-degraded LR and compare both models on the "
                        "held-out photo degraded by an independent draw")
    p.add_argument("--jit", action="store_true")
    add_log_interval(p)
    return root


def main(argv=None):
    """Entry point of train_srgan.py; returns the exit status."""
    args = parser().parse_args(argv)
    if args.command in ("evaluate", "demo"):
        from sr_tf.cli.sr_demo import run_demo
        from sr_tf.cli.sr_evaluate import run_evaluate

        return run_command(run_evaluate if args.command == "evaluate" else run_demo, args)
    return run_command(lambda a: run_training(a.command, a), args)
