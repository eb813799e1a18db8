"""Command line: super-resolve image files or folders.

    python -m sr_tf.resolve photo.jpg photos/ -o out/                      # realesr-general-x4v3, downloaded once
    python -m sr_tf.resolve -n realesrgan-x4plus -i photos/ -o photos/upscaled/ --ext jpg -t 0
    python -m sr_tf.resolve --weights realesr-animevideov3-x2.param frames/ -o out/      # an ncnn model
    python -m sr_tf.resolve --model edsr --weights weights/edsr-16-x4/weights.h5 photo.jpg -o out/

A preset's published weights are downloaded once into the Keras cache (SR_TF_WEIGHTS_URL: a mirror;
SR_TF_OFFLINE=1: never download). A `.keras` file carries its architecture (its spec), and a PyTorch or ncnn file
implies it; legacy `.h5` weights need --model, and the architecture flags when they are not the tutorial's
published ones.

Every image format Pillow reads is taken, in folders as one by one (each other file a walk passes is named with the
reason). Each input is written to OUT_DIR as PNG (or --ext jpg / webp, with --suffix after its name); files of a
folder keep their layout below it, and OUT_DIR inside an input folder is left out of the walk. Outputs never collide:
inputs that would share an output name keep their folders relative to the inputs' common parent (and, if still
equal, their extension: photo_jpg.png). An existing output is kept unless --overwrite is given, and an output that
would replace an input is refused; a re-run skips the outputs that exist and says so (exit 0). What a file holds is
kept: grey stays grey, 16-bit PNGs give 16-bit PNGs,
and an alpha channel is upscaled bicubically (or by the model, with --alpha model). --outscale resizes the result
to any final scale. A file that cannot be read or processed is reported and skipped; the exit
status is 1 if any file failed, 2 for bad arguments.

(Run this module with `python -m`; `sr_tf.resolve` itself, as imported from the package, is the function.)
"""

import argparse
import collections
import os
import sys

import numpy as np

from sr_tf.cli.common import (
    add_precision,
    add_sr_model_flags,
    int_range,
    load_ncnn,
    nonnegative_int,
    positive_float,
    resolve_precision,
    run_command,
    sr_architecture_flags,
    unit_float,
)
from sr_tf.cli.startup import add_verbose
from sr_tf.errors import UserInputError
from sr_tf.specs.published import DEFAULT_PRESET, PUBLISHED

OUTPUT_EXTENSIONS = {"png": ".png", "jpg": ".jpg", "webp": ".webp"}
EXPORTED_PRECISION = "--tflite, --saved-model and --onnx files run in the precision they were exported in"


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m sr_tf.resolve", description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="image files or folders (searched recursively)")
    parser.add_argument("-i", "--input", action="append", default=[], dest="more_inputs", metavar="INPUT",
                        help="an image file or folder (may be repeated; the same as a positional INPUT)")
    parser.add_argument("-o", "--output-dir", required=True, metavar="OUT_DIR",
                        help="the folder to write to (may lie inside an input folder: it is left out of the walk)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("-n", "--name", metavar="PRESET",
                        help="a preset with published weights, downloaded once into the Keras cache: "
                             f"{', '.join(sorted(PUBLISHED))} (default {DEFAULT_PRESET} when no model is given)")
    source.add_argument("--weights", help="a whole .keras model, official PyTorch weights (.pth, .safetensors), an "
                                          "ncnn model (.param, its .bin beside it), or .h5 / .weights.h5 weights")
    source.add_argument("--tflite", metavar="FILE", help="a .tflite file written by python -m sr_tf.export")
    source.add_argument("--saved-model", metavar="DIR", help="a SavedModel written by python -m sr_tf.export")
    source.add_argument("--onnx", metavar="FILE", help="an .onnx file written by python -m sr_tf.export (needs the "
                                                      "onnx extra)")
    add_sr_model_flags(parser)
    parser.add_argument("--gan-weights", help="GAN-trained weights of the same architecture as --weights (the "
                                              "PSNR-trained ones), blended by --gan-strength")
    parser.add_argument("--gan-strength", type=unit_float, default=None,
                        help="0 (the --weights model) .. 1 (the --gan-weights model): network interpolation")
    parser.add_argument("-t", "--tile", type=nonnegative_int, default=None,
                        help="tile size in LR pixels (bounds memory); 0: chosen from the image size and the free "
                             "memory (default: whole images)")
    parser.add_argument("--tile-pad", type=nonnegative_int, default=16, help="context pixels around each tile "
                                                                             "(default %(default)s)")
    parser.add_argument("-s", "--outscale", type=positive_float, default=None,
                        help="final scale (e.g. 3.5): the model's output resized with antialiasing (default: the "
                             "model's scale)")
    parser.add_argument("--alpha", choices=["bicubic", "model"], default="bicubic",
                        help="how an alpha channel is upscaled (default %(default)s)")
    parser.add_argument("--ext", choices=sorted(OUTPUT_EXTENSIONS), default="png",
                        help="output format (default %(default)s; jpg keeps no alpha channel and 8 bits only)")
    parser.add_argument("--quality", type=int_range(1, 100), default=95,
                        help="jpg / webp quality, 1..100 (default %(default)s)")
    parser.add_argument("--suffix", default=None,
                        help="appended to each output's name (photo_out.png for --suffix out; default none)")
    parser.add_argument("--overwrite", action="store_true", help="replace output files that exist already")
    add_precision(parser, "auto", "; auto: bfloat16 on CPUs with AMX or AVX-512 BF16, float16 on GPUs with tensor "
                                  "cores, else float32")
    args = add_verbose(parser).parse_args(argv)
    if not args.inputs and not args.more_inputs:
        parser.error("give at least one INPUT (a file or folder), positional or with -i")
    return args


def _walk(folder, excluded, suffix, same_folder):
    """(image paths, [(skipped path, reason)]) below `folder`, leaving out the folders in `excluded` (the output
    folder) and, when outputs go into the input folder itself, the files an earlier run wrote there."""
    from sr_tf.data.io import is_image_file

    found, skipped = [], []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(root, d)) not in excluded)
        for name in sorted(names):
            path = os.path.join(root, name)
            if name.startswith(".tmp-"):
                continue  # a write of this package in progress or interrupted
            if same_folder and os.path.splitext(name)[0].endswith(f"_{suffix}"):
                skipped.append((path, f"an output of an earlier run (--suffix {suffix})"))
                continue
            reason = is_image_file(path)
            if reason is True:
                found.append(path)
            else:
                skipped.append((path, reason))
    return found, skipped


def collect(inputs, output_dir=".", suffix=None, ext=".png"):
    """(jobs, errors, skipped): jobs are (input path, output path relative to OUT_DIR), never two alike; skipped
    are (path, reason) for each file a folder walk passed over."""
    output = os.path.realpath(output_dir)
    found, errors, skipped = [], [], []  # found: (path, name relative to its input, the input's parent)
    for item in inputs:
        if os.path.isdir(item):
            same = os.path.realpath(item) == output
            if same and not suffix:
                raise UserInputError(f"-o {output_dir} is the input folder {item}: outputs would take the inputs' "
                                     "names; give --suffix (e.g. --suffix out) or another -o.")
            paths, passed = _walk(item, {output} - {os.path.realpath(item)}, suffix, same)
            skipped += passed
            if not paths:
                errors.append(f"No image files found in {item} or its sub-folders.")
            found.extend((p, os.path.relpath(p, item), os.path.abspath(item)) for p in paths)
        elif os.path.exists(item):
            found.append((item, os.path.basename(item), os.path.dirname(os.path.abspath(item))))
        else:
            errors.append(f"Input not found: {item}")
    if not found:
        return [], errors, skipped
    common = os.path.commonpath([root for _, _, root in found])
    tail = (f"_{suffix}" if suffix else "") + ext

    def named(relative):
        return os.path.splitext(relative)[0] + tail

    names = [named(relative) for _, relative, _ in found]
    for attempt in ("folders", "extension"):
        counts = collections.Counter(names)
        for i, (path, relative, root) in enumerate(found):
            if counts[names[i]] > 1:
                if attempt == "folders":
                    names[i] = named(os.path.relpath(os.path.abspath(path), common))
                else:
                    stem = names[i][:-len(tail)]
                    names[i] = f"{stem}_{os.path.splitext(path)[1][1:].lower()}{tail}"
    clashes = [name for name, n in collections.Counter(names).items() if n > 1]
    if clashes:
        raise UserInputError(f"Several inputs would be written to {clashes[0]}; rename them or resolve them apart.")
    return [(path, name) for (path, _, _), name in zip(found, names)], errors, skipped


def _refuse_overwriting_inputs(jobs, output_dir):
    inputs = {os.path.realpath(path) for path, _ in jobs}
    for path, name in jobs:
        destination = os.path.realpath(os.path.join(output_dir, name))
        if destination in inputs:
            raise UserInputError(f"Output {os.path.join(output_dir, name)} would replace the input {destination}; "
                                 "choose another -o/--output-dir or a --suffix.")


def load_model(args):
    """The model to run: a preset by name (-n, or the default), Keras (--weights, with --model), an ncnn model, a
    TFLite file, a SavedModel or an ONNX file."""
    from sr_tf.deploy import OnnxModel, SavedModelSR, TFLiteModel
    from sr_tf.models import PYTORCH_SUFFIXES, from_preset, load_sr_model, sr_model_names

    if (args.gan_weights is None) != (args.gan_strength is None):
        raise UserInputError("--gan-weights and --gan-strength go together (the GAN-trained weights and how much "
                             f"of them to blend in). Received: --gan-weights {args.gan_weights}, --gan-strength "
                             f"{args.gan_strength}")
    if args.gan_weights is not None and args.weights is None:
        raise UserInputError("--gan-weights blends into the Keras model of --weights; it does not apply to "
                             "-n, --tflite, --saved-model or --onnx files (export the blended model instead).")
    if args.tflite is not None:
        return TFLiteModel(args.tflite)
    if args.saved_model is not None:
        return SavedModelSR(args.saved_model)
    if args.onnx is not None:
        return OnnxModel(args.onnx)
    if args.weights is None:
        name = DEFAULT_PRESET if args.name is None else args.name
        if args.name is None:
            print(f"Model: {name} (the default; -n names another: {', '.join(sorted(PUBLISHED))})")
        return from_preset(name)
    if args.weights.endswith(".param"):
        return load_ncnn(args.weights, "the network is read and its output resized (as --outscale {scale})")
    if args.model is None and not args.weights.endswith((".keras", *PYTORCH_SUFFIXES)):
        raise UserInputError(f"--model is needed with .h5 weights ({', '.join(sr_model_names())}). Received: "
                             f"--weights {args.weights}; a .keras file carries its architecture, a PyTorch .pth / "
                             ".safetensors file or an ncnn .param implies it.")
    architecture = sr_architecture_flags(args)
    model = load_sr_model(args.model, args.weights, **architecture)
    if args.gan_weights is None:
        return model
    from sr_tf.models import interpolate_weights

    return interpolate_weights(model, load_sr_model(args.model, args.gan_weights, **architecture), args.gan_strength)


def _write(destination, image, ext, quality):
    """Writes the result in the chosen format, atomically (8 bits and no alpha where the format has none)."""
    from sr_tf.data.io import save_image, save_png
    from sr_tf.errors import warn
    from sr_tf.ops import to_uint8

    if ext == "png":
        return save_png(destination, image)
    if image.dtype == np.uint16:
        image = to_uint8(image, scale=1.0 / 257.0)
    if ext == "jpg" and image.shape[-1] in (2, 4):
        warn(f"{destination}: JPEG keeps no alpha channel; it was left out (--ext png or webp keep it)")
        image = image[..., :-1]
    return save_image(destination, image, quality=quality)


def run(args):
    """Super-resolves every input; returns 0, or 1 when some file failed."""
    from sr_tf.data.io import read_image_channels
    from sr_tf.inference import choose_tile, resolve_photo, tile_count
    from sr_tf.outputs import check_folder_path
    from sr_tf.progress import progress

    check_folder_path(args.output_dir)
    if args.precision not in (None, "auto") and (args.tflite or args.saved_model or args.onnx):
        raise UserInputError(f"--precision {args.precision} applies to Keras models; {EXPORTED_PRECISION}.")
    inputs = [*args.inputs, *args.more_inputs]
    jobs, errors, skipped = collect(inputs, args.output_dir, args.suffix, OUTPUT_EXTENSIONS[args.ext])
    for path, reason in skipped:
        print(f"skipped {path}: {reason}")
    for message in errors:
        print(f"error: {message}", file=sys.stderr)
    if not jobs:
        return 1
    _refuse_overwriting_inputs(jobs, args.output_dir)
    todo = [(path, name) for path, name in jobs if args.overwrite or not os.path.exists(
        os.path.join(args.output_dir, name))]
    kept = len(jobs) - len(todo)
    if kept:
        print(f"{kept} of {len(jobs)} outputs exist in {args.output_dir} and are kept (--overwrite replaces them)")
    model = resolve_precision(load_model(args), args.precision, EXPORTED_PRECISION) if todo else None
    outscale = args.outscale if args.outscale is not None else getattr(model, "final_scale", None)
    bar = progress(len(todo), unit_name="image")
    written = failed = 0
    for path, name in todo:
        destination = os.path.join(args.output_dir, name)
        try:
            image = read_image_channels(path)
            tile = choose_tile(model, image.shape, args.tile_pad) if args.tile == 0 else args.tile
            tiles = tile_count(image.shape, tile)
            tile_bar = progress(tiles, unit_name="tile") if tiles >= 4 else None
            result = resolve_photo(model, image, outscale=outscale, alpha=args.alpha, tile=tile,
                                   tile_pad=args.tile_pad, on_tile=(lambda: tile_bar.add(1)) if tile_bar else None)
            _write(destination, result, args.ext, args.quality)
            written += 1
        except UserInputError as e:  # a bad file: reported, and the batch goes on
            print(f"\nerror: {path}: {e.command_line().removeprefix(f'Cannot read image {path}: ')}", file=sys.stderr)
            failed += 1
        bar.add(1)
    failed += len(errors)
    print(f"{written} of {len(jobs)} images written to {args.output_dir}" + (f"; {kept} kept" if kept else "")
          + (f"; {failed} failed" if failed else ""))
    return 1 if failed else 0


def main(argv=None):
    """Entry point of `python -m sr_tf.resolve`; returns the exit status."""
    return run_command(run, _parse_args(argv))


if __name__ == "__main__":
    from sr_tf.cli.startup import script

    script(__spec__.name)
