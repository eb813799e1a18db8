"""The one training runner behind every training command (train_srgan.py's, train_pixelcnn.py train and
train_fastgan.py train): the options they share, defined once with the same names, and the run itself.

A family plugs in as a `Family` subclass: its own options, how its preset, architecture and recipe follow from the
arguments, its trainer, its data and the models its run writes. The runner does the rest in one order for all:
strategy, seed, precision, trainer (which resumes), data, training, the best checkpoint by validation score, and
the final artifacts `<artifact>.keras` + `<artifact>.weights.h5` (+ the legacy `.h5` where the family has one),
each written atomically and listed at the end.
"""

import argparse
import os

from sr_tf.cli.common import (
    add_training_options,
    chosen_precision,
    fill_unset,
    finish_worker,
    interrupted_status,
    positive_int,
)
from sr_tf.errors import UserInputError
from sr_tf.specs.base import checkpoint_folder
from sr_tf.weights_io import save_model, save_weights

SHARED_OPTIONS = ("data", "steps", "batch_size", "evaluate_every", "seed", "checkpoint_dir", "weights_dir",
                  "keep_best", "resume", "preset")


def add_shared_options(parser, presets, default, data_choices=None, data_help="", data_aliases=(), aliases=None):
    """The options every training command has, with the same names: --preset, --data (plus `data_aliases`, the
    family's older names), --steps, --batch-size, --evaluate-every, --seed, --checkpoint-dir, --weights-dir,
    --keep-best, --resume, and the strategy, precision and progress options (`add_training_options`).

    Unset values are None: the preset's recipe fills them (`apply_recipe`), so their defaults live in the spec; the
    help texts show those of the `default` preset (a `Preset`).
    `aliases` maps an option's name to the family's older flags for it, e.g. {"steps": ("--iterations",)}.
    """
    aliases = aliases or {}
    recipe = default.recipe

    def preset_default(name):
        return f"default: the preset's, {getattr(recipe, name):,} for {default.name}"

    parser.add_argument("--preset", choices=sorted(presets), default=None,
                        help=f"named settings (architecture and recipe) to start from (default {default.name}): " +
                             "; ".join(f"{name}: {text}" for name, text in sorted(presets.items())))
    parser.add_argument("--data", *data_aliases, dest="data", choices=data_choices, help=data_help)
    parser.add_argument("--steps", *aliases.get("steps", ()), dest="steps", type=positive_int,
                        help=f"training steps ({preset_default('steps')})")
    parser.add_argument("--batch-size", type=positive_int, help=f"examples per step ({preset_default('batch_size')})")
    parser.add_argument("--evaluate-every", *aliases.get("evaluate_every", ()), dest="evaluate_every",
                        type=positive_int,
                        help=f"steps between evaluations and checkpoints ({preset_default('evaluate_every')})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the input pipeline "
                                                             "(default %(default)s)")
    parser.add_argument("--checkpoint-dir", help="default: .ckpt/<run name>")
    parser.add_argument("--weights-dir", help="folder of the final artifacts (default: the preset's)")
    parser.add_argument("--keep-best", action=argparse.BooleanOptionalAction, default=True,
                        help="write the checkpoint with the best validation score (PSNR, bits/dim, or FID with "
                             "--fid), not the last (default: on; the last where there is no score)")
    parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                        help="continue from the checkpoint folder's newest checkpoint (default: on; --no-resume "
                             "refuses a folder that holds checkpoints already)")
    add_training_options(parser)


def apply_recipe(args, recipe):
    """Fills the shared options the user left unset from `recipe`; returns the recipe with the user's values."""
    fill_unset(args, {name: getattr(recipe, name) for name in ("steps", "batch_size", "evaluate_every")})
    return recipe.replace(steps=args.steps, batch_size=args.batch_size, evaluate_every=args.evaluate_every)


def check_resume(args, checkpoint_dir):
    """With --no-resume, a folder that holds checkpoints already is an error (a new run never continues an old
    one unnoticed)."""
    if not args.resume and os.path.exists(os.path.join(checkpoint_dir, "checkpoint")):
        raise UserInputError(f"{checkpoint_dir} holds checkpoints of an earlier run and --no-resume was given; "
                             "choose another --checkpoint-dir, or delete that folder.")


def note_earlier_folder(family, checkpoint_dir):
    """Says so when the folder earlier versions gave this run (its name without the settings that differ from
    the preset) holds checkpoints and the run's own folder does not: that folder may hold another architecture,
    so it is not resumed unless named."""
    earlier = family.recipe.checkpoint_dir(family.architecture, family.data)
    if (earlier != checkpoint_dir and os.path.exists(os.path.join(earlier, "checkpoint"))
            and not os.path.exists(os.path.join(checkpoint_dir, "checkpoint"))):
        print(f"Note: this run's checkpoints go to {checkpoint_dir}; {earlier} (the name earlier versions gave "
              f"runs of this preset with any settings) is not resumed. To resume it: --checkpoint-dir {earlier}")


def write_artifacts(folder, name, model, legacy=None):
    """Writes `<folder>/<name>.keras` (the model with its spec) and `<name>.weights.h5`, and the legacy Keras-2
    `.h5` named `legacy` when given, each atomically; returns the paths."""
    from sr_tf.precision import with_precision

    if getattr(model, "spec", None) is not None:  # the files hold float32 models, whatever the run's precision
        model = with_precision(model, "float32")
    os.makedirs(folder or ".", exist_ok=True)
    paths = [os.path.join(folder, f"{name}.keras"), os.path.join(folder, f"{name}.weights.h5")]
    save_model(model, paths[0])
    save_weights(model, paths[1])
    if legacy is not None:
        paths.append(os.path.join(folder, legacy))
        save_weights(model, paths[-1])
    return paths


def destination(recipe, architecture, args, data=None, reference=None):
    """(folder, name, legacy file name or None) of a run's final files: `--weights-dir` or the recipe's folder, the
    recipe's artifact name and, for a recipe with a legacy `.h5` (super-resolution), its name; `--weights-out
    FILE.h5` (super-resolution) names the legacy file, and the others go beside it with its stem."""
    folder = recipe.weights_folder(architecture, data, reference) if args.weights_dir is None else args.weights_dir
    name = recipe.artifact_name(architecture, data, reference)
    legacy = recipe.legacy_name(architecture, data, reference) if hasattr(recipe, "legacy_name") else None
    if getattr(args, "weights_out", None) is not None:
        folder, legacy = os.path.split(args.weights_out)
        name = os.path.splitext(legacy)[0]
    return folder, name, legacy


def print_artifacts(paths):
    """Lists the files a command wrote."""
    print("Saved:\n" + "\n".join(f"  {path}" for path in paths))


class Family:
    """A model family's part of a training command (see the module docstring). Subclasses implement every
    method that raises `NotImplementedError`."""

    score_text = "score"  # how the best validation score prints, e.g. "PSNR {:.2f} dB"
    data = None  # the data's name in run and file names (PixelCNN's dataset, FastGAN's folder)
    reference = None  # the architecture of the preset the run started from (settings that differ name the run)

    def prepare(self, args):
        """Chooses the preset, architecture and recipe from the arguments (and reads the data it needs for that),
        after the strategy exists and before any model is built. Sets `self.architecture`, `self.recipe`,
        `self.run` (the run's name) and, where the run's names include the data's, `self.data`."""
        raise NotImplementedError

    def build_trainer(self, args, checkpoint_dir, strategy):
        """Builds the models in `strategy.scope()` and returns the trainer."""
        raise NotImplementedError

    def datasets(self, args, trainer):
        """(training dataset, validation dataset or None) for `trainer` (seed the pipeline with
        `pipeline_seed(args.seed, trainer)`, so a resumed run draws new batches)."""
        raise NotImplementedError

    def destination(self, args):
        """(folder, name, legacy name or None) of the run's final files (see the module's `destination`)."""
        return destination(self.recipe, self.architecture, args, self.data, self.reference)

    def train_options(self, args):
        """Extra keyword arguments of `trainer.train`."""
        return {}

    def write(self, args, trainer):
        """Writes the final artifacts; returns their paths."""
        raise NotImplementedError

    def after(self, args, trainer):
        """What the command does after writing (reports, samples); returns more paths it wrote."""
        return []


def run_training(family, args):
    """Runs a training command for `family`; returns the exit status (130 when stopped with Ctrl-C, 143 with
    SIGTERM: a checkpoint at the step reached was saved either way)."""
    import keras

    from sr_tf.precision import policy
    from sr_tf.train.distribute import check_global_batch, make_strategy

    strategy = make_strategy(args.strategy, args.collective_timeout)  # first (a multi-worker strategy must be)
    family.prepare(args)
    check_global_batch(args.batch_size, strategy)
    keras.utils.set_random_seed(args.seed)
    if args.mixed_precision:
        if args.precision not in ("float32", "float16"):
            raise UserInputError(f"--mixed-precision is --precision float16. Received: --precision {args.precision}")
        args.precision = "float16"
    args.precision = chosen = chosen_precision(args.precision)
    checkpoint_dir = checkpoint_folder(family.run) if args.checkpoint_dir is None else args.checkpoint_dir
    if args.checkpoint_dir is None:
        note_earlier_folder(family, checkpoint_dir)
    check_resume(args, checkpoint_dir)
    with policy(chosen):  # the models are built in the chosen precision
        trainer = family.build_trainer(args, checkpoint_dir, strategy)
        train_ds, valid_ds = family.datasets(args, trainer)
    trainer.train(train_ds, valid_ds, steps=args.steps, evaluate_every=args.evaluate_every,
                  **family.train_options(args))
    if trainer.interrupted:
        return interrupted_status(trainer.interrupted)
    if finish_worker(trainer):
        return 0
    if args.keep_best and valid_ds is not None:
        trainer.restore_best()
        print(f"Best validation {family.score_text.format(float(trainer.best_score.numpy()))}; writing that "
              "checkpoint's models.")
    paths = family.write(args, trainer)
    paths += family.after(args, trainer)
    print_artifacts(paths)
    return 0
