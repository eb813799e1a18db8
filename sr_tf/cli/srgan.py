"""The command line of train_srgan.py: the super-resolution family of the training runner (pretrain, gan, edsr,
wdsr), the ESRGAN / Real-ESRGAN commands (rrdb, realesrgan; `realesrgan.py`), and the `evaluate` and `demo`
commands."""

import argparse
import os

from sr_tf import specs
from sr_tf.cli import realesrgan
from sr_tf.cli.common import (
    add_log_interval,
    add_precision,
    float_range,
    int_range,
    pipeline_seed,
    positive_float,
    positive_int,
    run_command,
)
from sr_tf.cli.runner import Family, add_shared_options, apply_recipe, run_training, write_artifacts
from sr_tf.cli.sr_data import add_data_args, data_record, datasets
from sr_tf.cli.startup import add_verbose
from sr_tf.specs.sr import LEGACY_PRESETS, RECIPES
from sr_tf.weights_io import load_weights, save_weights

# The training commands: (help, the family they train, their default preset).
COMMANDS = {"pretrain": ("SRResNet pre-training (MSE)", "srresnet", "srresnet-x4"),
            "gan": ("SRGAN training", "srresnet", "srgan-x4"),
            "edsr": ("EDSR training (L1)", "edsr", LEGACY_PRESETS["edsr"]),
            "wdsr": ("WDSR training (L1)", "wdsr", LEGACY_PRESETS["wdsr"])}
ARCHITECTURE_FLAGS = ("scale", "num_filters", "num_res_blocks", "wdsr_type")


def command_presets(command):
    """{name: description} of the presets a training command can start from (its family's)."""
    family = COMMANDS[command][1]
    return {n: p.description for n, p in specs.PRESETS.items() if p.architecture.family == family}


def learning_rate(recipe):
    """The recipe's learning rate as a trainer takes it: a schedule for (boundaries, values), and a tenfold drop
    at `lr_decay_at` of the steps for a constant rate with `lr_decay_at` < 1."""
    from sr_tf.train import learning_rate_schedule

    if not isinstance(recipe.learning_rate, tuple) and recipe.lr_decay_at < 1:
        boundary = int(recipe.steps * recipe.lr_decay_at)
        return learning_rate_schedule(([boundary], [recipe.learning_rate, recipe.learning_rate / 10]))
    return learning_rate_schedule(recipe.learning_rate)


class SrFamily(Family):
    """pretrain, gan, edsr and wdsr as the training runner runs them."""

    score_text = "PSNR: {:.2f} dB"

    def __init__(self, command):
        self.command = command

    def prepare(self, args):
        preset = specs.preset(COMMANDS[self.command][2] if args.preset is None else args.preset)
        flags = {k: getattr(args, k, None) for k in ARCHITECTURE_FLAGS}
        if self.command == "gan" and args.generator != "srresnet":  # SRGAN training of an EDSR or WDSR generator
            preset = specs.preset(LEGACY_PRESETS[args.generator])
        elif not isinstance(preset.architecture, specs.Wdsr):
            flags.pop("wdsr_type")
        self.architecture = preset.architecture.replace(**{k: v for k, v in flags.items() if v is not None})
        args.scale = self.architecture.scale
        recipe = RECIPES[self.command] if args.preset is None else preset.recipe
        self.recipe = apply_recipe(args, recipe)
        self.reference = preset.architecture
        self.run = self.recipe.run_name(self.architecture, reference=self.reference)

    def build_trainer(self, args, checkpoint_dir, strategy):
        from sr_tf.cli.common import trainer_options
        from sr_tf.models import srgan
        from sr_tf.train import PixelLossTrainer, SrganTrainer

        common = dict(trainer_options(args, strategy), data=data_record(args, args.scale))
        rate = learning_rate(self.recipe)
        with strategy.scope():
            generator = self.architecture.build()
            if self.command != "gan":
                return PixelLossTrainer(generator, self.recipe.loss, rate, checkpoint_dir, **common)
            if args.generator_weights is None:
                pretrain, reference = RECIPES["pretrain"], self.reference
                args.generator_weights = os.path.join(pretrain.weights_folder(self.architecture, None, reference),
                                                      pretrain.legacy_name(self.architecture, None, reference))
            if args.generator_weights:
                load_weights(generator, args.generator_weights)
            discriminator = srgan.discriminator(num_filters=64, hr_size=96)
            vgg_weights = None if args.vgg_weights == "none" else args.vgg_weights
            return SrganTrainer(generator, discriminator, checkpoint_dir, content_loss=args.content_loss,
                                learning_rate=rate, vgg_weights=vgg_weights, **common)

    def datasets(self, args, trainer):
        return datasets(args, args.scale, seed=pipeline_seed(args.seed, trainer))

    def train_options(self, args):
        save_best_only = self.recipe.save_best_only if args.save_best_only is None else args.save_best_only
        return {"save_best_only": save_best_only and (args.valid_hr_dir is not None or args.hr_dir is None)}

    def write(self, args, trainer):
        model = trainer.models["generator" if self.command == "gan" else "model"]
        folder, name, legacy = self.destination(args)
        paths = write_artifacts(folder, name, model, legacy=legacy)
        if self.command == "gan":
            stem = name.replace("generator", "discriminator") if "generator" in name else f"{name}_discriminator"
            for path in (os.path.join(folder, f"{stem}.weights.h5"), os.path.join(folder, f"{stem}.h5")):
                save_weights(trainer.models["discriminator"], path)
                paths.append(path)
        return paths


def run_training_command(args):
    """Runs a training subcommand through the runner."""
    return run_training(SrFamily(args.command), args)


def add_model_args(p, wdsr_type):
    """The architecture options (None: the preset's value)."""
    p.add_argument("--num-filters", type=positive_int, default=None, help="default: the preset's")
    p.add_argument("--num-res-blocks", type=positive_int, default=None, help="default: the preset's")
    if wdsr_type:
        p.add_argument("--wdsr-type", choices=["a", "b"], default=None, help="WDSR-A or -B (default: the preset's)")


DATA_HELP = "training data: DIV2K (default), your folders (--hr-dir) or the bundled photos"


def parser():
    """The argument parser of train_srgan.py."""
    root = argparse.ArgumentParser(prog="train_srgan.py",
                                   description="Train and evaluate SRGAN, EDSR, WDSR, ESRGAN and Real-ESRGAN.")
    sub = root.add_subparsers(dest="command", required=True)
    for command, (help_text, family, preset) in COMMANDS.items():
        p = sub.add_parser(command, help=f"{help_text}; preset {preset} unless --preset")
        add_shared_options(p, command_presets(command), specs.preset(preset), ["div2k", "folder", "samples"],
                           DATA_HELP)
        p.set_defaults(data="div2k")
        add_data_args(p)
        add_model_args(p, wdsr_type=command in ("wdsr", "gan"))
        p.add_argument("--save-best-only", action=argparse.BooleanOptionalAction, default=None,
                       help="write periodic checkpoints only when validation PSNR improves (default: the recipe's, "
                            f"{RECIPES[command].save_best_only})")
        p.add_argument("--weights-out", default=None, help="the legacy .h5 file to write (the .keras and "
                                                           ".weights.h5 files go beside it; default: the tutorial's "
                                                           "path)")
        if command == "gan":
            p.add_argument("--generator", choices=["srresnet", "edsr", "wdsr"], default="srresnet")
            p.add_argument("--generator-weights", default=None,
                           help="pre-trained generator weights ('' to start from scratch; default: what "
                                "pretrain wrote at this scale, weights/srgan[-x<scale>]/pre_generator.h5)")
            p.add_argument("--content-loss", choices=["VGG22", "VGG54"], default="VGG54")
            p.add_argument("--vgg-weights", default="imagenet", help="'imagenet', a local file, or 'none'")
    p = sub.add_parser("evaluate", help="PSNR/SSIM of a model next to bicubic")
    p.add_argument("--data", choices=["div2k", "folder", "samples"], default="div2k", help=DATA_HELP)
    add_data_args(p)
    add_model_args(p, wdsr_type=True)
    p.add_argument("--model", choices=["srgan", "edsr", "wdsr"], help="the family of .h5 weights (a .keras file "
                                                                     "carries its own)")
    p.add_argument("--weights", required=True, help="a .keras model, or .h5 / .weights.h5 weights (with --model)")
    p.add_argument("--tile", type=positive_int, default=None)
    p.add_argument("--limit", type=positive_int, default=None, help="evaluate only the first N images")
    p.add_argument("--benchmark", metavar="DIR", help="benchmark sets (Set5/HR/*.png [Set5/LR_bicubic/X4/*.png], "
                                                      "...): per-set Y-PSNR/SSIM next to MATLAB bicubic")
    p.add_argument("--self-ensemble", action="store_true", help="also score the 8-way self-ensemble (model+)")
    add_demo_parser(sub)
    realesrgan.add_parsers(sub, DATA_HELP)
    return add_verbose(root)


def add_demo_parser(sub):
    """The `demo` command: its options default to the 'demo' preset."""
    demo = specs.preset("demo")
    defaults = dict(scale=demo.architecture.scale, num_filters=demo.architecture.num_filters,
                    num_res_blocks=demo.architecture.num_res_blocks, steps=demo.recipe.steps,
                    batch_size=demo.recipe.batch_size, evaluate_every=demo.recipe.evaluate_every,
                    learning_rate=demo.recipe.learning_rate, lr_decay_at=demo.recipe.lr_decay_at)
    kinds = dict(scale=int_range(2, 8), learning_rate=positive_float,
                 lr_decay_at=float_range(0.0, 1.0, high_open=False))
    p = sub.add_parser("demo", help="offline demo: train on bundled photos, compare with bicubic (preset 'demo')")
    for name, value in defaults.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=kinds.get(name, positive_int), default=value,
                       help="default %(default)s")
    p.add_argument("--seed", type=int, default=0, help="default %(default)s")
    p.add_argument("--checkpoint-dir", default=demo.recipe.checkpoint_dir(demo.architecture),
                   help="default %(default)s")
    p.add_argument("--weights-dir", default=None, help=f"default {demo.recipe.weights_folder(demo.architecture)}")
    p.add_argument("--weights-out", default=None, help="the legacy .h5 file (the .keras and .weights.h5 files go "
                                                       "beside it)")
    p.add_argument("--output", default="demo_output/chelsea_bicubic_model_original.png", help="default %(default)s")
    p.add_argument("--degradation", choices=["bicubic", "realesrgan"], default="bicubic",
                   help="realesrgan: also train on Real-ESRGAN-degraded LR and compare both models on the "
                        "held-out photo degraded by an independent draw")
    p.add_argument("--jit", action="store_true")
    add_precision(p, "float32", "; auto: bfloat16 on CPUs with AMX or AVX-512 BF16, float16 on GPUs with tensor "
                                "cores, else float32")
    add_log_interval(p)


def main(argv=None):
    """Entry point of train_srgan.py; returns the exit status."""
    args = parser().parse_args(argv)  # before TensorFlow loads: --help answers at once
    from sr_tf.cli.sr_demo import run_demo
    from sr_tf.cli.sr_evaluate import run_evaluate

    commands = {"evaluate": run_evaluate, "demo": run_demo, **{c: realesrgan.run for c in realesrgan.COMMANDS}}
    return run_command(commands.get(args.command, run_training_command), args)
