"""Files at user-visible paths are never half-written: writers killed at random points leave the old file or the
new one, and every writer of the package goes through `sr_tf.atomic.atomic_write`."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import REPO

ATOMIC = os.path.join(REPO, "sr_tf", "atomic.py")

# A writer that loops over the three kinds of files the package writes (HDF5 weights, PNG images, JSON records),
# each carrying a checksum of its own content. It loads sr_tf/atomic.py by path (the module imports nothing of
# TensorFlow), so that it starts in a fraction of a second and can be killed many times.
WRITER = r"""
import hashlib, importlib.util, json, os, sys
import h5py, numpy as np
from PIL import Image, PngImagePlugin
spec = importlib.util.spec_from_file_location("atomic", sys.argv[1])
atomic = importlib.util.module_from_spec(spec)
spec.loader.exec_module(atomic)
folder, rng = sys.argv[2], np.random.default_rng(int(sys.argv[3]))
print("ready", flush=True)
while True:
    data = rng.standard_normal((4, 128, 512)).astype("float32")
    def write_h5(tmp):
        with h5py.File(tmp, "w") as f:
            for k in range(4):
                f.create_dataset(f"w{k}", data=data[k])
            f.attrs["digest"] = hashlib.sha1(data.tobytes()).hexdigest()
    atomic.atomic_write(os.path.join(folder, "weights.h5"), write_h5)
    image = rng.integers(0, 256, (384, 384, 3), dtype=np.uint8)
    info = PngImagePlugin.PngInfo()
    info.add_text("digest", hashlib.sha1(image.tobytes()).hexdigest())
    atomic.atomic_write(os.path.join(folder, "image.png"),
                        lambda tmp: Image.fromarray(image).save(tmp, "PNG", pnginfo=info))
    values = rng.integers(0, 1000, 5000).tolist()
    atomic.atomic_write_text(os.path.join(folder, "record.json"),
                             json.dumps({"values": values, "digest": hashlib.sha1(str(values).encode()).hexdigest()}))
    print("round", flush=True)
"""


def _check(folder):
    """Every file at a final path loads completely and matches its own checksum; returns how many were checked."""
    import hashlib
    import json

    import h5py
    from PIL import Image

    checked = 0
    path = os.path.join(folder, "weights.h5")
    if os.path.exists(path):
        with h5py.File(path, "r") as f:
            data = np.stack([f[f"w{k}"][()] for k in range(4)])
            assert f.attrs["digest"] == hashlib.sha1(data.tobytes()).hexdigest()
        checked += 1
    path = os.path.join(folder, "image.png")
    if os.path.exists(path):
        with Image.open(path) as image:
            image.load()
            assert image.text["digest"] == hashlib.sha1(np.asarray(image).tobytes()).hexdigest()
        checked += 1
    path = os.path.join(folder, "record.json")
    if os.path.exists(path):
        with open(path) as f:
            record = json.load(f)
        assert record["digest"] == hashlib.sha1(str(record["values"]).encode()).hexdigest()
        checked += 1
    return checked


@pytest.mark.slow
def test_writers_killed_at_random_points_never_leave_a_broken_file(tmp_path):
    rng = np.random.default_rng(0)
    folder = str(tmp_path)
    kills, checked, leftovers = 30, 0, 0
    for i in range(kills):
        process = subprocess.Popen([sys.executable, "-c", WRITER, ATOMIC, folder, str(i)], stdout=subprocess.PIPE,
                                   text=True)
        try:
            assert process.stdout.readline().strip() == "ready"
            if i % 2:  # every other kill after one whole round of writes (a condition, not a time: a loaded
                assert process.stdout.readline().strip() == "round"  # machine writes slower)
            time.sleep(rng.uniform(0.0, 0.4))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        leftovers = max(leftovers, len([n for n in os.listdir(folder) if n.startswith(".tmp-")]))
        checked += _check(folder)
    assert checked >= kills  # every file found loaded (half of the runs completed at least one round)
    assert leftovers > 0  # some kills did land in the middle of a write ...
    # ... and the next write of each file removes what a killed writer left
    assert len([n for n in os.listdir(folder) if n.startswith(".tmp-")]) <= 3


def test_every_writer_of_the_package_renames_a_temporary_file_into_place(tmp_path, monkeypatch):
    import keras

    from sr_tf import save_weights
    from sr_tf.data.io import save_image
    from sr_tf.models import edsr
    from sr_tf.train import EdsrTrainer
    from sr_tf.weights_io import save_model

    renames = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((os.path.basename(src), os.path.abspath(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    keras.utils.set_random_seed(0)
    model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    targets = [tmp_path / "w" / "weights.h5", tmp_path / "w" / "model.weights.h5", tmp_path / "w" / "model.keras",
               tmp_path / "i" / "grid.png"]
    save_weights(model, targets[0])
    model.save_weights(str(tmp_path / "w" / "tutorial.h5"))
    save_weights(model, targets[1])
    save_model(model, targets[2])
    save_image(targets[3], np.zeros((4, 4, 3), np.uint8))
    trainer = EdsrTrainer(model, str(tmp_path / "ckpt"), data={"source": "test"})
    trainer.save()
    targets += [tmp_path / "w" / "tutorial.h5", tmp_path / "ckpt" / "architecture.json",
                tmp_path / "ckpt" / "data.json"]
    renamed = {dst: src for src, dst in renames}
    for target in targets:
        assert target.exists() and str(target) in renamed, target
        assert renamed[str(target)].startswith(".tmp-") and renamed[str(target)].endswith(target.name)
    assert not list(tmp_path.rglob(".tmp-*"))


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    from sr_tf.atomic import atomic_write

    path = tmp_path / "kept.txt"
    path.write_text("previous")

    def fail(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, fail)
    assert path.read_text() == "previous" and not list(tmp_path.glob(".tmp-*"))
