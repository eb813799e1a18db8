"""The one training runner behind every training command (train_srgan.py's, train_pixelcnn.py train and
train_fastgan.py train): the options they share, defined once with the same names, and the run itself.

A family plugs in as a `Family` subclass: its own options, how its preset, architecture and recipe follow from the
arguments, its trainer, its data and the models its run writes. The runner does the rest in one order for all:
strategy, the run's `RunPlan` (decided once from the parsed arguments, which are read-only from then on: every
later step reads the plan), seed, precision, trainer, restoring, data, training, the best checkpoint by validation
score, and the final artifacts `<artifact>.keras` + `<artifact>.weights.h5` (+ the legacy `.h5` where the family
has one), each written atomically and listed at the end.
"""

import argparse
import dataclasses
import os
import types

from sr_tf.cli.common import add_training_options, chosen_precision, finish_worker, interrupted_status, positive_int
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


class Options:
    """The parsed arguments of a command, read-only: `options.steps` reads as `args.steps` does, and setting one
    is an error (what a run decides from them goes into its `RunPlan`)."""

    def __init__(self, namespace):
        object.__setattr__(self, "_values", types.MappingProxyType(dict(vars(namespace))))

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no option {name!r}") from None

    def __setattr__(self, name, value):
        raise AttributeError(f"the options are read-only once parsed (setting {name!r}); decide it into the plan")


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """A training run, decided once before anything is built; the trainer, the datasets and the writers read it.

    Attributes:
        options: the parsed arguments (`Options`, read-only).
        architecture: the architecture spec trained.
        recipe: the recipe, with the user's steps, batch size, evaluation period and the family's own settings.
        reference: the architecture of the preset the run started from (settings that differ name the run).
        data: the data's name in the run's names (PixelCNN's dataset, FastGAN's folder), or None.
        settings: the family's own decisions (e.g. the LR degradation, the generator weights to start from), a
            read-only mapping.
        run, checkpoint_dir, precision: the run's name, its checkpoint folder, and the precision chosen.
        folder, name, legacy: where the final files go (`destination`).
    """

    options: Options
    architecture: object
    recipe: object
    reference: object = None
    data: str = None
    settings: types.MappingProxyType = dataclasses.field(default_factory=dict)
    run: str = None
    checkpoint_dir: str = None
    precision: str = None
    folder: str = None
    name: str = None
    legacy: str = None

    def __post_init__(self):
        object.__setattr__(self, "settings", types.MappingProxyType(dict(self.settings)))


def with_options(recipe, options, **more):
    """`recipe` with the steps, batch size and evaluation period the user set (None: the recipe's), and `more`."""
    return recipe.replace(steps=options.steps, batch_size=options.batch_size, evaluate_every=options.evaluate_every,
                          **more)


def unset_text(options, recipe, names=("steps", "batch_size", "evaluate_every")):
    """'--steps 1200, --batch-size 16' for the options of `names` the user left unset, as `recipe` fills them."""
    return ", ".join(f"--{k.replace('_', '-')} {getattr(recipe, k)}" for k in names if getattr(options, k) is None)


def plan_precision(options):
    """The precision a run trains in: --precision (auto: chosen and said in one line), --mixed-precision being
    float16."""
    if options.mixed_precision:
        if options.precision not in ("float32", "float16"):
            raise UserInputError(f"--mixed-precision is --precision float16. Received: --precision {options.precision}")
        return chosen_precision("float16")
    return chosen_precision(options.precision)


def complete_plan(family, plan):
    """The family's plan with the run's name, checkpoint folder, precision and destination, the one way for every
    family (`.ckpt/<run>` unless --checkpoint-dir)."""
    options = plan.options
    run = plan.recipe.run_name(plan.architecture, data=plan.data, reference=plan.reference)
    checkpoint_dir = checkpoint_folder(run) if options.checkpoint_dir is None else options.checkpoint_dir
    plan = dataclasses.replace(plan, run=run, checkpoint_dir=checkpoint_dir, precision=plan_precision(options))
    folder, name, legacy = family.destination(plan)
    return dataclasses.replace(plan, folder=folder, name=name, legacy=legacy)


def check_resume(plan):
    """With --no-resume, a folder that holds checkpoints already is an error (a new run never continues an old
    one unnoticed)."""
    checkpoint_dir = plan.checkpoint_dir
    if not plan.options.resume and os.path.exists(os.path.join(checkpoint_dir, "checkpoint")):
        raise UserInputError(f"{checkpoint_dir} holds checkpoints of an earlier run and --no-resume was given; "
                             "choose another --checkpoint-dir, or delete that folder.")


def note_earlier_folder(plan):
    """Says so when the folder earlier versions gave this run (its name without the settings that differ from
    the preset) holds checkpoints and the run's own folder does not: that folder may hold another architecture,
    so it is not resumed unless named."""
    checkpoint_dir = plan.checkpoint_dir
    earlier = plan.recipe.checkpoint_dir(plan.architecture, plan.data)
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


def destination(recipe, architecture, options, data=None, reference=None):
    """(folder, name, legacy file name or None) of a run's final files: `--weights-dir` or the recipe's folder, the
    recipe's artifact name and, for a recipe with a legacy `.h5` (super-resolution), its name; `--weights-out
    FILE.h5` (super-resolution) names the legacy file, and the others go beside it with its stem."""
    weights_dir = options.weights_dir
    folder = recipe.weights_folder(architecture, data, reference) if weights_dir is None else weights_dir
    name = recipe.artifact_name(architecture, data, reference)
    legacy = recipe.legacy_name(architecture, data, reference)
    if getattr(options, "weights_out", None) is not None:
        folder, legacy = os.path.split(options.weights_out)
        name = os.path.splitext(legacy)[0]
    return folder, name, legacy


def print_artifacts(paths):
    """Lists the files a command wrote."""
    print("Saved:\n" + "\n".join(f"  {path}" for path in paths))


class Family:
    """A model family's part of a training command (see the module docstring). Subclasses implement every
    method that raises `NotImplementedError`; each reads the run's `RunPlan`, never the parsed arguments' bag."""

    score_text = "score"  # how the best validation score prints, e.g. "PSNR {:.2f} dB"

    def plan(self, options):
        """The run's `RunPlan` as the family decides it from `options` (read-only): preset, architecture, recipe,
        the data's name and the family's own settings (reading the data it needs for that), after the strategy
        exists and before any model is built. The runner adds the run's name, folders and precision."""
        raise NotImplementedError

    def build_trainer(self, plan, strategy):
        """Builds the models in `strategy.scope()` and returns the trainer (not restored yet)."""
        raise NotImplementedError

    def datasets(self, plan, trainer):
        """(training dataset, validation dataset or None) for `trainer` (seed the pipeline with
        `pipeline_seed(plan.options.seed, trainer)`, so a resumed run draws new batches)."""
        raise NotImplementedError

    def destination(self, plan):
        """(folder, name, legacy name or None) of the run's final files (see the module's `destination`)."""
        return destination(plan.recipe, plan.architecture, plan.options, plan.data, plan.reference)

    def train_options(self, plan):
        """Extra keyword arguments of `trainer.train`."""
        return {}

    def write(self, plan, trainer):
        """Writes the final artifacts; returns their paths."""
        raise NotImplementedError

    def after(self, plan, trainer):
        """What the command does after writing (reports, samples); returns more paths it wrote."""
        return []


def run_training(family, args):
    """Runs a training command for `family`; returns the exit status (130 when stopped with Ctrl-C, 143 with
    SIGTERM: a checkpoint at the step reached was saved either way)."""
    import keras

    from sr_tf.precision import policy
    from sr_tf.train.distribute import check_global_batch, make_strategy

    options = Options(args)
    strategy = make_strategy(options.strategy, options.collective_timeout)  # first (a multi-worker strategy must be)
    plan = complete_plan(family, family.plan(options))
    check_global_batch(plan.recipe.batch_size, strategy)
    keras.utils.set_random_seed(options.seed)
    if options.checkpoint_dir is None:
        note_earlier_folder(plan)
    check_resume(plan)
    with policy(plan.precision):  # the models are built in the chosen precision
        trainer = family.build_trainer(plan, strategy)
        trainer.restore()
        train_ds, valid_ds = family.datasets(plan, trainer)
    trainer.train(train_ds, valid_ds, steps=plan.recipe.steps, evaluate_every=plan.recipe.evaluate_every,
                  **family.train_options(plan))
    if trainer.interrupted:
        return interrupted_status(trainer.interrupted)
    if finish_worker(trainer):
        return 0
    if options.keep_best and valid_ds is not None:
        trainer.restore_best()
        print(f"Best validation {family.score_text.format(float(trainer.best_score.numpy()))}; writing that "
              "checkpoint's models.")
    paths = family.write(plan, trainer)
    paths += family.after(plan, trainer)
    print_artifacts(paths)
    return 0
