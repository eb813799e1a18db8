"""train_srgan.py's `rrdb` and `realesrgan` commands: ESRGAN and Real-ESRGAN training as a family of the training
runner, with the recipes of `sr_tf.specs.realesrgan` (the authors' option files)."""

from sr_tf import specs
from sr_tf.cli.common import (
    add_architecture_flags,
    architecture_overrides,
    pipeline_seed,
    positive_int,
    trainer_options,
)
from sr_tf.cli.runner import Family, RunPlan, add_shared_options, run_training, with_options, write_artifacts
from sr_tf.cli.sr_data import add_data_args, data_record, datasets
from sr_tf.errors import UserInputError
from sr_tf.specs.realesrgan import RECIPES, RealEsrganRecipe

# command -> (help, default preset); `realesrgan --gan-loss ragan` trains ESRGAN (preset esrgan-x4).
COMMANDS = {"rrdb": ("Real-ESRNet: the PSNR stage of Real-ESRGAN (L1 on degraded patches, EMA)",
                     "realesrnet-x4plus"),
            "realesrgan": ("Real-ESRGAN: L1 + VGG19 perceptual + GAN with the U-Net discriminator (or ESRGAN's "
                           "relativistic GAN with --gan-loss ragan)", "realesrgan-x4plus")}


def trained_families():
    """The families these commands train: those of the presets trained by a Real-ESRGAN recipe (RRDBNet and
    SRVGGNetCompact)."""
    return sorted({p.architecture.family for p in specs.PRESETS.values() if isinstance(p.recipe, RealEsrganRecipe)})


def load_generator_weights(model, path):
    """Loads `path` into `model`: a `.keras` model, Keras weights, or a PyTorch `.pth` / `.safetensors` of the
    same architecture (e.g. RealESRNet_x4plus.pth to start the GAN stage as the authors do)."""
    from sr_tf.models import PYTORCH_SUFFIXES, load_model
    from sr_tf.models.pytorch import detect, load_state_dict, read_weights
    from sr_tf.weights_io import load_weights

    if path.endswith(PYTORCH_SUFFIXES):
        state = read_weights(path)
        spec = detect(state, path)
        if spec != model.spec:
            raise UserInputError(f"{path} holds {spec.describe()}, but the run trains {model.spec.describe()}.")
        load_state_dict(model, state, path)
    elif path.endswith(".keras"):
        model.set_weights(load_model(path).get_weights())
    else:
        load_weights(model, path)


class RealEsrganFamily(Family):
    """rrdb and realesrgan as the training runner runs them."""

    score_text = "PSNR: {:.2f} dB"

    def __init__(self, command):
        self.command = command

    def plan(self, options):
        ragan = getattr(options, "gan_loss", None) == "ragan"
        default = "esrgan-x4" if ragan else COMMANDS[self.command][1]
        preset = specs.preset(default if options.preset is None else options.preset)
        if preset.architecture.family not in trained_families():
            raise UserInputError(f"{self.command} trains {' or '.join(trained_families())} presets; {preset.name} is "
                                 f"{preset.architecture.family}.")
        architecture = preset.architecture.replace(**architecture_overrides(options, type(preset.architecture)))
        recipe = with_options(RECIPES["esrgan" if ragan else self.command], options,
                              hr_crop_size=options.hr_crop_size)
        degradation = recipe.degradation if options.degradation is None else options.degradation
        settings = {"degradation": degradation, "data": data_record(options, architecture.scale, degradation)}
        return RunPlan(options, architecture, recipe, reference=preset.architecture, settings=settings)

    def build_trainer(self, plan, strategy):
        from sr_tf.models.realesrgan import unet_discriminator, vgg_style_discriminator
        from sr_tf.train import RealEsrganTrainer, RealEsrnetTrainer

        options, recipe = plan.options, plan.recipe
        common = dict(trainer_options(plan, strategy), data=plan.settings["data"], recipe=recipe)
        with strategy.scope():
            generator = plan.architecture.build()
            if options.generator_weights:
                load_generator_weights(generator, options.generator_weights)
            if self.command == "rrdb":
                return RealEsrnetTrainer(generator, plan.checkpoint_dir, **common)
            if recipe.discriminator == "unet":
                discriminator = unet_discriminator(num_feat=options.discriminator_features)
            else:
                discriminator = vgg_style_discriminator(options.discriminator_features, recipe.hr_crop_size)
            vgg_weights = None if options.vgg_weights == "none" else options.vgg_weights
            return RealEsrganTrainer(generator, discriminator, plan.checkpoint_dir, vgg_weights=vgg_weights,
                                     **common)

    def datasets(self, plan, trainer):
        return datasets(plan, plan.architecture.scale, hr_crop_size=plan.recipe.hr_crop_size,
                        seed=pipeline_seed(plan.options.seed, trainer))

    def train_options(self, plan):
        return {"save_best_only": False}

    def write(self, plan, trainer):
        paths = write_artifacts(plan.folder, plan.name, trainer.model)
        if self.command == "realesrgan":
            paths += write_artifacts(plan.folder, f"{plan.name}_discriminator", trainer.discriminator)[1:]
        return paths


def add_parsers(sub, data_help):
    """Adds the rrdb and realesrgan commands to train_srgan.py's subparsers."""
    for command, (help_text, preset) in COMMANDS.items():
        p = sub.add_parser(command, help=f"{help_text}; preset {preset} unless --preset")
        families = trained_families()
        add_shared_options(p, {n: s.description for n, s in specs.PRESETS.items()
                               if s.architecture.family in families}, specs.preset(preset),
                           ["div2k", "folder", "samples"], data_help)
        p.set_defaults(data="div2k")
        add_data_args(p)
        add_architecture_flags(p, [specs.family(name) for name in families])
        p.add_argument("--hr-crop-size", type=positive_int, default=None,
                       help="HR patch side (default: the recipe's, 256; ESRGAN's 128)")
        p.add_argument("--generator-weights", default=None,
                       help="weights to start from: .keras, .weights.h5, or the authors' .pth/.safetensors (the "
                            "GAN stage starts from the PSNR stage's, e.g. RealESRNet_x4plus.pth)")
        if command == "realesrgan":
            p.add_argument("--gan-loss", choices=["vanilla", "ragan"], default="vanilla",
                           help="vanilla: Real-ESRGAN (U-Net discriminator); ragan: ESRGAN (relativistic average "
                                "GAN, VGG-style discriminator, preset esrgan-x4)")
            p.add_argument("--discriminator-features", type=positive_int, default=64, help="default %(default)s")
            p.add_argument("--vgg-weights", default="imagenet",
                           help="VGG19 of the perceptual loss: 'imagenet' (Keras's), a local Keras file, "
                                "torchvision's vgg19-dcbb9e9d.pth (the authors'), or 'none' (random)")


def run(args):
    """Runs `rrdb` or `realesrgan` through the training runner."""
    return run_training(RealEsrganFamily(args.command), args)
