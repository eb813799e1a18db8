"""The command line of train_fastgan.py: training on a folder (or the bundled photos), generating, FID/KID."""

import argparse
import os

import keras
import numpy as np

from sr_tf.cli.common import (EXIT_INTERRUPTED, add_training_options, fill_unset, finish_worker, float_range,
                              int_range, load_keras_file, make_training_strategy, nonnegative_int, pipeline_seed,
                              positive_int, run_command, trainer_options)
from sr_tf.config import FASTGAN, FASTGAN_DEMO
from sr_tf.data.gan import decode_resized, gan_dataset
from sr_tf.data.io import SAMPLES_DIR, image_grid, readable_images, save_image
from sr_tf.errors import InputFileNotFoundError, UserInputError
from sr_tf.inference import generate_images
from sr_tf.losses import RECON_LOSSES
from sr_tf.metrics import frechet_distance, inception_features, inception_model, kernel_distance
from sr_tf.models import fastgan
from sr_tf.train import FastGANTrainer, enable_mixed_precision
from sr_tf.weights_io import save_model, save_weights

WEIGHTS_DIR = os.path.join("weights", "fastgan")


def resolve_defaults(args):
    """Fills unset options: the official ones with --path, the smoke demo's without (printed)."""
    demo = args.path is None
    chosen = fill_unset(args, FASTGAN_DEMO if demo else FASTGAN)
    if demo:
        args.path = SAMPLES_DIR
        print(f"No --path: smoke demo on the 4 bundled photos in {SAMPLES_DIR} with {chosen}")


def name_of_data(args):
    """The training images as the checkpoint folder records them: the bundled samples or a folder's path."""
    return "bundled samples" if os.path.abspath(args.path) == SAMPLES_DIR else os.path.abspath(args.path)


def run_name(args):
    """Name of the run's checkpoint folder and weights files, e.g. 'fastgan-samples-64'."""
    dataset = "samples" if os.path.abspath(args.path) == SAMPLES_DIR else os.path.basename(os.path.normpath(args.path))
    return f"fastgan-{dataset}-{args.im_size}"


def run_train(args):
    """train: FastGAN on a folder; resumes from its checkpoint; saves the EMA generator under weights/fastgan/."""
    resolve_defaults(args)
    strategy = make_training_strategy(args)
    keras.utils.set_random_seed(args.seed)
    if args.mixed_precision:
        enable_mixed_precision()
    name = run_name(args)
    checkpoint_dir = os.path.join(".ckpt", name) if args.checkpoint_dir is None else args.checkpoint_dir
    with strategy.scope():
        generator = fastgan.generator(args.im_size, ngf=args.ngf, nz=args.nz)
        discriminator = fastgan.discriminator(args.im_size, ndf=args.ndf, decoder_width=args.decoder_width)
    inception = inception_model(args.inception_weights) if args.fid else None
    trainer = FastGANTrainer(generator, discriminator, checkpoint_dir, policy=args.policy,
                             recon_loss=args.recon_loss, perceptual_weights=args.perceptual_weights,
                             ema_decay=args.ema_decay, sample_every=args.sample_every, inception=inception,
                             seed=args.seed, data={"images": name_of_data(args), "im_size": args.im_size},
                             **trainer_options(args, strategy))
    dataset, files = gan_dataset(args.path, args.im_size, batch_size=args.batch_size, cache_dir=args.cache_dir,
                                 seed=pipeline_seed(args.seed, trainer))
    print(f"Generator {fastgan.count_trainable(generator):,} and discriminator "
          f"{fastgan.count_trainable(discriminator):,} trainable parameters; {len(files)} images from {args.path} "
          f"at {args.im_size}x{args.im_size}; reconstruction loss {args.recon_loss}; DiffAugment "
          f"'{args.policy}'; checkpoints in {checkpoint_dir}")
    if args.recon_loss != "perceptual":
        print("(The paper's reconstruction loss is LPIPS on ImageNet VGG16: --recon-loss perceptual.)")
    valid = gan_dataset(files, args.im_size, batch_size=32, shuffle=False, flip=False, repeat=False)[0] \
        if args.fid else None
    trainer.train(dataset, valid, steps=args.steps, evaluate_every=args.evaluate_every)
    if trainer.interrupted:
        return EXIT_INTERRUPTED
    if finish_worker(trainer):
        return 0
    if args.fid:
        trainer.restore_best()
        print(f"Best FID {float(trainer.best_score.numpy()):.2f}; saving that checkpoint's EMA generator.")
    save_results(trainer, os.path.join(args.weights_dir, name))
    return 0


def save_results(trainer, prefix):
    """Writes `<prefix>-generator.keras` (EMA generator with its architecture), `-generator.weights.h5`,
    `-discriminator.weights.h5` and `-samples.png`, each atomically; returns the .keras path."""
    ema = trainer.models["generator_ema"]
    save_model(ema, f"{prefix}-generator.keras")
    save_weights(ema, f"{prefix}-generator.weights.h5")
    save_weights(trainer.models["discriminator"], f"{prefix}-discriminator.weights.h5")
    save_image(f"{prefix}-samples.png", image_grid(trainer.samples(), columns=4))
    print(f"Saved {prefix}-generator.keras (EMA generator), -generator.weights.h5, -discriminator.weights.h5 "
          "and -samples.png")
    return f"{prefix}-generator.keras"


def load_generator(path):
    """A trained generator from a `.keras` file written by `train`."""
    return load_keras_file(path, "Generator", f"{WEIGHTS_DIR}/<name>-generator.keras")


def run_generate(args):
    """generate: writes --n images of the EMA generator as PNG files into -o DIR; with --interpolate A,B one PNG
    strip of a latent walk to -o FILE; with --noise FILE.npy one image per latent vector of the file.

    Image i of a seed is drawn from (seed, i) alone, spatial noise included (the generator runs as its
    deterministic copy, `sr_tf.deploy.deploy_generator`), so a walk's ends equal `generate --seed A` / `--seed B`.
    """
    from sr_tf.deploy import deploy_generator, latent_walk, noise_inputs, render

    if args.interpolate is not None and args.noise is not None:
        raise UserInputError("--interpolate and --noise choose the latent vectors in two ways; pass one.")
    generator = load_generator(args.weights)
    deployed = deploy_generator(generator, noise="input", batch_size=1)
    if args.interpolate is not None:
        seed_a, seed_b = args.interpolate
        frames = [render(deployed, inputs) for inputs in latent_walk(deployed, seed_a, seed_b, args.frames)]
        output = args.output if args.output.lower().endswith(".png") else os.path.join(args.output, "walk.png")
        save_image(output, image_grid(np.stack(frames), columns=len(frames)))
        print(f"Wrote a walk of {len(frames)} frames from seed {seed_a} to seed {seed_b} to {output}")
        return 0
    inputs = [noise_inputs(deployed, args.seed, index=i) for i in range(args.n)]
    if args.noise is not None:
        z = load_noise(args.noise, int(deployed.inputs[0].shape[-1]))
        inputs = [[row[None], *noise_inputs(deployed, args.seed, index=i)[1:]] for i, row in enumerate(z)]
    os.makedirs(args.output, exist_ok=True)
    prefix = f"seed{args.seed}" if args.noise is None else os.path.splitext(os.path.basename(args.noise))[0]
    for i, x in enumerate(inputs):
        save_image(os.path.join(args.output, f"{prefix}-{i:05d}.png"), render(deployed, x))
    print(f"Wrote {len(inputs)} images to {args.output}")
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
    p.add_argument("--path", help="folder of training images (recursive; PNG, JPEG, WebP). Default: a smoke demo "
                                  "on the bundled photos at 64 px")

    def option(name, *aliases, help, type=int, **kwargs):
        """An option whose default comes from sr_tf.config (official / smoke demo), shown in its help."""
        official, demo = getattr(FASTGAN, name), getattr(FASTGAN_DEMO, name)
        default = f"default {official}" + (f"; smoke demo {demo}" if demo != official else "")
        p.add_argument(f"--{name.replace('_', '-')}", *aliases, dest=name, type=type, help=f"{help} ({default})",
                       **kwargs)


    option("im_size", help="image side", choices=fastgan.IM_SIZES)
    option("batch_size", type=positive_int, help="images per iteration")
    option("steps", "--iterations", type=positive_int, help="total iterations")
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
    option("evaluate_every", "--checkpoint-every", type=positive_int,
           help="iterations between checkpoints (and FID with --fid)")
    p.add_argument("--checkpoint-dir", help="default: .ckpt/fastgan-<folder>-<im-size>")
    p.add_argument("--cache-dir", help="folder for the tf.data cache of the resized images (default: memory)")
    p.add_argument("--fid", action="store_true", help="FID against the training images at every checkpoint; "
                                                      "keep the best (needs InceptionV3 weights)")
    p.add_argument("--inception-weights", default="imagenet",
                   help="'imagenet' (download) or a local inception_v3_..._notop.h5 (for --fid)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights-dir", default=WEIGHTS_DIR)
    add_training_options(p)

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

    p = sub.add_parser("evaluate", help="FID and KID of a trained generator against a folder of images")
    p.add_argument("--weights", default=default_weights, help="a -generator.keras file written by train")
    p.add_argument("--path", required=True, help="folder of real images")
    p.add_argument("--n", type=int_range(2), help="generated images (default: as many as real ones)")
    p.add_argument("--inception-weights", default="imagenet",
                   help="'imagenet' (download) or a local inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
    p.add_argument("--seed", type=int, default=0)
    return root


def main(argv=None):
    """Entry point of train_fastgan.py; returns the exit status."""
    args = parser().parse_args(argv)
    return run_command({"train": run_train, "generate": run_generate, "evaluate": run_evaluate}[args.command], args)
