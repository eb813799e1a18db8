"""The command line of train_fastgan.py: training on a folder (or the bundled photos), generating, FID/KID."""

import argparse
import os

import numpy as np

from sr_tf import specs
from sr_tf.cli.common import (
    float_range,
    int_range,
    load_keras_file,
    nonnegative_int,
    pipeline_seed,
    positive_int,
    run_command,
    trainer_options,
)
from sr_tf.cli.runner import (
    Family,
    RunPlan,
    add_shared_options,
    run_training,
    unset_text,
    with_options,
    write_artifacts,
)
from sr_tf.cli.startup import add_verbose
from sr_tf.errors import InputFileNotFoundError, UserInputError
from sr_tf.outputs import check_file, check_folder_path
from sr_tf.specs.fastgan import IM_SIZES, RECON_LOSSES
from sr_tf.weights_io import save_weights

WEIGHTS_DIR = specs.FastGANRecipe.weights_dir


# The flags of the FastGAN spec's architecture and recipe fields that train_fastgan.py train sets.
ARCHITECTURE_FLAGS = ("im_size", "ngf", "ndf", "nz", "decoder_width")
RECIPE_FLAGS = ("policy", "recon_loss", "ema_decay", "sample_every")


def name_of_data(folder):
    """The training images as the checkpoint folder records them: the bundled samples or a folder's path."""
    from sr_tf.data.io import SAMPLES_DIR

    return "bundled samples" if os.path.abspath(folder) == SAMPLES_DIR else os.path.abspath(folder)


def data_name(folder):
    """The data's part of the run name: 'samples' or the folder's name."""
    from sr_tf.data.io import SAMPLES_DIR

    return "samples" if os.path.abspath(folder) == SAMPLES_DIR else os.path.basename(os.path.normpath(folder))


class FastGANFamily(Family):
    """train_fastgan.py train as the training runner runs it: preset 'fastgan-256' (the official settings) with
    --data, the smoke demo 'fastgan-demo' on the bundled photos without; flags override either."""

    score_text = "FID: {:.2f}"

    def plan(self, args):
        from sr_tf.data.io import SAMPLES_DIR
        preset = specs.preset(args.preset if args.preset is not None else
                              "fastgan-demo" if args.data is None else "fastgan-256")
        folder = SAMPLES_DIR if args.data is None else args.data
        architecture = preset.architecture.replace(**{k: getattr(args, k) for k in ARCHITECTURE_FLAGS
                                                      if getattr(args, k) is not None})
        recipe = with_options(preset.recipe, args, **{k: getattr(args, k) for k in RECIPE_FLAGS})
        chosen = unset_text(args, recipe, ("steps", "batch_size", "evaluate_every", *RECIPE_FLAGS))
        print(f"Preset {preset.name}: {architecture.describe()}" + (f"; {chosen}" if chosen else ""))
        if folder == SAMPLES_DIR:
            print(f"No --data: smoke demo on the 4 bundled photos in {SAMPLES_DIR}")
        return RunPlan(args, architecture, recipe, reference=preset.architecture, data=data_name(folder),
                       settings={"folder": folder})

    def build_trainer(self, plan, strategy):
        from sr_tf.metrics import inception_model
        from sr_tf.models import fastgan
        from sr_tf.train import FastGANTrainer
        with strategy.scope():
            generator = plan.architecture.build()
            discriminator = fastgan.discriminator(**plan.architecture.discriminator_arguments())
            discriminator.spec = plan.architecture
        args, recipe, folder = plan.options, plan.recipe, plan.settings["folder"]
        data = {"images": name_of_data(folder), "im_size": plan.architecture.im_size}
        inception = inception_model(args.inception_weights) if args.fid else None
        print(f"Generator {fastgan.count_trainable(generator):,} and discriminator "
              f"{fastgan.count_trainable(discriminator):,} trainable parameters; images from {folder} at "
              f"{plan.architecture.im_size} px; reconstruction loss {recipe.recon_loss}; "
              f"DiffAugment '{recipe.policy}'; "
              f"checkpoints in {plan.checkpoint_dir}")
        if recipe.recon_loss != "perceptual":
            print("(The paper's reconstruction loss is LPIPS on ImageNet VGG16: --recon-loss perceptual.)")
        return FastGANTrainer(generator, discriminator, plan.checkpoint_dir, policy=recipe.policy,
                              recon_loss=recipe.recon_loss, perceptual_weights=args.perceptual_weights,
                              learning_rate=recipe.learning_rate, beta_1=recipe.beta_1, beta_2=recipe.beta_2,
                              ema_decay=recipe.ema_decay, sample_every=recipe.sample_every, inception=inception,
                              seed=args.seed, data=data,
                              **trainer_options(plan, strategy))

    def datasets(self, plan, trainer):
        from sr_tf.data.gan import gan_dataset
        args, size = plan.options, plan.architecture.im_size
        dataset, files = gan_dataset(plan.settings["folder"], size, batch_size=plan.recipe.batch_size,
                                     cache_dir=args.cache_dir, seed=pipeline_seed(args.seed, trainer))
        print(f"{len(files)} training images")
        valid = gan_dataset(files, size, batch_size=32, shuffle=False, flip=False, repeat=False)[0] if args.fid \
            else None
        return dataset, valid

    def write(self, plan, trainer):
        return save_results(trainer, os.path.join(plan.folder, plan.run))


def run_train(args):
    """train: FastGAN on a folder; resumes from its checkpoint; writes the EMA generator and the discriminator."""
    return run_training(FastGANFamily(), args)


def save_results(trainer, prefix):
    """Writes `<prefix>-generator.keras` (the EMA generator with its spec), `-generator.weights.h5`,
    `-discriminator.weights.h5` and `-samples.png`, each atomically; returns their paths."""
    from sr_tf.data.io import image_grid, save_image

    folder, run = os.path.split(prefix)
    paths = write_artifacts(folder, f"{run}-generator", trainer.models["generator_ema"])
    paths.append(f"{prefix}-discriminator.weights.h5")
    save_weights(trainer.models["discriminator"], paths[-1])
    paths.append(f"{prefix}-samples.png")
    save_image(paths[-1], image_grid(trainer.samples(), columns=4))
    return paths


def load_generator(path):
    """A trained generator from a `.keras` file written by `train`."""
    return load_keras_file(path, "Generator", f"{WEIGHTS_DIR}/<name>-generator.keras", families=(specs.FastGAN.family,),
                           command="train_fastgan.py", model_name="fastgan_generator")


def run_generate(args):
    """generate: writes --n images of the EMA generator as PNG files into -o DIR; with --interpolate A,B one PNG
    strip of a latent walk to -o FILE; with --noise FILE.npy one image per latent vector of the file.

    Image i of a seed is drawn from (seed, i) alone, spatial noise included (the generator runs as its
    deterministic copy, `sr_tf.deploy.deploy_generator`), so a walk's ends equal `generate --seed A` / `--seed B`.
    """
    from sr_tf.data.io import image_grid, save_image
    from sr_tf.deploy import deploy_generator, latent_walk, noise_inputs, render

    if args.interpolate is not None and args.noise is not None:
        raise UserInputError("--interpolate and --noise choose the latent vectors in two ways; pass one.")
    if args.interpolate is None:
        check_folder_path(args.output)
    else:
        output = args.output if args.output.lower().endswith(".png") else os.path.join(args.output, "walk.png")
        check_file(output, args.overwrite, example="walk.png")
    generator = load_generator(args.weights)
    deployed = deploy_generator(generator, noise="input", batch_size=1)
    if args.interpolate is not None:
        seed_a, seed_b = args.interpolate
        frames = [render(deployed, inputs) for inputs in latent_walk(deployed, seed_a, seed_b, args.frames)]
        save_image(output, image_grid(np.stack(frames), columns=len(frames)))
        print(f"Wrote a walk of {len(frames)} frames from seed {seed_a} to seed {seed_b} to {output}")
        return 0
    inputs = [noise_inputs(deployed, args.seed, index=i) for i in range(args.n)]
    if args.noise is not None:
        z = load_noise(args.noise, int(deployed.inputs[0].shape[-1]))
        inputs = [[row[None], *noise_inputs(deployed, args.seed, index=i)[1:]] for i, row in enumerate(z)]
    os.makedirs(args.output, exist_ok=True)
    prefix = f"seed{args.seed}" if args.noise is None else os.path.splitext(os.path.basename(args.noise))[0]
    paths = [os.path.join(args.output, f"{prefix}-{i:05d}.png") for i in range(len(inputs))]
    kept = 0 if args.overwrite else sum(os.path.exists(p) for p in paths)
    for path, x in zip(paths, inputs):
        if args.overwrite or not os.path.exists(path):
            save_image(path, render(deployed, x))
    print(f"Wrote {len(inputs) - kept} images to {args.output}" +
          (f"; {kept} existed and were kept (--overwrite replaces them)" if kept else ""))
    return 0


def load_noise(path, nz):
    """Latent vectors (k, nz) float32 from a .npy file, with one-line errors naming the file and the shape."""

    if not os.path.isfile(path):
        raise InputFileNotFoundError(f"Noise file not found: {path}")
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise UserInputError(f"{path} is not a .npy array file ({' '.join(str(e).split())[:100]})") from None
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 or z.shape[1] != nz or len(z) == 0 or not np.issubdtype(z.dtype, np.number):
        raise UserInputError(f"{path} must hold latent vectors of shape (k, {nz}) (or ({nz},)) for this generator. "
                             f"Received: shape {z.shape}, dtype {z.dtype}")
    if not np.all(np.isfinite(z)):
        raise UserInputError(f"{path} holds NaN or infinite values.")
    return z.astype(np.float32)


def seed_pair(text):
    """An argparse `type=` for A,B (two integer seeds)."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return int(parts[0]), int(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two integer seeds A,B. Received: {text!r}") from None


def run_evaluate(args):
    """evaluate: FID and KID between generated images and a folder's images (resized to the model's size)."""
    import keras

    from sr_tf.data.gan import decode_resized
    from sr_tf.data.io import readable_images
    from sr_tf.inference import generate_images
    from sr_tf.metrics import frechet_distance, inception_features, inception_model, kernel_distance

    generator = load_generator(args.weights)
    size = int(generator.output_shape[0][1])
    files = readable_images(args.path)
    real = decode_resized(files, size)
    n = len(real) if args.n is None else args.n
    if n < 2 or len(real) < 2:
        raise UserInputError(f"FID needs at least 2 images per set; {args.path} has {len(real)}, --n is {n}.")
    model = inception_model(args.inception_weights)
    keras.utils.set_random_seed(args.seed)
    fake = generate_images(generator, n, seed=args.seed)
    real_features, fake_features = inception_features(real, model), inception_features(fake, model)
    fid_value = frechet_distance(real_features, fake_features)
    kid_mean, kid_std = kernel_distance(real_features, fake_features)
    print(f"{n} generated vs {len(real)} real images ({size}x{size}): FID {fid_value:.6g}   "
          f"KID {kid_mean:.6g} +- {kid_std:.3g}")
    return 0


def parser():
    """The command-line parser of train_fastgan.py."""
    root = argparse.ArgumentParser(prog="train_fastgan.py", description="Train FastGAN, generate, evaluate FID/KID.")
    sub = root.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train FastGAN on a folder of images; re-running resumes")
    presets = {n: d for n, d in specs.presets().items() if isinstance(specs.PRESETS[n].architecture, specs.FastGAN)}
    add_shared_options(p, presets, specs.preset("fastgan-256"),
                       data_help="folder of training images (recursive; PNG, JPEG, WebP). Default: a "
                                             "smoke demo on the bundled photos at 64 px (preset fastgan-demo)",
                       data_aliases=("--path",), aliases={"steps": ("--iterations",),
                                                          "evaluate_every": ("--checkpoint-every",)})
    official, demo = specs.preset("fastgan-256"), specs.preset("fastgan-demo")

    def option(name, help, type=int, **kwargs):
        """An option of the spec's architecture or recipe; its help shows the official and demo presets' values."""
        source = "architecture" if name in ARCHITECTURE_FLAGS else "recipe"
        values = [getattr(getattr(preset, source), name) for preset in (official, demo)]
        default = f"default {values[0]}" + (f"; smoke demo {values[1]}" if values[1] != values[0] else "")
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type, help=f"{help} ({default})", **kwargs)

    option("im_size", help="image side", choices=IM_SIZES)
    option("ngf", type=positive_int, help="generator width")
    option("ndf", type=positive_int, help="discriminator width")
    option("nz", type=positive_int, help="noise length")
    option("decoder_width", type=positive_int, help="width of the discriminator's decoders")
    option("policy", type=str, help="DiffAugment: subset of color,translation,cutout")
    option("recon_loss", type=str, choices=RECON_LOSSES,
           help="decoders' reconstruction loss; 'perceptual' (the paper's, VGG16 features) needs ImageNet VGG16 "
                "weights, downloaded or from --perceptual-weights ('l1' works offline)")
    p.add_argument("--perceptual-weights", help="local vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 for "
                                                "--recon-loss perceptual")
    option("ema_decay", type=float_range(0.0, 1.0, low_open=False), help="generator EMA decay, 0 <= d < 1")
    option("sample_every", type=nonnegative_int, help="iterations between sample grids, 0: never")
    p.add_argument("--cache-dir", help="folder for the tf.data cache of the resized images (default: memory)")
    p.add_argument("--fid", action="store_true", help="FID against the training images at every checkpoint; "
                                                      "keep the best (needs InceptionV3 weights)")
    p.add_argument("--inception-weights", default="imagenet",
                   help="'imagenet' (download) or a local inception_v3_..._notop.h5 (for --fid)")

    default_weights = os.path.join(WEIGHTS_DIR, "fastgan-samples-64-generator.keras")
    p = sub.add_parser("generate", help="write images of a trained (EMA) generator")
    p.add_argument("--weights", default=default_weights, help="a -generator.keras file written by train")
    p.add_argument("--n", type=positive_int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", default="generated", help="output folder (with --interpolate: a .png file)")
    p.add_argument("--interpolate", type=seed_pair, metavar="A,B",
                   help="a latent walk from image 0 of seed A to image 0 of seed B (spherical interpolation)")
    p.add_argument("--frames", type=int_range(2), default=8, help="frames of the walk (default %(default)s)")
    p.add_argument("--noise", metavar="FILE.npy", help="latent vectors (k, nz) to generate from, one image each")
    p.add_argument("--overwrite", action="store_true", help="replace images (or the walk's .png) that exist")

    p = sub.add_parser("evaluate", help="FID and KID of a trained generator against a folder of images")
    p.add_argument("--weights", default=default_weights, help="a -generator.keras file written by train")
    p.add_argument("--data", "--path", dest="path", required=True, help="folder of real images")
    p.add_argument("--n", type=int_range(2), help="generated images (default: as many as real ones)")
    p.add_argument("--inception-weights", default="imagenet",
                   help="'imagenet' (download) or a local inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
    p.add_argument("--seed", type=int, default=0)
    return add_verbose(root)


def main(argv=None):
    """Entry point of train_fastgan.py; returns the exit status."""
    args = parser().parse_args(argv)
    return run_command({"train": run_train, "generate": run_generate, "evaluate": run_evaluate}[args.command], args)
