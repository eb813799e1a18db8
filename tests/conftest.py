"""Shared fixtures and helpers: tiny generated images, a local HTTP server, model round trips."""

import functools
import http.server
import os
import socketserver
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

# Two logical CPU devices, so tf.distribute.MirroredStrategy can be tested without GPUs. This must happen
# before TensorFlow initialises its devices, hence here, when pytest imports the conftest first.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def random_image(rng, height, width, channels=3):
    """A random uint8 image."""
    return rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)


def write_png(path, array, mode=None):
    """Writes an array as PNG (creating folders) and returns the path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    (Image.fromarray(array, mode) if mode else Image.fromarray(array)).save(path)
    return path


def block_mean(hr, scale):
    """Mean of each scale x scale block of (..., H, W, C) images (the exact inverse of nearest upsampling)."""
    hr = np.asarray(hr, dtype=np.float64)
    *lead, h, w, c = hr.shape
    return hr.reshape(*lead, h // scale, scale, w // scale, scale, c).mean(axis=(-4, -2))


def keras_round_trip(model, tmp_path):
    """Saves a model as .keras and loads it back in safe mode."""
    import keras

    path = os.path.join(tmp_path, f"{model.name}.keras")
    model.save(path)
    return keras.saving.load_model(path, safe_mode=True)


def offline(*args, **kwargs):
    """Stands in for a Keras application constructor on a machine without network: the download fails."""
    raise OSError("network unreachable")


def run_cli(args, cwd=REPO, timeout=300, env=None):
    """Runs a command-line entry point in a subprocess and returns the CompletedProcess."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=full_env)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - the http.server name
        self.server.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def http_server(tmp_path):
    """Serves a folder on 127.0.0.1; yields (root folder, base URL, list of requested paths)."""
    root = tmp_path / "server"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/", server.requests
    finally:
        server.shutdown()
        server.server_close()
