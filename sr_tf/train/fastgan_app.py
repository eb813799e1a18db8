"""Wiring behind train_fastgan.py: training on a folder (or the bundled photos), generating, FID/KID evaluation."""

import argparse
import os

import keras

from sr_tf.data.images import decode_resized, gan_dataset, image_grid, readable_images, save_image
from sr_tf.losses import RECON_LOSSES
from sr_tf.metrics import inception_features, inception_model, kernel_distance, frechet_distance
from sr_tf.models import fastgan
from sr_tf.train.cli import EXIT_INTERRUPTED, fill_unset, load_keras_file, run_command
from sr_tf.train.fastgan import FastGANTrainer, generate_images

WEIGHTS_DIR = os.path.join("weights", "fastgan")
SAMPLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets", "samples")

# The official setup, and the smoke demo that runs on the four bundled photos in a few minutes on a CPU.
DEFAULTS = dict(im_size=256, batch_size=8, iterations=50_000, ngf=64, ndf=64, nz=256, decoder_width=32,
                sample_every=1000, checkpoint_every=5000, ema_decay=0.999)
DEMO_DEFAULTS = dict(im_size=64, batch_size=8, iterations=300, ngf=16, ndf=16, nz=64, decoder_width=8,
                     sample_every=100, checkpoint_every=100, ema_decay=0.99)


def resolve_defaults(args):
    """Fills unset options: the official ones with --path, the smoke demo's without (printed)."""
    demo = args.path is None
    chosen = fill_unset(args, DEMO_DEFAULTS if demo else DEFAULTS)
    for key in ("batch_size", "iterations", "checkpoint_every"):
        if getattr(args, key) < 1:
            raise ValueError(f"--{key.replace('_', '-')} must be at least 1. Received: {getattr(args, key)}")
    if args.sample_every < 0:
        raise ValueError(f"--sample-every must be 0 (never) or more. Received: {args.sample_every}")
    if demo:
        args.path = SAMPLES_DIR
        print(f"No --path: smoke demo on the 4 bundled photos in {SAMPLES_DIR} with {chosen}")


def run_name(args):
    """Name of the run's checkpoint folder and weights files, e.g. 'fastgan-samples-64'."""
    dataset = "samples" if os.path.abspath(args.path) == SAMPLES_DIR else os.path.basename(os.path.normpath(args.path))
    return f"fastgan-{dataset}-{args.im_size}"


def run_train(args):
    """train: FastGAN on a folder; resumes from its checkpoint; saves the EMA generator under weights/fastgan/."""
    resolve_defaults(args)
    keras.utils.set_random_seed(args.seed)
    dataset, files = gan_dataset(args.path, args.im_size, batch_size=args.batch_size, cache_dir=args.cache_dir,
                                 seed=args.seed)
    name = run_name(args)
    checkpoint_dir = args.checkpoint_dir or os.path.join(".ckpt", name)
    generator = fastgan.generator(args.im_size, ngf=args.ngf, nz=args.nz)
    discriminator = fastgan.discriminator(args.im_size, ndf=args.ndf, decoder_width=args.decoder_width)
    print(f"Generator {fastgan.count_trainable(generator):,} and discriminator "
          f"{fastgan.count_trainable(discriminator):,} trainable parameters; {len(files)} images from {args.path} "
          f"at {args.im_size}x{args.im_size}; reconstruction loss {args.recon_loss}; DiffAugment "
          f"'{args.policy}'; checkpoints in {checkpoint_dir}")
    if args.recon_loss != "perceptual":
        print("(The paper's reconstruction loss is LPIPS on ImageNet VGG16: --recon-loss perceptual.)")
    inception = inception_model(args.inception_weights) if args.fid else None
    trainer = FastGANTrainer(generator, discriminator, checkpoint_dir, policy=args.policy,
                             recon_loss=args.recon_loss, perceptual_weights=args.perceptual_weights,
                             ema_decay=args.ema_decay, sample_every=args.sample_every, inception=inception,
                             seed=args.seed)
    valid = gan_dataset(files, args.im_size, batch_size=32, shuffle=False, flip=False, repeat=False)[0] \
        if args.fid else None
    trainer.train(dataset, valid, steps=args.iterations, evaluate_every=args.checkpoint_every)
    if trainer.interrupted:
        return EXIT_INTERRUPTED
    if args.fid:
        trainer.restore_best()
        print(f"Best FID {float(trainer.best_score.numpy()):.2f}; saving that checkpoint's EMA generator.")
    save_weights(trainer, os.path.join(args.weights_dir, name))
    return 0


def save_weights(trainer, prefix):
    """Writes `<prefix>-generator.keras` (EMA generator with its architecture), `-generator.weights.h5`,
    `-discriminator.weights.h5` and `-samples.png`; returns the .keras path."""
    os.makedirs(os.path.dirname(prefix) or ".", exist_ok=True)
    ema = trainer.models["generator_ema"]
    ema.save(f"{prefix}-generator.keras")
    ema.save_weights(f"{prefix}-generator.weights.h5")
    trainer.models["discriminator"].save_weights(f"{prefix}-discriminator.weights.h5")
    save_image(f"{prefix}-samples.png", image_grid(trainer.samples(), columns=4))
    print(f"Saved {prefix}-generator.keras (EMA generator), -generator.weights.h5, -discriminator.weights.h5 "
          "and -samples.png")
    return f"{prefix}-generator.keras"


def load_generator(path):
    """A trained generator from a `.keras` file written by `train`."""
    return load_keras_file(path, "Generator", f"{WEIGHTS_DIR}/<name>-generator.keras")


def run_generate(args):
    """generate: writes --n images of the EMA generator as PNG files into -o DIR."""
    if args.n < 1:
        raise ValueError(f"--n must be at least 1. Received: --n {args.n}")
    generator = load_generator(args.weights)
    keras.utils.set_random_seed(args.seed)
    images = generate_images(generator, args.n, seed=args.seed)
    os.makedirs(args.output, exist_ok=True)
    for i, image in enumerate(images):
        save_image(os.path.join(args.output, f"seed{args.seed}-{i:05d}.png"), image)
    print(f"Wrote {len(images)} images to {args.output}")
    return 0


def run_evaluate(args):
    """evaluate: FID and KID between generated images and a folder's images (resized to the model's size)."""
    generator = load_generator(args.weights)
    size = int(generator.output_shape[0][1])
    files = readable_images(args.path)
    real = decode_resized(files, size)
    n = args.n or len(real)
    if n < 2 or len(real) < 2:
        raise ValueError(f"FID needs at least 2 images per set; {args.path} has {len(real)}, --n is {n}.")
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
    p.add_argument("--im-size", type=int, choices=fastgan.IM_SIZES, help="image side (default 256)")
    p.add_argument("--batch-size", type=int, help="default 8")
    p.add_argument("--iterations", type=int, help="total iterations (default 50000)")
    p.add_argument("--ngf", type=int, help="generator width (default 64)")
    p.add_argument("--ndf", type=int, help="discriminator width (default 64)")
    p.add_argument("--nz", type=int, help="noise length (default 256)")
    p.add_argument("--decoder-width", type=int, help="width of the discriminator's decoders (default 32)")
    p.add_argument("--policy", default="color,translation", help="DiffAugment: subset of color,translation,cutout")
    p.add_argument("--recon-loss", choices=RECON_LOSSES, default="l1",
                   help="decoders' reconstruction loss; 'perceptual' (the paper's, VGG16 features) needs ImageNet "
                        "VGG16 weights, downloaded or from --perceptual-weights (default l1: works offline)")
    p.add_argument("--perceptual-weights", help="local vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 for "
                                                "--recon-loss perceptual")
    p.add_argument("--ema-decay", type=float, help="generator EMA decay (default 0.999)")
    p.add_argument("--sample-every", type=int, help="iterations between sample grids (default 1000)")
    p.add_argument("--checkpoint-every", type=int, help="iterations between checkpoints (default 5000)")
    p.add_argument("--checkpoint-dir", help="default: .ckpt/fastgan-<folder>-<im-size>")
    p.add_argument("--cache-dir", help="folder for the tf.data cache of the resized images (default: memory)")
    p.add_argument("--fid", action="store_true", help="FID against the training images at every checkpoint; "
                                                      "keep the best (needs InceptionV3 weights)")
    p.add_argument("--inception-weights", default="imagenet",
                   help="'imagenet' (download) or a local inception_v3_..._notop.h5 (for --fid)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights-dir", default=WEIGHTS_DIR)

    default_weights = os.path.join(WEIGHTS_DIR, "fastgan-samples-64-generator.keras")
    p = sub.add_parser("generate", help="write images of a trained (EMA) generator")
    p.add_argument("--weights", default=default_weights, help="a -generator.keras file written by train")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", default="generated", help="output folder")

    p = sub.add_parser("evaluate", help="FID and KID of a trained generator against a folder of images")
    p.add_argument("--weights", default=default_weights, help="a -generator.keras file written by train")
    p.add_argument("--path", required=True, help="folder of real images")
    p.add_argument("--n", type=int, help="generated images (default: as many as real ones)")
    p.add_argument("--inception-weights", default="imagenet",
                   help="'imagenet' (download) or a local inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
    p.add_argument("--seed", type=int, default=0)
    return root


def main(argv=None):
    """Entry point of train_fastgan.py; returns the exit status."""
    args = parser().parse_args(argv)
    return run_command({"train": run_train, "generate": run_generate, "evaluate": run_evaluate}[args.command], args)
