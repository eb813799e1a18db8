"""Command line: export a trained super-resolution model to TFLite, a SavedModel or ONNX.

    python -m sr_tf.export --model edsr --weights weights/edsr-16-x4/weights.h5 --format tflite -o edsr-x4.tflite
    python -m sr_tf.export --weights edsr.keras --format saved_model -o edsr_x4_savedmodel/
    python -m sr_tf.export --model srgan --weights weights/srgan/gan_generator.h5 --format tflite --quantize int8 \\
        --representative-dir photos/ -o srgan-int8.tflite
    python -m sr_tf.export --weights weights/fastgan/<name>-generator.keras --format tflite -o fastgan.tflite
    python -m sr_tf.export --weights realesr-general-x4v3.pth --format onnx -o realesr-general-x4v3.onnx

A `.keras` file carries its architecture (its spec), so `--weights X.keras` needs no other flag for any family;
legacy `.h5` weights need --model (and the architecture flags when they are not the tutorial's published ones).

The converted model is checked against Keras on a probe image before anything is written; the TFLite command
prints the file's operators and TensorFlow's GPU-delegate compatibility verdict. A FastGAN generator is
exported deterministic: its spatial noise becomes inputs next to z (`--noise input`) or is left out (`none`).
"""

import argparse
import re

from sr_tf.cli.common import (
    add_precision,
    add_sr_model_flags,
    load_keras_file,
    load_ncnn,
    resolve_precision,
    run_command,
    sr_architecture_flags,
)
from sr_tf.cli.startup import add_verbose
from sr_tf.errors import UserInputError
from sr_tf.specs.base import families
from sr_tf.specs.published import PUBLISHED

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")  # sr_tf.deploy's, written here so that --help needs no TF


def input_size(text):
    """An argparse `type=` for HxW (e.g. 256x256)."""
    match = re.fullmatch(r"(\d+)[xX](\d+)", text)
    if not match or min(int(match.group(1)), int(match.group(2))) < 1:
        raise argparse.ArgumentTypeError(f"expected HxW with positive integers, e.g. 256x256. Received: {text!r}")
    return int(match.group(1)), int(match.group(2))


def parser():
    """The argument parser of `python -m sr_tf.export`."""
    p = argparse.ArgumentParser(prog="python -m sr_tf.export", description=__doc__.split("\n\n")[0])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("-n", "--name", metavar="PRESET",
                        help="a preset with published weights, downloaded once into the Keras cache: "
                             f"{', '.join(sorted(PUBLISHED))}")
    source.add_argument("--weights", help="a .keras model, official PyTorch weights (.pth, .safetensors), an ncnn "
                                          "model (.param, its .bin beside it), or .h5 / .weights.h5 weights (these "
                                          "need --model)")
    source.add_argument("--fastgan", help="a FastGAN generator (.keras) written by train_fastgan.py (the same as "
                                          "--weights with that file)")
    add_sr_model_flags(p)
    p.add_argument("--format", choices=["tflite", "saved_model", "onnx"], default="tflite",
                   help="tflite (default), saved_model, or onnx (needs the onnx extra: tf2onnx, onnxruntime)")
    p.add_argument("--quantize", choices=QUANTIZATIONS, default="none",
                   help="tflite: float32 (none), float16 weights, dynamic-range or full-integer int8 (default none)")
    p.add_argument("--force", action="store_true",
                   help="dynamic / int8: write the file even when it scores below 28 dB against Keras on photo "
                        "crops (the export measures it and refuses such a file by default)")
    p.add_argument("--representative-dir", help="int8: folder of photos whose LR patches calibrate the "
                                                "quantization (default: the bundled photos)")
    p.add_argument("--input-size", type=input_size, help="HxW of a fixed-size model (default: any size)")
    p.add_argument("--noise", choices=["input", "none"], default=None,
                   help="--fastgan: the generator's spatial noise maps as inputs next to z (default) or left out")
    add_precision(p, "float32", "; saved_model only (a TFLite file's precision is --quantize)")
    p.add_argument("-o", "--output", required=True,
                   help="the .tflite or .onnx file, or the SavedModel folder (new, or empty)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing file at -o, or a folder at -o that holds only a SavedModel (a folder "
                        "holding anything else is never touched)")
    return add_verbose(p)


def load(args):
    """The Keras model named by --weights (and --model for .h5 weights)."""
    from sr_tf.models import PYTORCH_SUFFIXES, from_preset, load_sr_model, spec_of

    if args.name is not None:
        return from_preset(args.name)
    if args.weights.endswith(".param"):
        return load_ncnn(args.weights, "the network is exported (resize its output to x{scale})")
    if args.weights.endswith(".keras"):
        model = load_keras_file(args.weights, "Model", "a training command's weights folder or a model.save(...) file")
        spec = spec_of(model, args.weights)
        if not spec.exportable:
            kinds = sorted({cls.kind for cls in families(exportable=True)})
            note = f" ({spec.export_note})" if spec.export_note else ""
            raise UserInputError(f"{args.weights} holds a {spec.family} model; export writes {' and '.join(kinds)} "
                                 f"models{note}.")
        return model
    if args.model is None and not args.weights.endswith(PYTORCH_SUFFIXES):  # a PyTorch file implies its network
        raise UserInputError(f"--model is needed for weights that are not a .keras model. Received: {args.weights}")
    return load_sr_model(args.model, args.weights, **sr_architecture_flags(args))


def check_destination(args):
    """Refuses -o before any model is loaded when the export could not be written there (`sr_tf.outputs`)."""
    from sr_tf.outputs import check_file, check_folder

    if args.format == "saved_model":
        check_folder(args.output, args.overwrite)
    else:
        check_file(args.output, args.overwrite, example=f"model.{args.format}")


def run(args):
    """Exports the model; returns 0."""
    from sr_tf.deploy import representative_patches, to_onnx, to_saved_model, to_tflite
    from sr_tf.deploy.quality import MIN_PSNR
    from sr_tf.models import sr_scale

    if args.format != "tflite" and args.quantize != "none":
        raise UserInputError(f"--quantize applies to --format tflite. Received: --quantize {args.quantize} "
                             f"with --format {args.format}")
    if args.representative_dir is not None and args.quantize != "int8":
        raise UserInputError("--representative-dir calibrates --quantize int8. Received: --quantize "
                             f"{args.quantize}")
    if args.precision != "float32" and args.format != "saved_model":
        raise UserInputError(f"--precision {args.precision} applies to --format saved_model (a TFLite file's precision "
                             f"is --quantize: float16, dynamic or int8). Received: --format {args.format}")
    check_destination(args)
    if args.fastgan is not None:
        return run_fastgan(args, load_keras_file(args.fastgan, "Generator", "weights/fastgan/<name>-generator.keras"))
    model = load(args)
    if model.name == "fastgan_generator":
        return run_fastgan(args, model)
    if args.noise is not None:
        raise UserInputError(f"--noise applies to --fastgan (a FastGAN generator). Received: --noise {args.noise} "
                             f"with {args.weights if args.weights is not None else '-n ' + args.name}")
    if args.format == "saved_model":
        model = resolve_precision(model, args.precision, "")
        to_saved_model(model, args.output, input_size=args.input_size, overwrite=args.overwrite)
        print(f"Wrote {args.output} (serving_default: uint8 lr (1, H, W, 3) -> uint8 sr)")
        return 0
    if args.format == "onnx":
        content = to_onnx(model, args.output, input_size=args.input_size, overwrite=args.overwrite)
        print(f"Wrote {args.output} ({len(content):,} bytes; float32 lr (1, H, W, 3) in 0..255 -> sr; checked "
              "against Keras with ONNX Runtime)")
        return 0
    representative = None
    if args.quantize == "int8":
        representative = representative_patches(sr_scale(model), args.representative_dir)
    content = to_tflite(model, args.output, quantize=args.quantize, input_size=args.input_size,
                        representative=representative, overwrite=args.overwrite,
                        min_psnr=None if args.force else MIN_PSNR,
                        on_quality=lambda quality: print(f"{args.quantize}: {quality.describe()}"))
    report(args, content)
    return 0


def report(args, content):
    """Prints what was written: size, quantization, the file's operators and the GPU-delegate verdict."""
    from sr_tf.deploy import interpreter_name, tflite_ops

    ops, verdict = tflite_ops(content)
    print(f"Wrote {args.output} ({len(content):,} bytes, {args.quantize}; checked against Keras with "
          f"{interpreter_name()}); operators: " + ", ".join(f"{name} x{n}" for name, n in sorted(ops.items())))
    print(verdict)


def run_fastgan(args, model):
    """Exports a FastGAN generator (--fastgan, or --weights with a generator's .keras file); returns 0."""
    from sr_tf.deploy import fastgan_to_saved_model, fastgan_to_tflite

    names = ("model", *sr_architecture_flags(args), "input_size", "representative_dir")
    ignored = [f"--{name.replace('_', '-')}" for name in names if getattr(args, name) is not None]
    if ignored:
        raise UserInputError(f"{', '.join(ignored)} apply to super-resolution weights (a FastGAN generator's .keras "
                             "file carries its architecture and size; its int8 calibrates on noise draws). "
                             f"Received: {', '.join(ignored)} with --fastgan")
    if args.format == "onnx":
        raise UserInputError("--format onnx exports super-resolution models; a FastGAN generator exports as tflite "
                             "or saved_model.")
    noise = "input" if args.noise is None else args.noise
    if args.format == "saved_model":
        deployed = fastgan_to_saved_model(model, args.output, noise=noise, overwrite=args.overwrite)[1]
        print(f"Wrote {args.output} (serving_default: float32 inputs -> uint8 image (B, H, W, 3))")
    else:
        content, deployed = fastgan_to_tflite(model, args.output, quantize=args.quantize, noise=noise,
                                              overwrite=args.overwrite)
        report(args, content)
    print("Inputs, to fill with N(0, 1) numbers: " + ", ".join(
        f"{t.name} {tuple(t.shape[1:])}" for t in deployed.inputs))
    return 0


def main(argv=None):
    """Entry point of `python -m sr_tf.export`; returns the exit status."""
    return run_command(run, parser().parse_args(argv))


if __name__ == "__main__":
    from sr_tf.cli.startup import script

    script(__spec__.name)
