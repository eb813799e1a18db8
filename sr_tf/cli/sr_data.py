"""The data of the super-resolution training commands (train_srgan.py's pretrain, gan, edsr, wdsr, rrdb and
realesrgan) and of `evaluate`: their options, their datasets, and what the checkpoint folder records of them."""

import argparse
import os

from sr_tf.errors import UserInputError


def chosen_degradation(options, plan_settings=None):
    """The LR degradation of a run: its plan's (`settings['degradation']`, a recipe's default), else
    --degradation."""
    if plan_settings is not None and plan_settings.get("degradation") is not None:
        return plan_settings["degradation"]
    return options.degradation


def datasets(plan, scale, hr_crop_size=96, seed=None):
    """(train dataset, validation dataset) from DIV2K, the user's folders, or the bundled samples, batched by the
    plan's recipe; `seed` seeds the training pipeline's crops, flips and order."""
    from sr_tf.data import DIV2K, ImageFolder
    from sr_tf.data.io import SAMPLE_HELD_OUT, SAMPLE_TRAIN, sample_files

    args = plan.options
    if args.data == "folder" and args.hr_dir is None:
        raise UserInputError("--data folder needs --hr-dir.")
    chosen = chosen_degradation(args, plan.settings)
    degradation = "bicubic" if chosen is None else chosen
    if args.data == "samples":
        train = ImageFolder(sample_files(SAMPLE_TRAIN), scale=scale, hr_crop_size=hr_crop_size, crop_to_scale=True,
                            degradation=degradation)
        valid = ImageFolder(sample_files([SAMPLE_HELD_OUT]), scale=scale, hr_crop_size=hr_crop_size,
                            crop_to_scale=True, degradation=degradation)
    elif args.hr_dir is not None:
        train = ImageFolder(args.hr_dir, scale=scale, lr_dir=args.lr_dir, hr_crop_size=hr_crop_size,
                            crop_to_scale=args.crop_to_scale, caches_dir=args.caches_dir, skip_unreadable=True,
                            degradation=degradation)
        valid = None
        if args.valid_hr_dir:
            valid = ImageFolder(args.valid_hr_dir, scale=scale, lr_dir=args.valid_lr_dir, hr_crop_size=hr_crop_size,
                                crop_to_scale=args.crop_to_scale, skip_unreadable=True,
                                degradation="bicubic" if args.valid_lr_dir else degradation)
    else:
        kwargs = dict(scale=scale, downgrade=args.downgrade, images_dir=args.images_dir, caches_dir=args.caches_dir,
                      hr_crop_size=hr_crop_size, degradation=chosen)
        train, valid = DIV2K(subset="train", **kwargs), DIV2K(subset="valid", **kwargs)
    for folder in (train, valid):
        report_cropped(folder)
    train_ds = train.dataset(batch_size=plan.recipe.batch_size, random_transform=True, seed=seed)
    valid_ds = None
    if valid is not None:  # the tutorial validates on the first 10 validation images
        valid_ds = valid.dataset(batch_size=1, random_transform=False, repeat_count=1).take(10)
    return train_ds, valid_ds


def report_cropped(folder):
    """Prints which HR images of an `ImageFolder` were cropped to a multiple of the scale, and by how much."""
    cropped = getattr(folder, "cropped", None)
    if not cropped:
        return
    shown = ", ".join(f"{os.path.basename(path)} {w}x{h} -> {w2}x{h2}" for path, (h, w), (h2, w2) in cropped[:3])
    more = f" and {len(cropped) - 3} more" if len(cropped) > 3 else ""
    print(f"Cropped {len(cropped)} of {len(folder.hr_files)} HR images at the bottom/right to a multiple of "
          f"{folder.scale}: {shown}{more}")


def data_record(args, scale, degradation=None):
    """What the training data are, as the checkpoint folder records them (resuming on other data is an error);
    `degradation`: the run's when it is not --degradation."""
    def where(path):
        return None if path is None else os.path.abspath(path)

    degradation = args.degradation if degradation is None else degradation
    extra = {} if degradation is None else {"degradation": degradation}
    if args.data == "samples":
        return {"source": "bundled samples", "scale": scale, **extra}
    if args.hr_dir is not None:
        return {"source": "folder", "hr_dir": where(args.hr_dir), "lr_dir": where(args.lr_dir), "scale": scale,
                "crop_to_scale": args.crop_to_scale, **extra}
    return {"source": "DIV2K", "scale": scale, "downgrade": args.downgrade, **extra}


def add_data_args(p):
    """The data options of the super-resolution commands (the scale is an architecture flag)."""
    p.add_argument("--downgrade", default="bicubic", choices=["bicubic", "unknown", "mild", "difficult"])
    p.add_argument("--images-dir", default=".div2k/images")
    p.add_argument("--caches-dir", default=".div2k/caches")
    p.add_argument("--hr-dir", help="folder of HR training images (LR made by bicubic unless --lr-dir)")
    p.add_argument("--lr-dir", help="folder of LR images matching --hr-dir by file name")
    p.add_argument("--valid-hr-dir", help="folder of HR validation images")
    p.add_argument("--valid-lr-dir", help="folder of LR validation images")
    p.add_argument("--crop-to-scale", action=argparse.BooleanOptionalAction, default=True,
                   help="crop each HR image at the bottom and right to a multiple of the scale, saying which files "
                        "lost how many pixels (default); --no-crop-to-scale refuses such images instead")
    p.add_argument("--degradation", choices=["bicubic", "matlab", "realesrgan"], default=None,
                   help="make LR from HR images: bicubic (folders' default), MATLAB bicubic, or Real-ESRGAN's "
                        "blur/resize/noise/JPEG model per patch (default for DIV2K: its downloaded LR images)")
