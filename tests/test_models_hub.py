"""Models by name (sr_tf.models.from_preset, resolve -n): downloads from a loopback mirror in the real release
layouts, the cache, checks of what arrives, interruption and offline mode."""

import io
import os
import shutil
import tarfile

import numpy as np
import pytest
from helpers import random_image, write_png
from torch_files import srvgg_state, write_pth

from sr_tf import specs
from sr_tf.errors import ResourceUnavailableError, UserInputError
from sr_tf.models import from_preset, hub
from sr_tf.models.pytorch_files import read_state_dict
from sr_tf.specs.published import PUBLISHED, Published

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "realesrgan_reference")
TINY_SRVGG = specs.SRVGGNetCompact(scale=4, num_feat=8, num_conv=3)  # the network of srvgg_x4.pth


@pytest.fixture
def mirror(http_server, tmp_path, monkeypatch):
    """(served folder, requested paths): SR_TF_WEIGHTS_URL names the loopback server, the cache is empty."""
    root, url, requests = http_server
    monkeypatch.setenv("SR_TF_WEIGHTS_URL", url)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("SR_TF_OFFLINE", raising=False)
    return root, requests


@pytest.fixture
def tiny_preset(monkeypatch):
    """A preset 'tiny-srvgg' whose published file is tiny-srvgg.pth ({'params': ...}, as realesr-general-x4v3)."""
    monkeypatch.setitem(specs.base.PRESETS, "tiny-srvgg", specs.base.Preset(
        "tiny-srvgg", "test", TINY_SRVGG, specs.preset("realesr-general-x4v3").recipe))
    monkeypatch.setitem(PUBLISHED, "tiny-srvgg", Published("tiny-srvgg.pth", "https://invalid.example/tiny.pth"))
    return "tiny-srvgg"


def test_every_published_file_belongs_to_a_preset_and_the_default_has_one():
    assert set(PUBLISHED) <= set(specs.presets()) and hub.DEFAULT_PRESET in PUBLISHED
    for entry in PUBLISHED.values():
        assert entry.url.startswith("https://") and entry.url.endswith(entry.file.split("/")[-1])


def test_downloads_once_then_reads_the_cache(mirror, tiny_preset):
    root, requests = mirror
    shutil.copy(os.path.join(DATA, "srvgg_x4.pth"), root / "tiny-srvgg.pth")
    model = from_preset(tiny_preset)
    assert model.spec == TINY_SRVGG and requests == ["/tiny-srvgg.pth"]
    again = from_preset(tiny_preset)
    assert requests == ["/tiny-srvgg.pth"]  # the cache
    expected = read_state_dict(os.path.join(DATA, "srvgg_x4.pth"))["body.0.weight"]
    np.testing.assert_array_equal(again.get_layer("body0_conv").kernel.numpy(), np.transpose(expected, (2, 3, 1, 0)))


def test_params_ema_layout_and_the_real_default_by_name_through_resolve(mirror, tmp_path, rng, capsys):
    """`resolve -n realesr-general-x4v3` on a full-size file in the release layout, downloaded once."""
    from sr_tf.cli import resolve as resolve_cli

    root, requests = mirror
    state = srvgg_state(specs.preset("realesr-general-x4v3").architecture, rng)
    write_pth(str(root / "realesr-general-x4v3.pth"), state, wrap="params")
    photo = write_png(str(tmp_path / "photo.png"), random_image(rng, 6, 5))
    assert resolve_cli.main(["-n", "realesr-general-x4v3", photo, "-o", str(tmp_path / "out")]) == 0
    assert resolve_cli.main([photo, "-o", str(tmp_path / "out2")]) == 0  # the default model, from the cache
    assert requests == ["/realesr-general-x4v3.pth"]
    assert "Model: realesr-general-x4v3 (the default" in capsys.readouterr().out
    assert os.path.isfile(tmp_path / "out" / "photo.png") and os.path.isfile(tmp_path / "out2" / "photo.png")


def test_a_file_of_another_architecture_is_refused_and_removed(mirror):
    root, _ = mirror
    shutil.copy(os.path.join(DATA, "srvgg_x4.pth"), root / "realesr-animevideov3.pth")  # a tiny network
    with pytest.raises(UserInputError, match="was removed: it holds srvgg.*num_feat=8.*not realesr-animevideov3"):
        from_preset("realesr-animevideov3")
    assert not os.path.exists(os.path.join(hub.cache_dir(), "realesr-animevideov3.pth"))


def test_a_published_checksum_is_checked(mirror, monkeypatch):
    root, _ = mirror
    shutil.copy(os.path.join(DATA, "rrdbnet_x4.pth"), root / "ESRGAN_SRx4_DF2KOST_official-ff704c30.pth")
    with pytest.raises(UserInputError, match="SHA-256 does not start with the published ff704c30"):
        from_preset("esrgan-x4")
    assert not os.listdir(hub.cache_dir())


def test_an_interrupted_download_leaves_nothing_in_the_cache(mirror, tiny_preset, monkeypatch):
    import keras

    def interrupted(fname, origin, cache_dir, cache_subdir, **kwargs):
        folder = os.path.join(cache_dir, cache_subdir)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, fname), "wb") as f:
            f.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.utils, "get_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        from_preset(tiny_preset)
    assert os.listdir(hub.cache_dir()) == []


def test_an_unreachable_mirror_and_offline_mode_say_what_to_do(mirror, tiny_preset, monkeypatch):
    monkeypatch.setenv("SR_TF_WEIGHTS_URL", "http://127.0.0.1:9/nothing")  # the discard port: refused
    with pytest.raises(ResourceUnavailableError, match="Could not download .*put it at"):
        from_preset(tiny_preset)
    assert os.listdir(hub.cache_dir()) == []
    monkeypatch.setenv("SR_TF_OFFLINE", "1")
    target = os.path.join(hub.cache_dir(), "tiny-srvgg.pth")
    with pytest.raises(ResourceUnavailableError, match=f"SR_TF_OFFLINE is set.*put it at {target}"):
        from_preset(tiny_preset)
    shutil.copy(os.path.join(DATA, "srvgg_x4.pth"), target)  # what the message says
    assert from_preset(tiny_preset).spec == TINY_SRVGG


def test_a_preset_without_published_weights_says_so():
    with pytest.raises(UserInputError, match="has no published weights.*realesrgan-x4plus"):
        from_preset("demo")
    with pytest.raises(UserInputError, match="Unknown preset"):
        from_preset("no-such-model")


def test_the_tutorials_archive_layout(mirror, monkeypatch):
    """The tutorial's weights-edsr-16-x4.tar.gz: weights/edsr-16-x4/weights.h5 inside, the legacy Keras-2 layout."""
    from model_helpers import read_keras2_file  # noqa: F401 (the legacy layout is what save_legacy_h5 writes)

    from sr_tf.models import build
    from sr_tf.weights_io import save_weights

    root, requests = mirror
    model = build("edsr-16-x4")
    for w in model.weights:
        w.assign(np.random.default_rng(len(w.path)).normal(0, 0.01, w.shape))
    legacy = str(root / "weights.h5")
    save_weights(model, legacy)
    with tarfile.open(root / "weights-edsr-16-x4.tar.gz", "w:gz") as archive:
        archive.add(legacy, arcname="weights/edsr-16-x4/weights.h5")
    loaded = from_preset("edsr-16-x4")
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    wrong = io.BytesIO(b"not the weights")
    with tarfile.open(root / "weights-wdsr-b-32-x4.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo("weights/other.h5")
        info.size = len(wrong.getvalue())
        archive.addfile(info, wrong)
    with pytest.raises(UserInputError, match="was removed: it is not the published archive"):
        from_preset("wdsr-b-32-x4")
