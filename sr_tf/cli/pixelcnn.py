"""The command line of train_pixelcnn.py: data sources, models, training, evaluation against a baseline, sampling."""

import argparse
import os

import numpy as np

from sr_tf import specs
from sr_tf.atomic import atomic_write_text
from sr_tf.cli.common import (
    int_range,
    load_keras_file,
    nonnegative_int,
    pipeline_seed,
    positive_float,
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
from sr_tf.errors import UserInputError
from sr_tf.outputs import check_file
from sr_tf.specs.pixelcnn import HEADS, PRESET_OF, PixelCNNArchitecture, PixelCNNRecipe

WEIGHTS_DIR = PixelCNNRecipe.weights_dir


def load_splits(args, image_size=None, channels=None):
    """The train/valid/test `Splits` of the chosen dataset (a folder's images at `image_size` with `channels`;
    None: --image-size, --channels)."""
    from sr_tf.data.pixelcnn import load_digits, load_folder, load_mnist

    if args.data == "mnist":
        return load_mnist(args.data_dir)
    if args.data == "digits":
        return load_digits()
    if args.data_dir is None:
        raise UserInputError("--dataset folder needs --data-dir DIR (a folder of images).")
    return load_folder(args.data_dir, size=args.image_size if image_size is None else image_size,
                       channels=args.channels if channels is None else channels)


class PixelCNNFamily(Family):
    """train_pixelcnn.py train as the training runner runs it: the preset follows --model and --data unless
    --preset names one; the architecture flags and the data's image shape override its architecture."""

    score_text = "bits/dim: {:.4f}"

    def plan(self, args):
        model = args.model
        if model is None:
            gated = args.preset is not None and isinstance(specs.preset(args.preset).architecture, specs.GatedPixelCNN)
            model = "gated" if gated else "pixelcnn"
        if args.conditional and model != "gated":
            raise UserInputError("--conditional needs --model gated.")
        if args.num_mixtures is not None and args.head != "logistic_mixture":
            raise UserInputError(f"--num-mixtures needs --head logistic_mixture. Received: --head {args.head}")
        preset = specs.preset(PRESET_OF[(model, args.data)] if args.preset is None else args.preset)
        self.splits = splits = load_splits(args)  # the data, read once (not a setting)
        if args.conditional and splits.train[1] is None:
            raise UserInputError(f"--conditional needs class labels; --dataset {args.data} has none.")
        flags = dict(levels=args.levels, hidden=args.hidden, head=args.head, num_mixtures=args.num_mixtures,
                     input_shape=splits.train[0].shape[1:],
                     num_classes=int(splits.train[1].max()) + 1 if args.conditional else None)
        flags["num_layers" if model == "gated" else "num_res_blocks"] = args.num_res_blocks
        if model != "gated":
            flags["batchnorm"] = False if args.no_batchnorm else None
        architecture = preset.architecture
        if type(architecture) is not (specs.GatedPixelCNN if model == "gated" else specs.PixelCNN):
            raise UserInputError(f"--preset {preset.name} is not a --model {model} preset.")
        architecture = architecture.replace(**{k: v for k, v in flags.items() if v is not None})
        recipe = with_options(preset.recipe, args, learning_rate=args.learning_rate)
        chosen = unset_text(args, recipe)
        print(f"Preset {preset.name}: {architecture.describe()}" +
              (f"; defaults for --data {args.data}: {chosen}" if chosen else ""))
        data = {"dataset": args.data, "levels": architecture.levels}
        if args.data == "folder":
            data.update(path=os.path.abspath(args.data_dir), image_size=args.image_size, channels=args.channels)
        return RunPlan(args, architecture, recipe, reference=preset.architecture, data=args.data,
                       settings={"labelled": args.conditional, "data": data})

    def build_trainer(self, plan, strategy):
        from sr_tf.train import PixelCNNTrainer
        with strategy.scope():
            model = plan.architecture.build()
        train_images = self.splits.train[0]
        print(f"{model.name}: {model.count_params():,} parameters; {len(train_images)} training images "
              f"{train_images.shape[1:]}, {plan.architecture.levels} levels; checkpoints in {plan.checkpoint_dir}")
        return PixelCNNTrainer(model, plan.checkpoint_dir, learning_rate=plan.recipe.learning_rate,
                               data=plan.settings["data"], **trainer_options(plan, strategy))

    def datasets(self, plan, trainer):
        levels, labelled = plan.architecture.levels, plan.settings["labelled"]
        train_ds = _dataset(self.splits.train, levels, labelled, batch_size=plan.recipe.batch_size,
                            seed=pipeline_seed(plan.options.seed, trainer))
        valid_ds = _dataset(self.splits.valid, levels, labelled, batch_size=256, shuffle=False, repeat_count=1)
        return train_ds, valid_ds

    def write(self, plan, trainer):
        return write_artifacts(plan.folder, plan.name, trainer.model)

    def after(self, plan, trainer):
        labelled = plan.settings["labelled"]
        report(trainer.model, self.splits, plan.architecture.levels, labelled)
        samples_path = os.path.join(plan.folder, f"{plan.name}-samples.png")
        num_classes = getattr(plan.architecture, "num_classes", None)
        labels = np.arange(16) % num_classes if labelled else None
        return [write_samples(trainer.model, samples_path, n=16, seed=0, labels=labels)]


def _dataset(split, levels, labelled, **kwargs):
    from sr_tf.data.pixelcnn import pixelcnn_dataset
    images, labels = split
    return pixelcnn_dataset(images, labels if labelled else None, levels=levels, **kwargs)


def report(model, splits, levels, labelled):
    """Prints and returns (test bits/dim, per-pixel histogram baseline bits/dim)."""
    from sr_tf.data.pixelcnn import quantize
    from sr_tf.metrics import bits_per_dim, histogram_baseline

    test = bits_per_dim(model, _dataset(splits.test, levels, labelled, batch_size=256, shuffle=False, repeat_count=1))
    baseline, alpha = histogram_baseline(quantize(splits.train[0], levels), quantize(splits.test[0], levels), levels)
    print(f"Test bits/dim: {test:.4f}   per-pixel histogram baseline: {baseline:.4f} (smoothing {alpha}); "
          + (f"{baseline - test:.4f} bits/dim better than the baseline" if test < baseline else
             f"{test - baseline:.4f} bits/dim worse than the baseline"))
    return test, baseline


def run_train(args):
    """train: fits the model, keeps the best checkpoint by validation bits/dim, writes the artifacts and a sample
    grid, reports the test bits/dim."""
    return run_training(PixelCNNFamily(), args)


def load_model(path):
    """A trained PixelCNN from a `.keras` file (written by `train`)."""
    return load_keras_file(path, "Model", f"{WEIGHTS_DIR}/<name>.keras",
                           families=(specs.PixelCNN.family, specs.GatedPixelCNN.family), command="train_pixelcnn.py")


def run_evaluate(args):
    """evaluate: test bits/dim of a saved model next to the per-pixel baseline."""
    import sr_tf.sampling as sampling

    if args.per_image is not None:
        check_file(args.per_image, args.overwrite, example="bits_per_image.csv")
    model = load_model(args.weights)
    height, width, channels, levels = sampling.image_geometry(model)
    splits = load_splits(args, height, channels)  # a folder's images at the model's size
    expected = (height, width, channels)
    if splits.test[0].shape[1:] != expected:
        raise UserInputError(f"{args.weights} models {expected} images; --dataset {args.data} has "
                         f"{splits.test[0].shape[1:]}.")
    labelled = len(model.inputs) > 1
    report(model, splits, levels, labelled=labelled)
    if args.per_image is not None:
        write_per_image(model, splits.test, levels, labelled, args.per_image)
    return 0


def write_per_image(model, split, levels, labelled, path):
    """Writes a CSV of the test images' bits/dim (index, label if any, bits_per_dim), atomically."""
    from sr_tf.metrics import bits_per_image

    scores = bits_per_image(model, _dataset(split, levels, labelled, batch_size=256, shuffle=False, repeat_count=1))
    labels = split[1]
    lines = ["index,label,bits_per_dim" if labels is not None else "index,bits_per_dim"]
    for i, value in enumerate(scores):
        lines.append(f"{i},{int(labels[i])},{value:.6f}" if labels is not None else f"{i},{value:.6f}")
    atomic_write_text(path, "\n".join(lines) + "\n")
    print(f"Wrote the bits/dim of {len(scores)} test images to {path} (mean {np.mean(scores):.4f}, "
          f"min {np.min(scores):.4f}, max {np.max(scores):.4f})")
    return scores


def write_samples(model, path, n=16, seed=0, temperature=1.0, labels=None, method="fast"):
    """Samples n images and writes them as one PNG grid (levels scaled to 0..255); returns the path."""
    import sr_tf.sampling as sampling
    from sr_tf.data.io import image_grid, save_image
    from sr_tf.data.pixelcnn import levels_to_uint8

    levels = sampling.image_geometry(model)[3]
    samples = sampling.sample(model, n, seed=seed, temperature=temperature, labels=labels, method=method,
                                  progress=True)
    scaled = levels_to_uint8(samples, levels)
    zoom = max(1, 64 // samples.shape[1])
    save_image(path, image_grid(scaled, zoom=zoom, padding=zoom))
    print(f"Wrote {n} samples to {path}")
    return path


def run_sample(args):
    """sample: writes a grid of samples from a saved model."""
    default = os.path.splitext(args.weights)[0] + f"-samples-seed{args.seed}.png"
    output = args.output if args.output is not None else default
    check_file(output, args.overwrite, example="samples.png")
    model = load_model(args.weights)
    write_samples(model, output, n=args.n, seed=args.seed, temperature=args.temperature, labels=args.label,
                  method=args.method)
    return 0


def run_complete(args):
    """complete: keeps the top rows of the first --n test images, samples the rest, and writes one grid of rows
    original | occluded (unobserved rows grey) | completion."""
    import sr_tf.sampling as sampling
    from sr_tf.data.io import image_grid, save_image
    from sr_tf.data.pixelcnn import levels_to_uint8, quantize

    model = load_model(args.weights)
    height, width, channels, levels = sampling.image_geometry(model)
    splits = load_splits(args, height, channels)
    images, labels = splits.test
    if images.shape[1:] != (height, width, channels):
        raise UserInputError(f"{args.weights} models {(height, width, channels)} images; --dataset {args.data} "
                             f"has {images.shape[1:]}.")
    if args.observed_rows > height:
        raise UserInputError(f"--observed-rows must be at most the image height {height}. "
                             f"Received: {args.observed_rows}")
    check_file(args.output, args.overwrite, example="completions.png")
    n = min(args.n, len(images))
    original = quantize(images[:n], levels)
    conditional = len(model.inputs) > 1
    completed = sampling.complete(model, original, args.observed_rows, seed=args.seed, method=args.method,
                                  labels=labels[:n] if conditional else None, progress=True)
    occluded = levels_to_uint8(original, levels)
    occluded[:, args.observed_rows:] = 128
    rows = np.stack([levels_to_uint8(original, levels), occluded, levels_to_uint8(completed, levels)], axis=1)
    zoom = max(1, 64 // height)
    save_image(args.output, image_grid(rows.reshape(-1, *rows.shape[2:]), columns=3, zoom=zoom, padding=zoom))
    print(f"Wrote {n} completions (top {args.observed_rows} of {height} rows kept) to {args.output}: "
          "original | occluded | completion")
    return 0


DATA_CHOICES = ["mnist", "digits", "folder"]
DATA_HELP = ("mnist: tensorflow-datasets (downloaded once); digits: bundled 8x8 digits (offline); folder: your "
             "images (--data-dir)")


def _add_data_args(p, data=True):
    if data:
        p.add_argument("--data", "--dataset", dest="data", choices=DATA_CHOICES, default="mnist", help=DATA_HELP)
    p.add_argument("--data-dir", help="tensorflow-datasets folder for mnist; the image folder for folder")
    p.add_argument("--image-size", type=int_range(2), default=28, help="side the folder's images are resized to")
    p.add_argument("--channels", type=int, choices=[1, 3], default=1, help="1: grey, 3: RGB (folder)")


def _per_preset(field):
    """Help text listing a field's default in each preset that has it."""
    values = [f"{name} {getattr(p.architecture, field)}" for name, p in sorted(specs.PRESETS.items())
              if hasattr(p.architecture, field) and isinstance(p.architecture, PixelCNNArchitecture)]
    return "default by preset (--model, --data): " + ", ".join(values)


def parser():
    """The command-line parser of train_pixelcnn.py."""

    root = argparse.ArgumentParser(prog="train_pixelcnn.py", description="Train, evaluate and sample PixelCNNs.")
    sub = root.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a PixelCNN; re-running resumes")
    presets = {n: d for n, d in specs.presets().items()
               if isinstance(specs.PRESETS[n].architecture, PixelCNNArchitecture)}
    add_shared_options(p, presets, specs.preset(PRESET_OF[("pixelcnn", "mnist")]), DATA_CHOICES, DATA_HELP,
                       data_aliases=("--dataset",))
    p.set_defaults(data="mnist")
    _add_data_args(p, data=False)
    p.add_argument("--levels", type=int_range(2, 256), help="values per channel, 2..256 (256: 8-bit; 2: binarized; "
                                                            f"default: the preset's, {specs.PixelCNN.levels})")
    p.add_argument("--model", choices=["pixelcnn", "gated"], help="default: the preset's, else pixelcnn")
    p.add_argument("--num-res-blocks", type=positive_int,
                   help="residual blocks (pixelcnn) or gated layers (gated); " + _per_preset("num_res_blocks") +
                        "; gated: " + _per_preset("num_layers"))
    p.add_argument("--hidden", type=positive_int, help="h: channels (pixelcnn's residual stream has 2h); " +
                   _per_preset("hidden"))
    p.add_argument("--no-batchnorm", action="store_true", help="pixelcnn without BatchNormalization")
    p.add_argument("--head", choices=HEADS, default="softmax",
                   help="softmax: a levels-way categorical per value; logistic_mixture: PixelCNN++'s discretized "
                        "mixture of logistics per pixel (default %(default)s)")
    p.add_argument("--num-mixtures", type=positive_int,
                   help=f"components of the logistic_mixture head (default {specs.PixelCNN.num_mixtures}, "
                        "PixelCNN++'s)")
    p.add_argument("--conditional", action="store_true", help="class-conditional gated model (needs labels)")
    p.add_argument("--learning-rate", type=positive_float, default=PixelCNNRecipe.learning_rate,
                   help="Adam's (default %(default)s)")

    p = sub.add_parser("evaluate", help="test bits/dim of a saved model and the per-pixel baseline")
    _add_data_args(p)
    p.add_argument("--weights", required=True, help="a .keras file written by train")
    p.add_argument("--per-image", metavar="CSV", help="also write each test image's bits/dim (an out-of-distribution "
                                                      "score: higher is less like the training data)")
    p.add_argument("--overwrite", action="store_true", help="replace the --per-image file if it exists")

    p = sub.add_parser("complete", help="keep the top rows of test images, sample the rest (PNG grid)")
    _add_data_args(p)
    p.add_argument("--weights", required=True, help="a .keras file written by train")
    p.add_argument("--observed-rows", type=nonnegative_int, required=True, help="rows kept from each image")
    p.add_argument("-n", "--n", type=positive_int, default=8, help="test images (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--method", choices=["fast", "naive"], default="fast")
    p.add_argument("-o", "--output", default="completions.png", help="PNG path (default %(default)s)")
    p.add_argument("--overwrite", action="store_true", help="replace the -o file if it exists")

    p = sub.add_parser("sample", help="write a PNG grid of samples")
    p.add_argument("--weights", required=True, help="a .keras file written by train")
    p.add_argument("--n", type=positive_int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=positive_float, default=1.0)
    p.add_argument("--label", type=nonnegative_int, help="class label for a conditional model")
    p.add_argument("--method", choices=["fast", "naive"], default="fast")
    p.add_argument("-o", "--output", help="PNG path (default: next to the weights)")
    p.add_argument("--overwrite", action="store_true", help="replace the -o file if it exists")
    return add_verbose(root)


def main(argv=None):
    """Entry point of train_pixelcnn.py; returns the exit status."""
    args = parser().parse_args(argv)
    commands = {"train": run_train, "evaluate": run_evaluate, "sample": run_sample, "complete": run_complete}
    return run_command(commands[args.command], args)
