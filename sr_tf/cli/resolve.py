"""Command line: super-resolve image files or folders.

    python -m sr_tf.resolve --model edsr --weights weights/edsr-16-x4/weights.h5 photo.jpg photos/ -o out/

Each input file is written to OUT_DIR as PNG (folders keep their relative layout). Alpha channels are kept:
the colour is super-resolved by the model and the alpha channel upscaled bicubically. A file that cannot be
read or processed is reported and skipped; the exit status is 1 if any file failed.

(Run this module with `python -m`; `sr_tf.resolve` itself, as imported from the package, is the function.)
"""

import argparse
import os
import sys

import numpy as np


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m sr_tf.resolve", description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders (searched recursively)")
    parser.add_argument("-o", "--output-dir", required=True, metavar="OUT_DIR")
    parser.add_argument("--model", required=True, choices=["srgan", "edsr", "wdsr"])
    parser.add_argument("--weights", required=True, help="weights file (.h5, .weights.h5) or a whole .keras model")
    parser.add_argument("--scale", type=int, default=None, help="upscaling factor (default 4)")
    parser.add_argument("--num-filters", type=int, default=None)
    parser.add_argument("--num-res-blocks", type=int, default=None,
                        help="residual blocks (default: the tutorial's published weights: 16, or 32 for wdsr)")
    parser.add_argument("--wdsr-type", choices=["a", "b"], default="b")
    parser.add_argument("--tile", type=int, default=None, help="tile size in LR pixels (bounds memory)")
    parser.add_argument("--tile-pad", type=int, default=16, help="context pixels around each tile")
    return parser.parse_args(argv)


def _collect(inputs):
    from sr_tf.data.io import SR_EXTENSIONS, list_images

    jobs, errors = [], []
    for item in inputs:
        if os.path.isdir(item):
            try:
                jobs.extend((p, os.path.relpath(p, item)) for p in list_images(item, SR_EXTENSIONS))
            except ValueError as e:
                errors.append(str(e))
        elif os.path.exists(item):
            jobs.append((item, os.path.basename(item)))
        else:
            errors.append(f"Input not found: {item}")
    return jobs, errors


def main(argv=None):
    """Entry point of `python -m sr_tf.resolve`; returns the exit status."""
    args = _parse_args(argv)
    import keras
    from PIL import Image

    from sr_tf.data.io import read_image
    from sr_tf.inference import resolve_single

    jobs, errors = _collect(args.inputs)
    for message in errors:
        print(f"error: {message}", file=sys.stderr)
    if not jobs:
        return 1
    from sr_tf.models import load_sr_model

    model = load_sr_model(args.model, args.weights, scale=args.scale, num_filters=args.num_filters,
                          num_res_blocks=args.num_res_blocks, wdsr_type=args.wdsr_type)
    progress = keras.utils.Progbar(len(jobs), unit_name="image")
    failed = len(errors)
    for path, relative in jobs:
        try:
            rgb, alpha = read_image(path)
            sr = resolve_single(model, rgb, tile=args.tile, tile_pad=args.tile_pad)
            image = Image.fromarray(sr)
            if alpha is not None:
                alpha_up = Image.fromarray(alpha).resize(image.size, Image.BICUBIC)
                image = Image.fromarray(np.dstack([sr, np.asarray(alpha_up)]), "RGBA")
            destination = os.path.join(args.output_dir, os.path.splitext(relative)[0] + ".png")
            os.makedirs(os.path.dirname(destination) or ".", exist_ok=True)
            image.save(destination)
        except Exception as e:  # noqa: BLE001 - report and go on with the batch
            failed += 1
            print(f"\nerror: {path}: {e}", file=sys.stderr)
        progress.add(1)
    print(f"{len(jobs) - (failed - len(errors))} of {len(jobs)} images written to {args.output_dir}"
          + (f"; {failed} failed" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
