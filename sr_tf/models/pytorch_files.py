"""Reading PyTorch weight files into NumPy without PyTorch, and without running the code a pickle can carry.

A `.pth` file written by `torch.save` is a zip archive whose `data.pkl` is a pickle of the state dict and whose
`data/<key>` entries hold the raw bytes of each storage. A pickle can name any Python callable to rebuild an
object, so it is read here with an unpickler that resolves only the names a state dict needs (ordered dicts, the
tensor rebuild functions, storage types) to functions of this module that build NumPy arrays; any other name is a
`UserInputError` naming the file and the global, raised before anything is called. The pre-1.6 format (the 2018
ESRGAN release) is read too: a sequence of pickles (a magic number, the protocol, system facts, the state dict,
the list of storage keys) followed by each storage's raw bytes. `.safetensors` files (a JSON header and raw
tensors) need no pickle at all.
"""

import collections
import json
import os
import pickle
import zipfile

import numpy as np

from sr_tf.errors import InputFileNotFoundError, UserInputError

# torch storage type name -> NumPy dtype (little-endian, as torch.save writes on every platform it supports)
STORAGE_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "LongStorage": "<i8",
                  "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1",
                  "BoolStorage": "?"}
SAFETENSORS_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
                      "U8": "u1", "BOOL": "?"}


class _Storage:
    """A storage type named by the pickle: its dtype."""

    def __init__(self, name):
        self.name, self.dtype = name, np.dtype(STORAGE_DTYPES[name])


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
    """torch._utils._rebuild_tensor_v2, in NumPy: a strided view of the storage, copied. The view is checked to lie
    inside the storage first: a crafted file must not make it read memory beyond."""
    if not isinstance(storage, np.ndarray) or not all(isinstance(n, int) and n >= 0 for n in
                                                      (storage_offset, *size, *stride)) or len(size) != len(stride):
        raise UserInputError(f"A tensor of the file has an invalid layout (size {size!r:.60}, stride {stride!r:.60}).")
    last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else storage_offset - 1
    if last >= len(storage) or (not size and storage_offset >= len(storage)):
        raise UserInputError(f"A tensor of the file reaches past its storage ({len(storage)} values; size "
                             f"{tuple(size)}, stride {tuple(stride)}, offset {storage_offset}).")
    if not size:
        return storage[storage_offset].copy()
    view = np.lib.stride_tricks.as_strided(storage[storage_offset:], shape=tuple(size),
                                           strides=tuple(s * storage.dtype.itemsize for s in stride))
    return np.array(view)


def _rebuild_parameter(data, requires_grad=None, backward_hooks=None, *unused):
    """torch._utils._rebuild_parameter: a parameter is its tensor."""
    return data


ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict,
           ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
           ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,  # PyTorch 0.3's, without the extra arguments
           ("torch._utils", "_rebuild_parameter"): _rebuild_parameter}


class _StateDictUnpickler(pickle.Unpickler):
    """Resolves only `ALLOWED` names and torch storage types; reads storages from the zip archive."""

    def __init__(self, file, archive, prefix, path):
        super().__init__(file)
        self.archive, self.prefix, self.path = archive, prefix, path

    def find_class(self, module, name):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return _Storage(name)
        raise UserInputError(f"{self.path} is not a plain PyTorch state dict: its pickle asks for the global "
                             f"'{module}.{name}', which is refused (only tensors and dicts are read).")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and isinstance(pid[1], _Storage)):
            raise UserInputError(f"{self.path} holds an unexpected persistent reference {pid!r:.80}.")
        storage, key = pid[1], str(pid[2])
        try:
            data = self.archive.read(f"{self.prefix}data/{key}")
        except KeyError:
            raise UserInputError(f"{self.path} is cut short: storage {key} is missing.") from None
        return np.frombuffer(data, dtype=storage.dtype)


LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # the first pickle of a pre-1.6 torch.save file


class _NoGlobals(pickle.Unpickler):
    """Reads pickles of plain values (numbers, strings, lists, dicts) only."""

    def find_class(self, module, name):
        raise UserInputError(f"its header asks for the global '{module}.{name}', which is refused.")


class _Deferred:
    """A tensor of a pre-1.6 file, rebuilt once its storage's bytes (which follow the pickle) are read."""

    def __init__(self, key, args):
        self.key, self.args = key, args


class _LegacyUnpickler(_StateDictUnpickler):
    """The state dict pickle of a pre-1.6 file: storages are named by key and read afterwards."""

    def __init__(self, file, path):
        pickle.Unpickler.__init__(self, file)
        self.path, self.storages = path, {}

    def find_class(self, module, name):
        found = super().find_class(module, name)
        if found is _rebuild_tensor:
            return lambda storage, *args: _Deferred(storage, args)
        return found

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage" and isinstance(pid[1], _Storage)
                and pid[5] is None):
            raise UserInputError(f"{self.path} holds an unexpected persistent reference {pid!r:.80}.")
        self.storages[str(pid[2])] = (pid[1].dtype, int(pid[4]))
        return str(pid[2])


def _read_legacy_pth(path, f):
    """The state dict of a pre-1.6 `torch.save` file (open as `f`, after its magic number)."""
    for _ in range(2):  # the protocol version and the system facts
        _NoGlobals(f).load()
    unpickler = _LegacyUnpickler(f, path)
    state = unpickler.load()
    keys = _NoGlobals(f).load()
    file_size, arrays = os.fstat(f.fileno()).st_size, {}
    for key in keys:
        if str(key) not in unpickler.storages:  # a crafted key list, naming a storage the pickle never used
            raise UserInputError(f"{path} is damaged: it lists storage {str(key)!r:.40} that its tensors do not use.")
        dtype, size = unpickler.storages[str(key)]
        count = int.from_bytes(f.read(8), "little")
        if count != size or count * dtype.itemsize > file_size - f.tell():  # checked before anything is read
            raise UserInputError(f"{path} is cut short or damaged: storage {key} declares {count} values, {size} "
                                 "expected, and the file must hold them.")
        arrays[str(key)] = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)

    def rebuilt(value):  # the tensors wherever they sit ({'params': {...}} as well as a bare state dict)
        if isinstance(value, _Deferred):
            if value.key not in arrays:
                raise UserInputError(f"{path} is cut short: storage {value.key} is missing.")
            return _rebuild_tensor(arrays[value.key], *value.args)
        return type(value)((k, rebuilt(v)) for k, v in value.items()) if isinstance(value, dict) else value

    return rebuilt(state)


def _read_pth(path):
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            if f.read(4) == b"PK\x03\x04":
                raise UserInputError(f"{path} is cut short: a zip archive (torch.save's format) without its end, "
                                     "e.g. an interrupted download. Download it again.")
            f.seek(0)
            try:
                if _NoGlobals(f).load() == LEGACY_MAGIC:
                    return _read_legacy_pth(path, f)
            except UserInputError as e:
                raise UserInputError(str(e) if str(e).startswith(path) else f"{path}: {e}") from None
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError,
                    IndexError) as e:
                raise UserInputError(f"{path} could not be read as a PyTorch file ({type(e).__name__}: "
                                     f"{' '.join(str(e).split())[:200]}).") from None
        raise UserInputError(f"{path} is neither a PyTorch zip archive (torch.save's format since PyTorch 1.6) nor "
                             "a file of the older format.")
    with zipfile.ZipFile(path) as archive:
        pickles = [name for name in archive.namelist() if name.endswith("data.pkl")]
        if len(pickles) != 1:
            raise UserInputError(f"{path} holds no single data.pkl; it is not a torch.save archive.")
        prefix = pickles[0][: -len("data.pkl")]
        with archive.open(pickles[0]) as f:
            try:
                return _StateDictUnpickler(f, archive, prefix, path).load()
            except UserInputError as e:
                raise UserInputError(str(e) if str(e).startswith(path) else f"{path}: {e}") from None
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
                raise UserInputError(f"{path} could not be read as a state dict ({type(e).__name__}: "
                                     f"{' '.join(str(e).split())[:200]}).") from None


def _read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        size = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + size])
        body = data[8 + size:]
        tensors = collections.OrderedDict()
        for key, entry in header.items():
            if key == "__metadata__":
                continue
            begin, end = entry["data_offsets"]
            dtype = np.dtype(SAFETENSORS_DTYPES[entry["dtype"]])
            tensors[key] = np.frombuffer(body[begin:end], dtype=dtype).reshape(entry["shape"]).copy()
        return tensors
    except (ValueError, KeyError, TypeError) as e:
        raise UserInputError(f"{path} is not a readable .safetensors file ({type(e).__name__}: {e}).") from None


def read_state_dict(path):
    """The tensors of a PyTorch weights file as {name: NumPy array}.

    Args:
        path: a `.pth` / `.pt` file written by `torch.save` (a state dict, or a dict holding one under 'params_ema'
            or 'params', as Real-ESRGAN's releases do), or a `.safetensors` file.

    Raises:
        InputFileNotFoundError: the file does not exist.
        UserInputError: the file is not such a file, or its pickle names anything but tensors and dicts.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileNotFoundError(f"Weights file not found: {path}")
    state = _read_safetensors(path) if path.endswith(".safetensors") else _read_pth(path)
    if isinstance(state, dict):
        for key in ("params_ema", "params", "state_dict"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise UserInputError(f"{path} holds no state dict of tensors (found {type(state).__name__}).")
    return collections.OrderedDict((k.removeprefix("module."), v) for k, v in state.items())
