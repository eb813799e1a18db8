"""The command line of train_srgan.py: the super-resolution family of the training runner (pretrain, gan, edsr,
wdsr), the ESRGAN / Real-ESRGAN commands (rrdb, realesrgan; `realesrgan.py`), and the `evaluate` and `demo`
commands."""

import argparse
import os

from sr_tf import specs
from sr_tf.cli import realesrgan
from sr_tf.cli.common import (
    add_architecture_flags,
    add_log_interval,
    add_precision,
    architecture_overrides,
    float_range,
    int_range,
    pipeline_seed,
    positive_float,
    positive_int,
    run_command,
)
from sr_tf.cli.runner import Family, RunPlan, add_shared_options, run_training, with_options, write_artifacts
from sr_tf.cli.sr_data import add_data_args, data_record, datasets
from sr_tf.cli.startup import add_verbose
from sr_tf.specs.base import family_names
from sr_tf.weights_io import load_weights, save_weights


def commands():
    """The training commands of the super-resolution families (each family's `commands`): {command: (help, the
    family, its default preset)}, e.g. 'edsr': ('EDSR training (L1)', 'edsr', 'edsr-16-x4')."""
    return {command: (text, cls.family, preset) for cls in specs.FAMILIES.values()
            for command, (text, preset) in cls.commands.items()}


def trained_families():
    """The family classes these commands train (those with `commands`)."""
    return [cls for cls in specs.FAMILIES.values() if cls.commands]


def command_presets(command):
    """{name: description} of the presets a training command can start from (its family's)."""
    family = commands()[command][1]
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
    """The super-resolution families' commands (pretrain, gan, edsr, wdsr, and any family's `commands`) as the
    training runner runs them: a recipe with the 'gan' loss trains SRGAN, any other the pixel loss."""

    score_text = "PSNR: {:.2f} dB"

    def __init__(self, command):
        self.command = command

    def plan(self, options):
        default = commands()[self.command][2]
        preset = specs.preset(default if options.preset is None else options.preset)
        recipe = specs.preset(default).recipe if options.preset is None else preset.recipe
        generator = getattr(options, "generator", None)
        if recipe.loss == "gan" and generator is not None and generator != preset.architecture.family:
            preset = specs.preset(specs.family_by_name(generator).default_preset)  # SRGAN of an EDSR or WDSR
        architecture = preset.architecture.replace(**architecture_overrides(options, type(preset.architecture)))
        recipe = with_options(recipe, options, content_loss=getattr(options, "content_loss", None))
        settings = {"data": data_record(options, architecture.scale)}
        if recipe.loss == "gan":
            settings["generator_weights"] = self.generator_weights(options, architecture, preset.architecture)
        return RunPlan(options, architecture, recipe, reference=preset.architecture, settings=settings)

    @staticmethod
    def generator_weights(options, architecture, reference):
        """The weights SRGAN's generator starts from: --generator-weights ('' none), else what pretrain wrote."""
        if options.generator_weights is not None:
            return options.generator_weights
        pretrain = specs.preset(specs.Srresnet.commands["pretrain"][1]).recipe
        return os.path.join(pretrain.weights_folder(architecture, None, reference),
                            pretrain.legacy_name(architecture, None, reference))

    def build_trainer(self, plan, strategy):
        from sr_tf.cli.common import trainer_options
        from sr_tf.models import srgan
        from sr_tf.train import PixelLossTrainer, SrganTrainer

        common = dict(trainer_options(plan, strategy), data=plan.settings["data"])
        rate = learning_rate(plan.recipe)
        with strategy.scope():
            generator = plan.architecture.build()
            if plan.recipe.loss != "gan":
                return PixelLossTrainer(generator, plan.recipe.loss, rate, plan.checkpoint_dir, **common)
            if plan.settings["generator_weights"]:
                load_weights(generator, plan.settings["generator_weights"])
            discriminator = srgan.discriminator(num_filters=64, hr_size=96)
            vgg_weights = None if plan.options.vgg_weights == "none" else plan.options.vgg_weights
            return SrganTrainer(generator, discriminator, plan.checkpoint_dir, learning_rate=rate,
                                vgg_weights=vgg_weights, recipe=plan.recipe, **common)

    def datasets(self, plan, trainer):
        return datasets(plan, plan.architecture.scale, seed=pipeline_seed(plan.options.seed, trainer))

    def train_options(self, plan):
        options = plan.options
        save_best_only = plan.recipe.save_best_only if options.save_best_only is None else options.save_best_only
        return {"save_best_only": save_best_only and (options.valid_hr_dir is not None or options.hr_dir is None)}

    def write(self, plan, trainer):
        gan = plan.recipe.loss == "gan"
        folder, name = plan.folder, plan.name
        paths = write_artifacts(folder, name, trainer.models["generator" if gan else "model"], legacy=plan.legacy)
        if gan:
            stem = name.replace("generator", "discriminator") if "generator" in name else f"{name}_discriminator"
            for path in (os.path.join(folder, f"{stem}.weights.h5"), os.path.join(folder, f"{stem}.h5")):
                save_weights(trainer.models["discriminator"], path)
                paths.append(path)
        return paths


def run_training_command(args):
    """Runs a training subcommand through the runner."""
    return run_training(SrFamily(args.command), args)


DATA_HELP = "training data: DIV2K (default), your folders (--hr-dir) or the bundled photos"


def parser():
    """The argument parser of train_srgan.py."""
    root = argparse.ArgumentParser(prog="train_srgan.py",
                                   description="Train and evaluate SRGAN, EDSR, WDSR, ESRGAN and Real-ESRGAN.")
    sub = root.add_subparsers(dest="command", required=True)
    for command, (help_text, family, preset) in commands().items():
        recipe = specs.preset(preset).recipe
        gan = recipe.loss == "gan"
        p = sub.add_parser(command, help=f"{help_text}; preset {preset} unless --preset")
        add_shared_options(p, command_presets(command), specs.preset(preset), ["div2k", "folder", "samples"],
                           DATA_HELP)
        p.set_defaults(data="div2k")
        add_data_args(p)
        add_architecture_flags(p, trained_families() if gan else [specs.family(family)])
        p.add_argument("--save-best-only", action=argparse.BooleanOptionalAction, default=None,
                       help="write periodic checkpoints only when validation PSNR improves (default: the recipe's, "
                            f"{recipe.save_best_only})")
        p.add_argument("--weights-out", default=None, help="the legacy .h5 file to write (the .keras and "
                                                           ".weights.h5 files go beside it; default: the tutorial's "
                                                           "path)")
        if gan:
            p.add_argument("--generator", choices=[cls.family for cls in trained_families()], default=family,
                           help="the generator's family (default %(default)s; another starts from its "
                                "published weights' architecture)")
            p.add_argument("--generator-weights", default=None,
                           help="pre-trained generator weights ('' to start from scratch; default: what "
                                "pretrain wrote at this scale, weights/srgan[-x<scale>]/pre_generator.h5)")
            p.add_argument("--content-loss", choices=["VGG22", "VGG54"], default=None,
                           help=f"VGG19 layer of the content loss (default: the recipe's, {recipe.content_loss})")
            p.add_argument("--vgg-weights", default="imagenet", help="'imagenet', a local file, or 'none'")
    p = sub.add_parser("evaluate", help="PSNR/SSIM of a model next to bicubic")
    p.add_argument("--data", choices=["div2k", "folder", "samples"], default="div2k", help=DATA_HELP)
    add_data_args(p)
    add_architecture_flags(p, specs.families(specs.SrArchitecture), "the published weights'")
    p.add_argument("--model", choices=family_names(specs.SrArchitecture),
                   help="the family of .h5 weights (a .keras file carries its own)")
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

    known = {"evaluate": run_evaluate, "demo": run_demo, **{c: realesrgan.run for c in realesrgan.COMMANDS}}
    return run_command(known.get(args.command, run_training_command), args)
