"""Data: DIV2K names, download through a local server, cache rebuild, alignment, folders and bad input."""

import os
import shutil
import zipfile

import numpy as np
import pytest
import tensorflow as tf
from helpers import block_mean, random_image, write_png
from PIL import Image

from sr_tf.data import DIV2K, ImageFolder, cache_is_complete, downscale, read_image

VALID_COMBINATIONS = [(s, d) for d in ("bicubic", "unknown") for s in (2, 3, 4)] + \
    [(8, "bicubic"), (4, "mild"), (4, "difficult")]


def expected_names(subset, scale, downgrade):
    """DIV2K's published archive / folder / first-file / cache names, spelled out from the data set's layout."""
    first = "0001" if subset == "train" else "0801"
    if scale == 8:
        return (f"DIV2K_{subset}_LR_x8.zip", f"DIV2K_{subset}_LR_x8", f"{first}x8.png",
                f"DIV2K_{subset}_LR_x8_X8.cache")
    if downgrade in ("mild", "difficult"):
        return (f"DIV2K_{subset}_LR_{downgrade}.zip", f"DIV2K_{subset}_LR_{downgrade}",
                f"{first}x4{downgrade[0]}.png", f"DIV2K_{subset}_LR_{downgrade}_X4.cache")
    return (f"DIV2K_{subset}_LR_{downgrade}_X{scale}.zip", f"DIV2K_{subset}_LR_{downgrade}/X{scale}",
            f"{first}x{scale}.png", f"DIV2K_{subset}_LR_{downgrade}_X{scale}.cache")


@pytest.mark.parametrize("subset", ["train", "valid"])
@pytest.mark.parametrize("scale,downgrade", VALID_COMBINATIONS)
def test_div2k_names_for_every_combination(subset, scale, downgrade, tmp_path):
    div2k = DIV2K(scale, subset, downgrade, images_dir=str(tmp_path / "i"), caches_dir=str(tmp_path / "c"))
    archive, folder, first_file, cache = expected_names(subset, scale, downgrade)
    assert div2k.lr_images_archive() == archive
    assert div2k.hr_images_archive() == f"DIV2K_{subset}_HR.zip"
    assert div2k.lr_image_files()[0] == os.path.join(str(tmp_path / "i"), *folder.split("/"), first_file)
    assert div2k.hr_image_files()[0].endswith(os.path.join(f"DIV2K_{subset}_HR", first_file[:4] + ".png"))
    assert os.path.basename(div2k.lr_cache_file()) == cache
    assert os.path.basename(div2k.hr_cache_file()) == f"DIV2K_{subset}_HR.cache"
    assert len(div2k) == (800 if subset == "train" else 100)


@pytest.mark.parametrize("kwargs", [dict(scale=5), dict(subset="test"), dict(downgrade="nearest"),
                                    dict(scale=8, downgrade="unknown"), dict(scale=2, downgrade="mild")])
def test_div2k_rejects_impossible_combinations(kwargs):
    with pytest.raises(ValueError, match="Received"):
        DIV2K(**kwargs)


def _serve_div2k(root, scale, downgrade, hr_size, rng):
    """Writes valid-subset zips in DIV2K's layout (LR = rounded block means of HR); returns the images."""
    names = DIV2K(scale, "valid", downgrade)
    hr_images, lr_images = [], []
    with zipfile.ZipFile(root / names.hr_images_archive(), "w") as hz, \
            zipfile.ZipFile(root / names.lr_images_archive(), "w") as lz:
        for image_id, hr_path, lr_path in zip(names.image_ids, names.hr_image_files(), names.lr_image_files()):
            hr = random_image(rng, hr_size, hr_size)
            lr = np.round(block_mean(hr, scale)).astype(np.uint8)
            for z, path, array in ((hz, hr_path, hr), (lz, lr_path, lr)):
                tmp = root / "tmp.png"
                Image.fromarray(array).save(tmp)
                z.write(tmp, os.path.relpath(path, ".div2k/images"))
            hr_images.append(hr)
            lr_images.append(lr)
    os.remove(root / "tmp.png")
    return hr_images, lr_images


@pytest.mark.parametrize("scale,downgrade", [(2, "bicubic"), (4, "mild")])
def test_div2k_downloads_extracts_caches_and_rebuilds(scale, downgrade, http_server, tmp_path, rng):
    root, url, requests = http_server
    hr_images, lr_images = _serve_div2k(root, scale, downgrade, hr_size=16, rng=rng)
    dirs = dict(images_dir=str(tmp_path / "images"), caches_dir=str(tmp_path / "caches"), base_url=url)
    div2k = DIV2K(scale, "valid", downgrade, hr_crop_size=8, **dirs)
    pairs = list(div2k.dataset(batch_size=1, repeat_count=1, random_transform=False))
    assert sorted(requests) == sorted("/" + a for a in (div2k.hr_images_archive(), div2k.lr_images_archive()))
    assert len(pairs) == 100
    for (lr, hr), lr_expected, hr_expected in zip(pairs, lr_images, hr_images):
        np.testing.assert_array_equal(lr[0], lr_expected)
        np.testing.assert_array_equal(hr[0], hr_expected)
    assert not list((tmp_path / "images").glob("*.zip")) and not list((tmp_path / "images").glob(".extract-*"))
    assert cache_is_complete(div2k.hr_cache_file()) and cache_is_complete(div2k.lr_cache_file())

    # Training batches: aligned random crops from the cache, no second download.
    again = DIV2K(scale, "valid", downgrade, hr_crop_size=8, **dirs)
    lr, hr = next(iter(again.dataset(batch_size=16)))
    assert lr.shape == (16, 8 // scale, 8 // scale, 3) and hr.shape == (16, 8, 8, 3)
    assert np.abs(block_mean(hr, scale) - lr.numpy()).max() <= 0.5
    assert len(requests) == 2

    # A cache whose data shard is gone (an .index alone) is detected and rebuilt.
    cache = again.hr_cache_file()
    for f in os.listdir(os.path.dirname(cache)):
        if f.startswith(os.path.basename(cache) + ".data-"):
            os.remove(os.path.join(os.path.dirname(cache), f))
    assert not cache_is_complete(cache)
    rebuilt = list(DIV2K(scale, "valid", downgrade, **dirs).hr_dataset())
    assert cache_is_complete(cache) and len(rebuilt) == 100
    np.testing.assert_array_equal(rebuilt[7], hr_images[7])


def test_a_div2k_archive_placed_by_hand_is_read_and_kept(http_server, tmp_path, rng):
    """The download advice says to put the archive in the images folder: it is used without a request, and,
    being the user's file, it is not deleted after extraction (only an archive the loader downloaded is)."""
    root, url, requests = http_server
    hr_images, _ = _serve_div2k(root, 2, "bicubic", hr_size=16, rng=rng)
    images = tmp_path / "images"
    images.mkdir()
    div2k = DIV2K(2, "valid", images_dir=str(images), caches_dir=str(tmp_path / "caches"), base_url=url)
    placed = images / div2k.hr_images_archive()
    shutil.copy(root / div2k.hr_images_archive(), placed)
    data = placed.read_bytes()
    got = list(div2k.hr_dataset())
    assert requests == [] and len(got) == 100
    np.testing.assert_array_equal(got[3], hr_images[3])
    assert placed.read_bytes() == data


def test_div2k_download_failure_names_the_url(tmp_path, http_server):
    _, url, _ = http_server  # serves nothing: every archive is a 404
    div2k = DIV2K(2, "valid", images_dir=str(tmp_path / "i"), caches_dir=str(tmp_path / "c"), base_url=url)
    with pytest.raises(RuntimeError, match="DIV2K_valid_HR.zip"):
        div2k.hr_dataset()
    assert not os.path.exists(tmp_path / "i" / "DIV2K_valid_HR")


def test_random_crops_stay_aligned_after_rotate_and_flip(tmp_path, rng):
    scale = 4
    for i in range(3):
        hr = random_image(rng, 48 + 8 * i, 64)
        write_png(str(tmp_path / "hr" / f"img{i}.png"), hr)
        write_png(str(tmp_path / "lr" / f"img{i}x4.png"), np.round(block_mean(hr, scale)).astype(np.uint8))
    sources = [np.asarray(Image.open(tmp_path / "hr" / f"img{i}.png")) for i in range(3)]
    folder = ImageFolder(str(tmp_path / "hr"), scale=scale, lr_dir=str(tmp_path / "lr"), hr_crop_size=16)
    orientations, symmetries = set(), set()
    for lr, hr in folder.dataset(batch_size=8, repeat_count=20).take(10):
        assert lr.shape[1:] == (4, 4, 3) and hr.shape[1:] == (16, 16, 3)
        assert np.abs(block_mean(hr, scale) - lr.numpy()).max() <= 0.5
        orientations.update(int(np.argmax(h[:, :, 0].numpy().ravel())) for h in hr)
        symmetries.update(_symmetry_of(h.numpy(), sources) for h in hr)
    assert len(orientations) > 10  # crops really vary
    # Each crop is a window of a source image under one of the square's 8 symmetries (rotations by k x 90 degrees,
    # with or without a flip), and the pipeline draws them: most of the 8 appear in 80 crops.
    assert None not in symmetries and len(symmetries) >= 6, symmetries


def _symmetry_of(crop, sources):
    """(k, flipped) such that crop = rot90(fliplr?(window), k) for a window of one of `sources`; None if none."""
    n = crop.shape[0]
    for k in range(4):
        for flipped in (False, True):
            window = np.rot90(crop, -k)
            window = window[:, ::-1] if flipped else window
            for image in sources:
                for y, x in np.argwhere((image[:-n + 1 or None, :-n + 1 or None] == window[0, 0]).all(-1)):
                    if np.array_equal(image[y:y + n, x:x + n], window):
                        return k, flipped
    return None


def test_hr_only_folder_makes_lr_with_antialiased_bicubic(tmp_path, rng):
    hr = random_image(rng, 32, 24)
    write_png(str(tmp_path / "a" / "b" / "deep.png"), hr)  # recursive search
    folder = ImageFolder(str(tmp_path / "a"), scale=2, hr_crop_size=8)
    lr, hr_out = next(iter(folder.dataset(batch_size=1, random_transform=False)))
    np.testing.assert_array_equal(hr_out[0], hr)
    expected = tf.image.resize(hr.astype("float32"), (16, 12), method="bicubic", antialias=True)
    np.testing.assert_array_equal(lr[0], np.clip(np.round(expected.numpy()), 0, 255).astype(np.uint8))
    np.testing.assert_array_equal(lr[0], downscale(hr, 2))


def test_conversion_rule_for_every_image_kind(tmp_path, rng):
    grey = rng.integers(0, 256, (8, 8), dtype=np.uint8)
    rgb, alpha = read_image(write_png(str(tmp_path / "grey.png"), grey))
    assert alpha is None and all(np.array_equal(rgb[..., c], grey) for c in range(3))

    rgba = random_image(rng, 8, 8, 4)
    rgb, alpha = read_image(write_png(str(tmp_path / "rgba.png"), rgba))
    np.testing.assert_array_equal(rgb, rgba[..., :3])
    np.testing.assert_array_equal(alpha, rgba[..., 3])

    la = np.dstack([grey, 255 - grey])
    rgb, alpha = read_image(write_png(str(tmp_path / "la.png"), la, "LA"))
    np.testing.assert_array_equal(rgb[..., 1], grey)
    np.testing.assert_array_equal(alpha, 255 - grey)

    deep = (rng.integers(0, 256, (8, 8)) * 257).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep16.png")
    rgb, _ = read_image(str(tmp_path / "deep16.png"))
    np.testing.assert_array_equal(rgb[..., 0], deep // 257)

    palette_image = Image.fromarray(rng.integers(0, 4, (8, 8), dtype=np.uint8), "P")
    colours = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]
    palette_image.putpalette(colours + [0] * (768 - len(colours)))
    palette_image.save(tmp_path / "palette.png")
    rgb, _ = read_image(str(tmp_path / "palette.png"))
    lookup = np.array(colours, dtype=np.uint8).reshape(4, 3)
    np.testing.assert_array_equal(rgb, lookup[np.asarray(palette_image)])

    rgb, _ = read_image(write_png(str(tmp_path / "photo.jpg"), random_image(rng, 8, 8)))
    assert rgb.shape == (8, 8, 3) and rgb.dtype == np.uint8


def test_small_images_are_skipped_with_a_warning_naming_them(tmp_path, rng):
    write_png(str(tmp_path / "big.png"), random_image(rng, 32, 32))
    write_png(str(tmp_path / "tiny.png"), random_image(rng, 8, 8))
    folder = ImageFolder(str(tmp_path), scale=2, hr_crop_size=16)
    with pytest.warns(UserWarning, match="tiny.png"):
        batches = list(folder.dataset(batch_size=4, repeat_count=3))
    assert sum(len(hr) for _, hr in batches) == 3  # only big.png, once per epoch


def test_bad_folders_and_files_are_clear_errors(tmp_path, rng):
    with pytest.raises(FileNotFoundError, match="missing"):
        ImageFolder(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    with pytest.raises(ValueError, match="empty"):
        ImageFolder(str(tmp_path / "empty"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.png").write_text("not a png")
    with pytest.raises(ValueError, match="broken.png"):
        ImageFolder(str(tmp_path / "bad"))
    odd = write_png(str(tmp_path / "odd" / "odd.png"), random_image(rng, 30, 31))
    with pytest.raises(ValueError, match="odd.png.*crop_to_scale"):
        ImageFolder(str(tmp_path / "odd"), scale=4, hr_crop_size=16)
    cropped = ImageFolder(str(tmp_path / "odd"), scale=4, hr_crop_size=16, crop_to_scale=True)
    lr, hr = next(iter(cropped.dataset(batch_size=1, random_transform=False)))
    assert hr.shape[1:3] == (28, 28) and lr.shape[1:3] == (7, 7)
    np.testing.assert_array_equal(hr[0], np.asarray(Image.open(odd))[:28, :28])
    # Paired folders: a missing partner and a wrong LR size name the files.
    write_png(str(tmp_path / "p_hr" / "x.png"), random_image(rng, 16, 16))
    write_png(str(tmp_path / "p_lr" / "y.png"), random_image(rng, 8, 8))
    with pytest.raises(ValueError, match="x.png"):
        ImageFolder(str(tmp_path / "p_hr"), scale=2, lr_dir=str(tmp_path / "p_lr"), hr_crop_size=8)
    write_png(str(tmp_path / "p_lr" / "x.png"), random_image(rng, 7, 8))
    with pytest.raises(ValueError, match="p_lr.*x.png"):
        ImageFolder(str(tmp_path / "p_hr"), scale=2, lr_dir=str(tmp_path / "p_lr"), hr_crop_size=8)


def test_folder_cache_file_is_written_once_and_reused(tmp_path, rng):
    write_png(str(tmp_path / "hr" / "a.png"), random_image(rng, 16, 16))
    folder = ImageFolder(str(tmp_path / "hr"), scale=2, hr_crop_size=8, caches_dir=str(tmp_path / "caches"))
    first = [hr.numpy() for _, hr in folder.dataset(1, repeat_count=1, random_transform=False)]
    caches = sorted(p.name for p in (tmp_path / "caches").iterdir())
    assert any(name.endswith(".index") for name in caches)
    os.remove(tmp_path / "hr" / "a.png")  # served from the cache file now
    second = [hr.numpy() for _, hr in folder.dataset(1, repeat_count=1, random_transform=False)]
    np.testing.assert_array_equal(first[0], second[0])
