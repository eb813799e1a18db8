"""Command line: super-resolve image files or folders.

    python -m sr_tf.resolve --weights weights/edsr-16-x4/edsr-16-x4.keras photo.jpg photos/ -o out/
    python -m sr_tf.resolve --model edsr --weights weights/edsr-16-x4/weights.h5 photo.jpg -o out/

A `.keras` file carries its architecture (its spec); legacy `.h5` weights need --model, and the architecture
flags when they are not the tutorial's published ones.

Each input file is written to OUT_DIR as PNG; files of a folder keep their layout below it. Outputs never collide:
inputs that would share an output name keep their folders relative to the inputs' common parent (and, if still
equal, their extension: photo_jpg.png). An existing output is kept unless --overwrite is given, and an output that
would replace an input is refused. What a file holds is kept: grey stays grey, 16-bit PNGs give 16-bit PNGs,
and an alpha channel is upscaled bicubically (or by the model, with --alpha model). --outscale resizes the result
to any final scale. A file that cannot be read or processed is reported and skipped; the exit
status is 1 if any file failed, 2 for bad arguments.

(Run this module with `python -m`; `sr_tf.resolve` itself, as imported from the package, is the function.)
"""

import argparse
import collections
import os
import sys

from sr_tf.cli.startup import add_verbose
from sr_tf.cli.common import nonnegative_int, positive_float, positive_int, run_command, unit_float
from sr_tf.errors import UserInputError


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m sr_tf.resolve", description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders (searched recursively)")
    parser.add_argument("-o", "--output-dir", required=True, metavar="OUT_DIR")
    parser.add_argument("--model", choices=["srgan", "edsr", "wdsr"], help="architecture of .h5 weights")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--weights", help="a whole .keras model, official PyTorch weights (.pth, .safetensors: "
                                          "Real-ESRGAN's RRDBNet and SRVGGNetCompact), or .h5 / .weights.h5 weights")
    source.add_argument("--tflite", metavar="FILE", help="a .tflite file written by python -m sr_tf.export")
    source.add_argument("--saved-model", metavar="DIR", help="a SavedModel written by python -m sr_tf.export")
    source.add_argument("--onnx", metavar="FILE", help="an .onnx file written by python -m sr_tf.export (needs the "
                                                      "onnx extra)")
    parser.add_argument("--scale", type=int, choices=[2, 3, 4, 8], default=None, help="upscaling factor (default 4)")
    parser.add_argument("--num-filters", type=positive_int, default=None)
    parser.add_argument("--num-res-blocks", type=positive_int, default=None,
                        help="residual blocks (default: the tutorial's published weights: 16, or 32 for wdsr)")
    parser.add_argument("--wdsr-type", choices=["a", "b"], default=None,
                        help="WDSR-A or -B of .h5 weights (default: the published WDSR-B)")
    parser.add_argument("--gan-weights", help="GAN-trained weights of the same architecture as --weights (the "
                                              "PSNR-trained ones), blended by --gan-strength")
    parser.add_argument("--gan-strength", type=unit_float, default=None,
                        help="0 (the --weights model) .. 1 (the --gan-weights model): network interpolation")
    parser.add_argument("--tile", type=positive_int, default=None, help="tile size in LR pixels (bounds memory)")
    parser.add_argument("--tile-pad", type=nonnegative_int, default=16, help="context pixels around each tile")
    parser.add_argument("--outscale", type=positive_float, default=None,
                        help="final scale (e.g. 3.5): the model's output resized with antialiasing (default: the "
                             "model's scale)")
    parser.add_argument("--alpha", choices=["bicubic", "model"], default="bicubic",
                        help="how an alpha channel is upscaled (default %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace output files that exist already")
    return add_verbose(parser).parse_args(argv)


def collect(inputs):
    """(jobs, errors): jobs are (input path, output path relative to OUT_DIR, as PNG), never two alike."""
    from sr_tf.data.io import SR_EXTENSIONS, list_images

    found, errors = [], []  # (path, name relative to its input, the input's parent)
    for item in inputs:
        if os.path.isdir(item):
            try:
                found.extend((p, os.path.relpath(p, item), os.path.abspath(item)) for p in
                             list_images(item, SR_EXTENSIONS))
            except ValueError as e:
                errors.append(str(e))
        elif os.path.exists(item):
            found.append((item, os.path.basename(item), os.path.dirname(os.path.abspath(item))))
        else:
            errors.append(f"Input not found: {item}")
    if not found:
        return [], errors
    common = os.path.commonpath([root for _, _, root in found])

    def png(relative):
        return os.path.splitext(relative)[0] + ".png"

    names = [png(relative) for _, relative, _ in found]
    for attempt in ("folders", "extension"):
        counts = collections.Counter(names)
        for i, (path, relative, root) in enumerate(found):
            if counts[names[i]] > 1:
                if attempt == "folders":
                    names[i] = png(os.path.relpath(os.path.abspath(path), common))
                else:
                    stem, ext = os.path.splitext(names[i][:-4] + os.path.splitext(path)[1])
                    names[i] = f"{stem}_{ext[1:].lower()}.png"
    clashes = [name for name, n in collections.Counter(names).items() if n > 1]
    if clashes:
        raise UserInputError(f"Several inputs would be written to {clashes[0]}; rename them or resolve them apart.")
    return [(path, name) for (path, _, _), name in zip(found, names)], errors


def _refuse_overwriting_inputs(jobs, output_dir):
    inputs = {os.path.realpath(path) for path, _ in jobs}
    for path, name in jobs:
        destination = os.path.realpath(os.path.join(output_dir, name))
        if destination in inputs:
            raise UserInputError(f"Output {os.path.join(output_dir, name)} would replace the input {destination}; "
                                 "choose another -o/--output-dir.")


def load_model(args):
    """The model to run: Keras (--weights, with --model), a TFLite file, a SavedModel or an ONNX file."""
    from sr_tf.deploy import OnnxModel, SavedModelSR, TFLiteModel
    from sr_tf.models import PYTORCH_SUFFIXES, load_sr_model

    if (args.gan_weights is None) != (args.gan_strength is None):
        raise UserInputError("--gan-weights and --gan-strength go together (the GAN-trained weights and how much "
                             f"of them to blend in). Received: --gan-weights {args.gan_weights}, --gan-strength "
                             f"{args.gan_strength}")
    if args.gan_weights is not None and args.weights is None:
        raise UserInputError("--gan-weights blends into the Keras model of --weights; it does not apply to "
                             "--tflite, --saved-model or --onnx files (export the blended model instead).")
    if args.tflite is not None:
        return TFLiteModel(args.tflite)
    if args.saved_model is not None:
        return SavedModelSR(args.saved_model)
    if args.onnx is not None:
        return OnnxModel(args.onnx)
    if args.model is None and not args.weights.endswith((".keras", *PYTORCH_SUFFIXES)):
        raise UserInputError("--model is needed with .h5 weights (srgan, edsr or wdsr); a .keras file carries its "
                             "architecture, and a PyTorch .pth / .safetensors file implies it.")
    architecture = dict(scale=args.scale, num_filters=args.num_filters, num_res_blocks=args.num_res_blocks,
                        wdsr_type=args.wdsr_type)
    model = load_sr_model(args.model, args.weights, **architecture)
    if args.gan_weights is None:
        return model
    from sr_tf.models import interpolate_weights

    return interpolate_weights(model, load_sr_model(args.model, args.gan_weights, **architecture), args.gan_strength)


def run(args):
    """Super-resolves every input; returns 0, or 1 when some file failed or was kept."""
    from sr_tf.data.io import read_image_channels, save_png
    from sr_tf.inference import resolve_photo
    from sr_tf.progress import progress

    jobs, errors = collect(args.inputs)
    for message in errors:
        print(f"error: {message}", file=sys.stderr)
    if not jobs:
        return 1
    _refuse_overwriting_inputs(jobs, args.output_dir)
    model = load_model(args)
    bar = progress(len(jobs), unit_name="image")
    written = 0
    for path, name in jobs:
        destination = os.path.join(args.output_dir, name)
        try:
            if os.path.exists(destination) and not args.overwrite:
                raise UserInputError(f"{destination} exists; pass --overwrite to replace it")
            image = read_image_channels(path)
            save_png(destination, resolve_photo(model, image, outscale=args.outscale, alpha=args.alpha,
                                                tile=args.tile, tile_pad=args.tile_pad))
            written += 1
        except Exception as e:  # noqa: BLE001 - report and go on with the batch
            print(f"\nerror: {path}: {e}", file=sys.stderr)
        bar.add(1)
    failed = len(jobs) - written + len(errors)
    print(f"{written} of {len(jobs)} images written to {args.output_dir}" + (f"; {failed} failed" if failed else ""))
    return 1 if failed else 0


def main(argv=None):
    """Entry point of `python -m sr_tf.resolve`; returns the exit status."""
    return run_command(run, _parse_args(argv))


if __name__ == "__main__":
    from sr_tf.cli.startup import script

    script(__spec__.name)
