"""The DIV2K data set (Agustsson & Timofte, NTIRE 2017/2018): download, extraction, cache files and pipeline."""

import os
import shutil
import tempfile
import zipfile

import keras
import tensorflow as tf

from sr_tf.data import degradations
from sr_tf.data.base import AUTOTUNE, PairedImages, cached
from sr_tf.data.transforms import DOWNSCALE_METHODS, downscale
from sr_tf.errors import InputFileNotFoundError, ResourceUnavailableError, UserInputError

DIV2K_URL = "https://data.vision.ee.ethz.ch/cvl/DIV2K/"
SCALES = (2, 3, 4, 8)
SUBSETS = ("train", "valid")
DOWNGRADES = ("bicubic", "unknown", "mild", "difficult")


class DIV2K(PairedImages):
    """DIV2K LR/HR image pairs for one scale, subset and downgrade.

    Images 0001-0800 form the 'train' subset and 0801-0900 'valid'. Missing archives are downloaded from
    `base_url` and extracted under `images_dir`; decoded images are kept in tf.data cache files under
    `caches_dir`, filled once.

    Args:
        scale: 2, 3, 4 or 8 (8 only with 'bicubic').
        subset: 'train' or 'valid'.
        downgrade: 'bicubic' or 'unknown' (NTIRE 2017, all scales but 8), 'mild' or 'difficult' (NTIRE 2018,
            x4 only).
        images_dir: where archives are extracted.
        caches_dir: where tf.data cache files are written.
        base_url: the download location (the ETH Zurich server by default).
        hr_crop_size: HR patch side for training crops.
        degradation: None (the default): the LR images of `downgrade`, downloaded; otherwise only the HR images
            are used and LR is made from them: 'bicubic' or 'matlab' from each whole image, 'realesrgan' or a
            callable `degrade(hr, scale, draws)` per training patch (see `ImageFolder` and
            `sr_tf.data.degradations`).
    """

    def __init__(self, scale=2, subset="train", downgrade="bicubic", images_dir=".div2k/images",
                 caches_dir=".div2k/caches", base_url=DIV2K_URL, hr_crop_size=96, degradation=None):
        if scale not in SCALES:
            raise UserInputError(f"`scale` must be one of {list(SCALES)}. Received: scale={scale!r}")
        if subset not in SUBSETS:
            raise UserInputError(f"`subset` must be one of {list(SUBSETS)}. Received: subset={subset!r}")
        if downgrade not in DOWNGRADES:
            raise UserInputError(f"`downgrade` must be one of {list(DOWNGRADES)}. Received: downgrade={downgrade!r}")
        if scale == 8 and downgrade != "bicubic":
            raise UserInputError("DIV2K has x8 images only for the 'bicubic' downgrade. "
                                 f"Received: downgrade={downgrade!r}")
        if downgrade in ("mild", "difficult") and scale != 4:
            raise UserInputError(f"The '{downgrade}' downgrade exists only at scale 4. Received: scale={scale}")
        if hr_crop_size % scale:
            raise UserInputError(f"`hr_crop_size` ({hr_crop_size}) must be divisible by scale ({scale}).")
        if degradation is not None:
            degrade = degradations.get(degradation)
            if degradation not in DOWNSCALE_METHODS:
                self.patch_degradation = degrade
        self.degradation = degradation
        self.scale = scale
        self.subset = subset
        self.hr_crop_size = hr_crop_size
        self.image_ids = range(1, 801) if subset == "train" else range(801, 901)
        # NTIRE 2018 tracks (x8 bicubic, mild, difficult) use one archive per downgrade and their own file names.
        self._ntire_2018 = scale == 8 or downgrade in ("mild", "difficult")
        self.downgrade = "x8" if scale == 8 else downgrade
        self.images_dir = os.fspath(images_dir)
        self.caches_dir = os.fspath(caches_dir)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"

    def __len__(self):
        return len(self.image_ids)

    # Names, exactly as the DIV2K server and archives spell them.
    def hr_images_archive(self):
        """The HR archive's file name on the DIV2K server."""
        return f"DIV2K_{self.subset}_HR.zip"

    def lr_images_archive(self):
        """The LR archive's file name on the DIV2K server."""
        if self._ntire_2018:
            return f"DIV2K_{self.subset}_LR_{self.downgrade}.zip"
        return f"DIV2K_{self.subset}_LR_{self.downgrade}_X{self.scale}.zip"

    def hr_images_subdir(self):
        """The folder the HR archive extracts to."""
        return f"DIV2K_{self.subset}_HR"

    def lr_images_subdir(self):
        """The folder of this scale's LR images inside the extracted archive."""
        if self._ntire_2018:
            return f"DIV2K_{self.subset}_LR_{self.downgrade}"
        return os.path.join(f"DIV2K_{self.subset}_LR_{self.downgrade}", f"X{self.scale}")

    def lr_image_file(self, image_id):
        """The LR file name of image `image_id` (e.g. 0001x4.png, 0001x4m.png)."""
        if not self._ntire_2018 or self.scale == 8:
            return f"{image_id:04}x{self.scale}.png"
        return f"{image_id:04}x{self.scale}{self.downgrade[0]}.png"

    def hr_image_files(self):
        """Paths of the HR images of this subset, in id order."""
        directory = os.path.join(self.images_dir, self.hr_images_subdir())
        return [os.path.join(directory, f"{image_id:04}.png") for image_id in self.image_ids]

    def lr_image_files(self):
        """Paths of the LR images of this subset, in id order."""
        directory = os.path.join(self.images_dir, self.lr_images_subdir())
        return [os.path.join(directory, self.lr_image_file(image_id)) for image_id in self.image_ids]

    def hr_cache_file(self):
        """The tf.data cache file of the decoded HR images."""
        return os.path.join(self.caches_dir, f"DIV2K_{self.subset}_HR.cache")

    def lr_cache_file(self):
        """The tf.data cache file of the decoded LR images."""
        return os.path.join(self.caches_dir, f"DIV2K_{self.subset}_LR_{self.downgrade}_X{self.scale}.cache")

    def hr_dataset(self):
        """HR images (uint8), downloaded and cached on first use."""
        return self._images(self.hr_images_archive(), self.hr_images_subdir(), self.hr_image_files(),
                            self.hr_cache_file(), "HR")

    def lr_dataset(self):
        """LR images (uint8) aligned with `hr_dataset`, downloaded and cached on first use (or made from HR
        with the `degradation`)."""
        if self.patch_degradation is not None:
            return self.degraded_lr()
        if self.degradation is not None:
            method, scale = self.degradation, self.scale
            return self.hr_dataset().map(lambda hr: downscale(hr, scale, method), num_parallel_calls=AUTOTUNE)
        return self._images(self.lr_images_archive(), self.lr_images_subdir(), self.lr_image_files(),
                            self.lr_cache_file(), f"LR {self.downgrade} x{self.scale}")

    def _images(self, archive, subdir, files, cache_file, description):
        target = os.path.join(self.images_dir, subdir)
        if not os.path.isdir(target):
            download_archive(archive, self.images_dir, subdir, self.base_url)
        missing = [f for f in files if not os.path.isfile(f)]
        if missing:
            raise InputFileNotFoundError(
                f"{len(missing)} DIV2K images are missing from {target}, first {missing[0]}. Delete {target} to "
                f"download {archive} again."
            )
        ds = tf.data.Dataset.from_tensor_slices(files)
        ds = ds.map(tf.io.read_file, num_parallel_calls=AUTOTUNE)
        ds = ds.map(lambda x: tf.image.decode_png(x, channels=3), num_parallel_calls=AUTOTUNE)
        return cached(ds, cache_file, len(files), f"DIV2K {self.subset} {description} images")


def download_archive(archive, images_dir, subdir, base_url=DIV2K_URL):
    """Downloads a DIV2K archive with `keras.utils.get_file` and extracts the folder `subdir` of it.

    Extraction goes to a temporary folder first and the finished folder is moved into place, so an interrupted
    download or extraction never leaves a half-filled image folder that looks complete. An archive this call
    downloaded is deleted afterwards; one that was in `images_dir` already (placed there by hand) is used and kept.

    Args:
        archive: file name on the server, e.g. 'DIV2K_train_HR.zip'.
        images_dir: where the extracted folders live.
        subdir: the folder inside the archive that must end up at `images_dir/subdir`.
        base_url: server location ending in '/'.

    Raises:
        ResourceUnavailableError: if the download fails (with the URL and how to place the files by hand).
        UserInputError: if the archive does not contain `subdir`.
    """
    images_dir = os.path.abspath(images_dir)
    os.makedirs(images_dir, exist_ok=True)
    url = base_url + archive
    placed = os.path.exists(os.path.join(images_dir, archive))  # the user's: read, never removed
    try:
        path = keras.utils.get_file(archive, url, cache_dir=images_dir, cache_subdir=".")
    except Exception as e:  # noqa: BLE001 - any transport error gets the same advice
        raise ResourceUnavailableError(
            f"Could not download {url} ({type(e).__name__}: {e}). Download it on a machine with network access and "
            f"extract it into {images_dir} so that {os.path.join(images_dir, subdir)} exists."
        ) from e
    staging = tempfile.mkdtemp(dir=images_dir, prefix=".extract-")
    try:
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                resolved = os.path.abspath(os.path.join(staging, member))
                if not resolved.startswith(staging + os.sep):
                    raise UserInputError(f"Unsafe path {member!r} in {path}")
            zf.extractall(staging)
        extracted = os.path.join(staging, subdir)
        if not os.path.isdir(extracted):
            raise UserInputError(f"{archive} does not contain the expected folder {subdir}.")
        destination = os.path.join(images_dir, subdir)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        os.replace(extracted, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not placed and os.path.exists(path):
            os.remove(path)
