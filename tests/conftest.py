"""Shared fixtures (a seeded generator, a local HTTP server) and the process-wide device setup; helper functions
are in helpers.py (images and files), model_helpers.py, process_helpers.py and checkpoint_helpers.py."""

import functools
import http.server
import os
import socketserver
import threading

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

# Two logical CPU devices, so tf.distribute.MirroredStrategy can be tested without GPUs. This must happen
# before TensorFlow initialises its devices, hence here, when pytest imports the conftest first.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture(scope="session")
def random_inception():
    """InceptionV3 with random weights at a small input size (the FID/KID algebra, not their values)."""
    import keras

    from sr_tf import metrics

    keras.utils.set_random_seed(0)
    return metrics.inception_model(weights=None, input_size=75)


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


@pytest.fixture(scope="session")
def reader_folder(tmp_path_factory):
    """A folder prepared as a reader of the docs has it (see docs_runner.prepare_folder); tests copy it."""
    from docs_runner import prepare_folder

    folder = tmp_path_factory.mktemp("reader")
    prepare_folder(str(folder))
    return folder
