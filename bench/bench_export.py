#!/usr/bin/env python
"""Exported super-resolution models: inference time and file size of TFLite float32, float16, dynamic-range and
int8 against Keras `resolve_single` (the baseline, same run), and with a trained demo model the PSNR of each
format on the held-out photo.

    python bench/bench_export.py                       # EDSR-16 x4 (random weights) on a 256x256 LR image
    python bench/bench_export.py --demo-weights weights/demo/edsr-demo-x4.h5   # + PSNR of a trained demo model
    python bench/bench_export.py --fastgan 256      # also the FastGAN generator (ngf 64, nz 256) at 256 px
"""

import argparse
import os
import tempfile

import common  # noqa: F401  (first: the path set-up)
import numpy as np
import tensorflow as tf
from common import clock, machine_line

from sr_tf.data import crop_to_multiple, downscale, read_image
from sr_tf.data.io import sample_files
from sr_tf.deploy import TFLiteModel, fastgan_to_tflite, input_names, noise_inputs, to_tflite
from sr_tf.inference import resolve_single
from sr_tf.models import build_sr_model, fastgan, load_sr_model
from sr_tf.specs import preset

DEMO = preset("demo")  # the demo's architecture and recipe

FORMATS = ("none", "float16", "dynamic", "int8")


def seconds(fn, repeats):
    fn()
    started = clock()
    for _ in range(repeats):
        fn()
    return started.elapsed() / repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="side of the LR image")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--demo-weights", help="a trained `train_srgan.py demo` model, for the PSNR table")
    parser.add_argument("--fastgan", type=int, help="also time the FastGAN generator at this im_size")
    args = parser.parse_args()
    print(machine_line())
    model = build_sr_model("edsr")  # the tutorial's EDSR-16 x4
    lr = np.random.default_rng(0).integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)
    base = seconds(lambda: resolve_single(model, lr), args.repeats)
    print(f"EDSR-16 x4 on {args.size}x{args.size}: Keras resolve_single {base:.2f} s (baseline)")
    with tempfile.TemporaryDirectory() as tmp:
        for quantize in FORMATS:
            path = os.path.join(tmp, f"{quantize}.tflite")
            to_tflite(model, path, quantize=quantize)
            runner = TFLiteModel(path)
            t = seconds(lambda: resolve_single(runner, lr), args.repeats)
            print(f"  TFLite {quantize:8s} {os.path.getsize(path) / 1e6:6.2f} MB  {t:6.2f} s  "
                  f"{base / t:5.2f}x Keras")
        if args.demo_weights:
            demo = load_sr_model("edsr", args.demo_weights, scale=DEMO.architecture.scale,
                                 num_filters=DEMO.architecture.num_filters,
                                 num_res_blocks=DEMO.architecture.num_res_blocks)
            hr = crop_to_multiple(read_image(sample_files(["chelsea.png"])[0])[0], DEMO.architecture.scale)
            small = downscale(hr, DEMO.architecture.scale).numpy()

            def psnr(runner):
                return float(tf.image.psnr(resolve_single(runner, small).astype(np.float32),
                                           hr.astype(np.float32), 255.0))

            reference = psnr(demo)
            print(f"demo model on chelsea.png: Keras {reference:.2f} dB")
            for quantize in FORMATS:
                path = os.path.join(tmp, f"demo-{quantize}.tflite")
                to_tflite(demo, path, quantize=quantize)
                value = psnr(TFLiteModel(path))
                print(f"  TFLite {quantize:8s} {value:.2f} dB ({value - reference:+.2f} dB)")
        if args.fastgan:
            bench_fastgan(args.fastgan, args.repeats, tmp)


def bench_fastgan(im_size, repeats, tmp):
    """One image from the deployed FastGAN generator: Keras (baseline) against each TFLite format."""
    generator = fastgan.generator(im_size)
    for quantize in FORMATS:
        path = os.path.join(tmp, f"fastgan-{quantize}.tflite")
        content, deployed = fastgan_to_tflite(generator, path, quantize=quantize, calibration=8)
        inputs, names = noise_inputs(deployed), input_names(deployed)
        if quantize == "none":
            base = seconds(lambda: deployed(inputs, training=False), repeats)
            print(f"FastGAN generator {im_size} px (ngf 64, nz 256): Keras {base:.3f} s (baseline)")
        runner = TFLiteModel(path, names)
        t = seconds(lambda: runner(inputs), repeats)
        print(f"  TFLite {quantize:8s} {len(content) / 1e6:6.2f} MB  {t:6.3f} s  {base / t:5.2f}x Keras")


if __name__ == "__main__":
    main()
