"""Super-resolution training pairs from a user's own image folders (`ImageFolder`)."""

import hashlib
import os

import tensorflow as tf

from sr_tf.data import degradations
from sr_tf.data.base import PairedImages, cached
from sr_tf.data.io import file_signature, image_size, list_images, read_image
from sr_tf.data.transforms import DOWNSCALE_METHODS, crop_to_multiple, downscale
from sr_tf.errors import Arg, InputFileNotFoundError, UserInputError, in_pipeline, skipped_image, warn


def _stem(path, root):
    return os.path.splitext(os.path.relpath(path, root))[0]


class ImageFolder(PairedImages):
    """LR/HR pairs from a user's own folders: HR-only (LR made on the fly) or paired LR/HR folders.

    Files are found recursively (PNG and JPEG) and converted by the module's rule. In paired mode, an LR file is
    matched to the HR file with the same relative path and name (extension free; a DIV2K-style `x{scale}` suffix
    on the LR name is accepted). Every file is checked when the source is built, so a missing or empty folder, an
    unreadable file, a missing LR partner, or a size that does not match the scale is an error naming the path.

    Args:
        hr_dir: folder of HR images, or a list of HR image files (HR-only mode).
        scale: upscaling factor.
        lr_dir: optional folder of matching LR images; without it LR images are made with `downscale`.
        hr_crop_size: side of the HR training patches; images smaller than it are skipped (with a warning)
            when random patches are drawn.
        crop_to_scale: crop HR images whose sides are not divisible by `scale` (bottom/right) instead of raising.
        caches_dir: optional folder for tf.data cache files of the decoded images; in memory when None. A cache is
            keyed by the files' paths, sizes and modification times, so an edited image is read again.
        skip_unreadable: skip unreadable images (and their partners) with a warning naming them, instead of
            raising (the command lines skip, as for every data source).
        degradation: how HR-only mode makes LR: 'bicubic' (antialiased `tf.image.resize`, the default) or
            'matlab' (MATLAB's `imresize`) from each whole image; 'realesrgan' or a callable
            `degrade(hr, scale, draws)` per training patch after cropping, rotating and flipping (see
            `sr_tf.data.degradations`), and per whole image with fixed seeds for validation.
    """

    def __init__(self, hr_dir, scale=4, lr_dir=None, hr_crop_size=96, crop_to_scale=False, caches_dir=None,
                 skip_unreadable=False, degradation="bicubic"):
        if not isinstance(scale, int) or scale < 1:
            raise UserInputError(f"`scale` must be a positive integer. Received: scale={scale!r}")
        if hr_crop_size % scale:
            raise UserInputError(f"`hr_crop_size` ({hr_crop_size}) must be divisible by scale ({scale}).")
        self.scale = scale
        self.hr_crop_size = hr_crop_size
        self.degradation = degradation
        degrade = degradations.get(degradation)
        if degradation not in DOWNSCALE_METHODS:
            self.patch_degradation = degrade
        if lr_dir is not None and degradation != "bicubic":
            raise UserInputError(f"LR images come from lr_dir={lr_dir}; a degradation makes them from HR images "
                                 f"instead. Pass one of the two. Received: degradation={degradation!r}")
        self.lr_dir = None if lr_dir is None else os.fspath(lr_dir)
        self.crop_to_scale = crop_to_scale
        self.caches_dir = caches_dir
        if isinstance(hr_dir, (list, tuple)):
            if lr_dir is not None:
                raise UserInputError("Paired LR/HR mode needs an HR folder, not a list of files.")
            if not hr_dir:
                raise UserInputError("The list of HR image files is empty.")
            self.hr_files = [os.fspath(p) for p in hr_dir]
            for path in self.hr_files:
                if not os.path.isfile(path):
                    raise InputFileNotFoundError(f"Image file not found: {path}")
            self.hr_dir = os.path.commonpath([os.path.abspath(p) for p in self.hr_files])
        else:
            self.hr_dir = os.fspath(hr_dir)
            self.hr_files = list_images(self.hr_dir)
        self.skip_unreadable = skip_unreadable
        self._lr_orphans = []  # LR files without an HR partner, found by _match_lr_files
        self.lr_files = self._match_lr_files() if self.lr_dir else None
        self._keep_readable()
        self._check_sizes()
        self._check_orphans()
        # Caches are keyed by what the files hold when the source is built (path, size, modification time).
        self._signatures = [file_signature(p) for p in self.hr_files + (self.lr_files or [])]

    def __len__(self):
        return len(self.hr_files)

    def _match_lr_files(self):
        lr_files = list_images(self.lr_dir)
        by_stem = {}
        for p in lr_files:
            stem = _stem(p, self.lr_dir)
            by_stem[stem] = p
            suffix = f"x{self.scale}"
            if stem.lower().endswith(suffix):
                by_stem.setdefault(stem[: -len(suffix)], p)
        matched = []
        for hr in self.hr_files:
            lr = by_stem.get(_stem(hr, self.hr_dir))
            if lr is None:
                raise UserInputError(
                    f"No LR image in {self.lr_dir} matches HR image {hr} (expected the same relative name, "
                    f"optionally with an 'x{self.scale}' suffix)."
                )
            matched.append(lr)
        self._lr_orphans = sorted(set(lr_files) - set(matched))
        return matched

    def _check_orphans(self):
        orphans = self._lr_orphans
        if orphans:
            raise UserInputError(f"LR image {orphans[0]} has no HR partner in {self.hr_dir} (expected the same "
                                 f"relative name without the optional 'x{self.scale}' suffix)"
                                 + (f"; {len(orphans) - 1} more LR images have none either." if len(orphans) > 1
                                    else "."))

    def _keep_readable(self):
        """Reads every file's size, checking that it decodes; unreadable ones raise or, with `skip_unreadable`,
        are dropped with their partners (a warning names each)."""
        sizes, keep = [], []
        for i, path in enumerate(self.hr_files):
            try:
                size = image_size(path)
                if self.lr_files:
                    image_size(self.lr_files[i])
            except UserInputError as e:
                if not self.skip_unreadable:
                    raise
                skipped_image(path if path in str(e) else self.lr_files[i], e)
                continue
            sizes.append(size)
            keep.append(i)
        if not keep:
            raise UserInputError(f"None of the {len(self.hr_files)} images in {self.hr_dir} can be read.")
        self.hr_files = [self.hr_files[i] for i in keep]
        self.lr_files = None if self.lr_files is None else [self.lr_files[i] for i in keep]
        self.hr_sizes = sizes

    def _check_sizes(self):
        s = self.scale
        self.cropped = [(path, (h, w), (h - h % s, w - w % s)) for path, (h, w) in zip(self.hr_files, self.hr_sizes)
                        if self.crop_to_scale and (h % s or w % s)]  # (path, size, size after the crop)
        for i, (path, (h, w)) in enumerate(zip(self.hr_files, self.hr_sizes)):
            if self.lr_files:
                lh, lw = image_size(self.lr_files[i])
                if (lh * s, lw * s) != (h - h % s, w - w % s) or ((h % s or w % s) and not self.crop_to_scale):
                    raise UserInputError(
                        f"Sizes do not match scale {s}: HR {path} is {w}x{h}, LR {self.lr_files[i]} is {lw}x{lh} "
                        f"(expected {w // s}x{h // s} with HR sides divisible by {s})."
                    )
            elif min(h, w) < s:
                raise UserInputError(f"{path} ({w}x{h}) is smaller than the scale {s}: there is no LR image to make.")
            elif (h % s or w % s) and not self.crop_to_scale:
                raise UserInputError(
                    f"Scale {s} does not divide the size of {path} ({w}x{h}). Crop or resize the image, or pass ",
                    Arg("crop_to_scale", True), " to crop it to a multiple of the scale."
                )

    def _usable_for_crop(self):
        usable = [min(h, w) >= self.hr_crop_size for h, w in self.hr_sizes]
        for ok, path, (h, w) in zip(usable, self.hr_files, self.hr_sizes):
            if not ok:
                warn(f"skipped {path}: {w}x{h} is smaller than the {self.hr_crop_size}px crop")
        if not any(usable):
            raise UserInputError(f"Every image in {self.hr_dir} is smaller than the {self.hr_crop_size}px crop.")
        return usable

    def _decoded(self, kind):
        scale, crop = self.scale, self.crop_to_scale
        hr_files, lr_files = self.hr_files, self.lr_files
        files = lr_files if kind == "lr" and lr_files else hr_files

        @in_pipeline
        def read(i):
            image, _ = read_image(files[int(i)])
            return crop_to_multiple(image, scale) if crop and files is hr_files else image

        # A map over file indices, not `from_generator`: a live generator dataset sets a process-wide allocator
        # option (M_TRIM_THRESHOLD) that made training steps up to 2x slower.
        ds = tf.data.Dataset.range(len(files)).map(
            lambda i: tf.ensure_shape(tf.numpy_function(read, [i], tf.uint8, stateful=False), (None, None, 3)))
        if kind == "lr" and not lr_files:
            method = self.degradation
            ds = ds.map(lambda hr: downscale(hr, scale, method))
        if self.caches_dir is None:
            return ds.cache()
        # The cache name identifies the exact file list and options, so folders never share a cache.
        key = "\n".join([kind, str(scale), str(crop)] + ([self.degradation] if self.degradation != "bicubic" else [])
                        + self._signatures)
        digest = hashlib.sha1(key.encode("utf8", "surrogateescape")).hexdigest()[:12]  # any file name
        cache_file = os.path.join(self.caches_dir, f"folder_{kind}_x{scale}_{digest}.cache")
        return cached(ds, cache_file, len(hr_files), f"{kind.upper()} images of {self.hr_dir}")

    def hr_dataset(self):
        """HR images in file order (uint8)."""
        return self._decoded("hr")

    def lr_dataset(self):
        """LR images aligned with `hr_dataset` (read from `lr_dir`, made with `downscale`, or degraded)."""
        return self.degraded_lr() if self.patch_degradation else self._decoded("lr")

    def _usable(self, ds):
        usable = tf.constant(self._usable_for_crop())
        pairs = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(usable), ds))
        return pairs.filter(_is_usable).map(_drop_flag)

    def _pairs_for_cropping(self):
        return self._usable(super()._pairs_for_cropping())

    def _hr_for_cropping(self):
        return self._usable(self.hr_dataset())


def _is_usable(usable, pair):
    return usable


def _drop_flag(usable, pair):
    return pair
