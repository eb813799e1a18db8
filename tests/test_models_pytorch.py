"""Official PyTorch weights (Real-ESRGAN's RRDBNet and SRVGGNetCompact) through `sr_tf.models.from_pytorch`:
against outputs of the authors' own architecture code (tests/data/realesrgan_reference, written by its make.py
with BasicSR 1.4.2 and a CPU PyTorch; no PyTorch here), the restricted unpickler against a pickle that would run
a command, and one-line errors for state dicts that do not fit."""

import collections
import io
import os
import pickle
import shutil
import zipfile

import numpy as np
import pytest
from helpers import write_safetensors
from process_helpers import assert_one_line_errors

from sr_tf import specs
from sr_tf.errors import UserInputError
from sr_tf.models import from_pytorch
from sr_tf.models.pytorch import load_state_dict
from sr_tf.models.pytorch_files import read_state_dict

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "realesrgan_reference")
FILES = {"rrdbnet_x4": ("rrdbnet_x4.pth", specs.RRDBNet(scale=4, num_feat=8, num_block=2, num_grow_ch=4)),
         # the same weights as the 2018 ESRGAN release stores them: old key names, pre-1.6 serialization
         "esrgan_2018_x4": ("esrgan_2018_x4.pth", specs.RRDBNet(scale=4, num_feat=8, num_block=2, num_grow_ch=4)),
         "rrdbnet_x2": ("rrdbnet_x2.pth", specs.RRDBNet(scale=2, num_feat=8, num_block=2, num_grow_ch=4)),
         "srvgg_x4": ("srvgg_x4.safetensors", specs.SRVGGNetCompact(scale=4, num_feat=8, num_conv=3))}


@pytest.mark.parametrize("name", sorted(FILES))
def test_import_reproduces_the_authors_network(name):
    file, spec = FILES[name]
    reference = np.load(os.path.join(DATA, "reference.npz"))
    model = from_pytorch(os.path.join(DATA, file))
    assert model.spec == spec  # detected from the state dict alone
    expected = reference["rrdbnet_x4" if name == "esrgan_2018_x4" else name]
    np.testing.assert_allclose(model(reference["lr"]).numpy(), expected, rtol=1e-5, atol=1e-3)


def test_a_pre_1_6_file_whose_pickle_would_run_a_command_is_refused(tmp_path):
    sentinel = tmp_path / "ran"
    path = tmp_path / "evil_legacy.pth"
    with open(path, "wb") as f:
        for value in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(value, f, protocol=2)
        pickle.dump(collections.OrderedDict(w=_RunsACommand(str(sentinel))), f, protocol=2)
    with pytest.raises(UserInputError, match=r"evil_legacy.pth is not a plain PyTorch state dict.*'posix.system'"):
        from_pytorch(str(path))
    assert not sentinel.exists()


class _RunsACommand:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return os.system, (f"touch {self.sentinel}",)


def _torch_like_archive(path, payload):
    """A zip laid out as torch.save writes it, whose data.pkl is `payload`."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
        archive.writestr("archive/version", "3\n")


def test_a_pickle_that_would_run_a_command_is_refused_and_runs_nothing(tmp_path, capsys):
    sentinel = tmp_path / "ran"
    path = str(tmp_path / "evil.pth")
    _torch_like_archive(path, pickle.dumps({"params_ema": _RunsACommand(str(sentinel))}, protocol=2))
    with pytest.raises(UserInputError, match=r"evil.pth is not a plain PyTorch state dict.*'posix.system'"):
        from_pytorch(path)
    from helpers import random_image, write_png

    from sr_tf.cli import resolve as resolve_cli

    photo = write_png(str(tmp_path / "p.png"), random_image(np.random.default_rng(0), 4, 4))
    assert_one_line_errors(resolve_cli.main, [([photo, "-o", str(tmp_path / "out"), "--weights", path], "refused")],
                           capsys)
    assert not sentinel.exists()


def test_files_that_are_not_state_dicts_are_one_line_errors(tmp_path):
    not_zip = tmp_path / "old.pth"
    not_zip.write_bytes(b"\x80\x02not a zip")
    with pytest.raises(UserInputError, match="old.pth could not be read as a PyTorch file"):
        read_state_dict(str(not_zip))
    _torch_like_archive(str(tmp_path / "list.pth"), pickle.dumps([1, 2], protocol=2))
    with pytest.raises(UserInputError, match="holds no state dict"):
        read_state_dict(str(tmp_path / "list.pth"))
    with pytest.raises(UserInputError, match="not found"):
        read_state_dict(str(tmp_path / "missing.pth"))


def test_state_dicts_that_do_not_fit_name_the_key():
    state = read_state_dict(os.path.join(DATA, "rrdbnet_x4.pth"))
    spec = FILES["rrdbnet_x4"][1]
    missing = collections.OrderedDict((k, v) for k, v in state.items() if k != "body.1.rdb2.conv3.bias")
    with pytest.raises(UserInputError, match="lacks body.1.rdb2.conv3.bias"):
        load_state_dict(spec.build(), missing)
    extra = collections.OrderedDict(state, **{"body.1.rdb3.conv6.weight": np.zeros((1,))})
    with pytest.raises(UserInputError, match="holds body.1.rdb3.conv6.weight"):
        load_state_dict(spec.build(), extra)
    wrong = collections.OrderedDict(state, **{"conv_hr.weight": np.zeros((8, 8, 1, 1), np.float32)})
    with pytest.raises(UserInputError, match="conv_hr has shapes"):
        load_state_dict(spec.build(), wrong)


def test_resolve_and_export_take_the_files_with_no_other_flag(tmp_path, rng, capsys):
    from helpers import random_image, write_png
    from PIL import Image

    from sr_tf import resolve_single
    from sr_tf.cli import export as export_cli
    from sr_tf.cli import resolve as resolve_cli

    image = random_image(rng, 8, 6)
    photo = write_png(str(tmp_path / "p.png"), image)
    weights = str(tmp_path / "rrdbnet_x4.pth")
    shutil.copy(os.path.join(DATA, "rrdbnet_x4.pth"), weights)
    assert resolve_cli.main([photo, "-o", str(tmp_path / "out"), "--weights", weights, "--tile", "4",
                             "--precision", "float32"]) == 0
    got = np.asarray(Image.open(tmp_path / "out" / "p.png"))
    np.testing.assert_array_equal(got, resolve_single(from_pytorch(weights), image, tile=4))
    output = str(tmp_path / "srvgg.tflite")
    assert export_cli.main(["--weights", os.path.join(DATA, "srvgg_x4.safetensors"), "-o", output]) == 0
    assert os.path.getsize(output) > 0 and "DEPTH_TO_SPACE" in capsys.readouterr().out


def test_safetensors_reader_reads_what_it_is_given(tmp_path):
    values = {"a.weight": np.arange(6, dtype="<f4").reshape(2, 3), "b": np.array([7], "<i8")}
    path = write_safetensors(tmp_path / "x.safetensors", values)
    read = read_state_dict(str(path))
    assert list(read) == list(values) and all(np.array_equal(read[k], v) for k, v in values.items())


def test_the_x2_network_exports_and_runs_on_odd_sizes(tmp_path, rng):
    """RRDBNet x2 pads odd sides by reflection inside the model, also in a TFLite file (builtin ops only)."""
    from sr_tf import resolve_single
    from sr_tf.deploy import TFLiteModel, to_tflite

    model = from_pytorch(os.path.join(DATA, "rrdbnet_x2.pth"))
    path = str(tmp_path / "x2.tflite")
    to_tflite(model, path)
    lr = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    keras_sr = resolve_single(model, lr)
    assert keras_sr.shape == (14, 18, 3)
    assert np.abs(resolve_single(TFLiteModel(path), lr).astype(int) - keras_sr).max() <= 1


def test_a_tensor_that_reaches_past_its_storage_is_refused(tmp_path):
    """A crafted size and stride must not make the reader view memory beyond the storage's bytes."""
    class Storage:  # pickled as the global torch.FloatStorage, which the reader maps to float32
        pass

    Storage.__module__, Storage.__qualname__ = "torch", "FloatStorage"

    class Tensor:
        def __reduce__(self):
            return _rebuild, (("storage", Storage, "0", "cpu", 4), 0, (1000, 1000), (1000, 1))

    def _rebuild(*args):
        pass

    _rebuild.__module__, _rebuild.__qualname__ = "torch._utils", "_rebuild_tensor_v2"

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return obj if isinstance(obj, tuple) and obj and obj[0] == "storage" else None

    buffer = io.BytesIO()
    pickler = Pickler(buffer, protocol=2)
    pickler.fast = True
    import sys
    import types

    fake = types.ModuleType("torch._utils")
    fake._rebuild_tensor_v2 = _rebuild
    torch_module = types.ModuleType("torch")
    torch_module.FloatStorage = Storage
    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules.update({"torch": torch_module, "torch._utils": fake})
    try:
        pickler.dump({"w": Tensor()})
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    path = str(tmp_path / "big.pth")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        archive.writestr("archive/data/0", np.zeros(4, "<f4").tobytes())
    with pytest.raises(UserInputError, match=r"big.pth: A tensor of the file reaches past its storage \(4 values"):
        read_state_dict(path)


def test_a_pre_1_6_file_is_read_wherever_its_tensors_sit_and_a_false_storage_size_is_refused(tmp_path):
    """{'params': state} as well as a bare state dict; a storage that declares more values than the file holds is
    refused before anything is read."""
    storage = type("FloatStorage", (), {"__module__": "torch"})

    class Storage:
        def __init__(self, key, size):
            self.key, self.size = key, size

    class Tensor:  # pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...) would
        def __init__(self, key, values):
            self.key, self.values = key, values

        def __reduce__(self):
            return _rebuild, (Storage(self.key, len(self.values)), 0, (len(self.values),), (1,), False,
                              collections.OrderedDict())

    def _rebuild(*args):
        raise AssertionError("never called while pickling")

    _rebuild.__module__, _rebuild.__qualname__ = "torch._utils", "_rebuild_tensor_v2"

    class Writer(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", storage, obj.key, "cpu", obj.size, None) if isinstance(obj, Storage) else None

    import sys
    import types

    torch_utils = types.ModuleType("torch._utils")
    torch_utils._rebuild_tensor_v2 = _rebuild
    torch_module = types.ModuleType("torch")
    torch_module.FloatStorage = storage
    storage.__qualname__ = "FloatStorage"

    def write(path, declared, keys=("0",)):
        values = np.arange(3, dtype="<f4")
        with open(path, "wb") as f, pytest.MonkeyPatch.context() as patch:
            patch.setitem(sys.modules, "torch", torch_module)
            patch.setitem(sys.modules, "torch._utils", torch_utils)
            for value in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
                pickle.dump(value, f, protocol=2)
            Writer(f, protocol=2).dump({"params": collections.OrderedDict(w=Tensor("0", values))})
            pickle.dump(list(keys), f, protocol=2)
            f.write(declared.to_bytes(8, "little") + values.tobytes())

    write(tmp_path / "nested.pth", 3)
    np.testing.assert_array_equal(read_state_dict(str(tmp_path / "nested.pth"))["w"], np.arange(3))
    write(tmp_path / "lying.pth", 2 ** 60)
    with pytest.raises(UserInputError, match="lying.pth is cut short or damaged: storage 0 declares"):
        read_state_dict(str(tmp_path / "lying.pth"))
    write(tmp_path / "stray.pth", 3, keys=("7",))  # a key list naming a storage no tensor uses
    with pytest.raises(UserInputError, match="stray.pth is damaged: it lists storage '7'"):
        read_state_dict(str(tmp_path / "stray.pth"))
