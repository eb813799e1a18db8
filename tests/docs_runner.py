"""Runs the code blocks of the documentation (README.md, CONTRIBUTING.md, docs/**/*.md) the way a reader would,
at tiny sizes, so the docs cannot rot. Used by tests/test_docs_*.py.

- Blocks run in order, in one fresh folder per page, prepared as a reader's machine would be (`prepare_folder`:
  a photo, folders of photos, weights files the quick starts assume the reader has).
- Python blocks run in this process, in one namespace per page. Shell blocks run line by line: a plain command of
  this package's (`python train_*.py ...`, `python -m sr_tf.resolve|export ...`) runs its `main` in this process
  (no interpreter and TensorFlow start-up each) and must exit 0; any other line runs in bash.
- `TINY` adds flags right after a training command's subcommand (the page's own flags come later and win),
  `TINY_PRESETS` shrinks the presets the training commands start from while a page runs, `REPLACE` shortens the few
  values a page spells out, and `NOT_RUN` lists, in one place, the blocks that cannot
  run here, with the reason.
"""

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys

import numpy as np
from helpers import REPO

LANGUAGES = ("python", "bash", "sh", "shell")
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)

# Flags that make a training command short; inserted after the subcommand, so a page's own flags win.
TINY = {
    "train_srgan.py demo": "--steps 2 --evaluate-every 1 --batch-size 2",
    "train_srgan.py edsr": "--steps 2 --evaluate-every 1 --batch-size 2",
    "train_srgan.py rrdb": "--steps 2 --evaluate-every 1 --batch-size 2 --hr-crop-size 32",
    "train_srgan.py realesrgan": "--steps 2 --evaluate-every 1 --batch-size 2 --hr-crop-size 32 "
                                 "--discriminator-features 4 --vgg-weights none",
    "train_pixelcnn.py train": "--steps 2 --evaluate-every 1 --batch-size 8",
    "train_fastgan.py train": "--steps 1 --evaluate-every 1 --sample-every 1 --batch-size 2",
}
# The presets the training commands start from, made tiny while a page runs (not by architecture flags, which
# would name the runs after the settings that differ from the preset, unlike the names the pages show).
_RRDB, _FASTGAN = dict(num_feat=8, num_block=1, num_grow_ch=4), dict(ngf=4, ndf=4, nz=8, decoder_width=4)
TINY_PRESETS = {
    "realesrnet-x4plus": _RRDB, "realesrgan-x4plus": _RRDB, "esrgan-x4": _RRDB,
    "pixelcnn-mnist": dict(num_res_blocks=1, hidden=8), "pixelcnn-digits": dict(num_res_blocks=1, hidden=8),
    "pixelcnn-folder": dict(num_res_blocks=1, hidden=8), "gated-pixelcnn-mnist": dict(num_layers=1, hidden=8),
    "gated-pixelcnn-digits": dict(num_layers=1, hidden=8), "gated-pixelcnn-folder": dict(num_layers=1, hidden=8),
    "fastgan-256": _FASTGAN, "fastgan-1024": _FASTGAN, "fastgan-demo": _FASTGAN,
}
# Values a page spells out that are too large for a test: (page, text, replacement).
REPLACE = [
    ("docs/super-resolution.md", "--steps 2000", "--steps 2"),
    ("docs/degradations.md", "--steps 500", "--steps 2"),
    ("docs/scale.md", "--steps 20 ", "--steps 4 "),
    ("docs/errors.md", "-s INT 20", "-s INT 8"),
    ("docs/errors.md", "--steps 20 ", "--steps 6 "),
    ("docs/pixelcnn.md", "--steps 200", "--steps 2"),
    ("docs/real-world.md", "--steps 2000", "--steps 2"),
    ("docs/precision.md", "--steps 20 ", "--steps 2 "),
]
# Blocks that cannot run in the tests: (page, text the block contains) -> why.
NOT_RUN = {
    ("README.md", "pip install -e"): "installs the package: CI's .ci/run runs this line before the tests",
    ("README.md", "python -m pytest"): "the test suite itself",
    ("CONTRIBUTING.md", "python -m pytest"): "the test suite itself",
    ("CONTRIBUTING.md", "python bench/"): "benchmarks take minutes; run by hand, recorded in bench/RESULTS.md",
    ("CONTRIBUTING.md", 'family = "toysr"'): "a module of the package in the making: tests/test_toy_family.py "
                                            "registers and runs the same lines",
    ("CONTRIBUTING.md", "TOY_FORMAT = "): "the toy family's PyTorch format: tests/test_toy_family.py registers and "
                                         "runs the same lines",
    ("docs/super-resolution.md", 'DIV2K(scale=4, subset="train")'):
        "downloads DIV2K (tests/test_data.py runs the loader against a local HTTP server)",
    ("docs/scale.md", "TF_CONFIG="): "needs two machines (tests/test_distribute.py runs two workers on 127.0.0.1)",
}
# Pages whose Python blocks run in a process of their own (each block after the page's earlier ones), with why.
OWN_PROCESS = {"docs/scale.md": "a MirroredStrategy over the test process's logical CPUs must not share its "
                                "collective ops with the strategies earlier tests made"}
# Commands whose exit status carries a verdict: the demo exits 1 when its model does not beat bicubic yet, which
# two steps never do.
VERDICT_STATUS = {"train_srgan.py demo": (0, 1)}
COMMANDS = {"train_srgan.py": "sr_tf.cli.srgan", "train_pixelcnn.py": "sr_tf.cli.pixelcnn",
            "train_fastgan.py": "sr_tf.cli.fastgan", "-m sr_tf.resolve": "sr_tf.cli.resolve",
            "-m sr_tf.export": "sr_tf.cli.export"}


def pages():
    """Every page whose blocks run, relative to the repository."""
    found = ["README.md", "CONTRIBUTING.md"]
    for root, _, files in os.walk(os.path.join(REPO, "docs")):
        found += [os.path.relpath(os.path.join(root, f), REPO) for f in sorted(files) if f.endswith(".md")]
    return sorted(found)


def blocks(page):
    """(language, code, reason not to run or None) of every Python and shell block of `page`."""
    text = open(os.path.join(REPO, page), encoding="utf8").read()
    found = []
    for language, code in BLOCK.findall(text):
        if language not in LANGUAGES:
            continue
        reasons = [why for (where, what), why in NOT_RUN.items() if where == page and what in code]
        for where, old, new in REPLACE:
            code = code.replace(old, new) if where == page else code
        found.append((language, code, reasons[0] if reasons else None))
    return found


def prepare_folder(folder):
    """What a reader of the quick starts has: `photo.png` (a 64x48 crop of a bundled photo), `photos/` (three
    128x128 crops), `valid/` (one), `benchmark/Set5/HR/`, the tutorial's published weights files (random weights of
    the published architectures), a demo `.keras` model, a small x4 `edsr.keras`, a FastGAN `generator.keras`, tiny
    RRDBNet and SRVGGNetCompact networks in the official `.pth` layouts, `logo.png` (RGBA) and `scan16.png` (16-bit
    grey)."""
    import keras
    from PIL import Image

    from sr_tf import models
    from sr_tf.data.io import SAMPLE_HELD_OUT, SAMPLE_TRAIN, read_image, sample_files, save_image, save_png
    from sr_tf.weights_io import save_weights

    keras.utils.set_random_seed(0)
    held_out = read_image(sample_files([SAMPLE_HELD_OUT])[0])[0]
    save_image(os.path.join(folder, "photo.png"), held_out[100:148, 150:214])
    for i, path in enumerate(sample_files(SAMPLE_TRAIN)):
        save_image(os.path.join(folder, "photos", f"{i}.png"), read_image(path)[0][:128, :128])
    save_image(os.path.join(folder, "valid", "v.png"), held_out[:64, :64])
    save_image(os.path.join(folder, "benchmark", "Set5", "HR", "baby.png"), held_out[:48, :48])
    save_weights(models.build("edsr-16-x4"), os.path.join(folder, "weights", "edsr-16-x4", "weights.h5"))
    for name in ("pre_generator.h5", "gan_generator.h5"):
        save_weights(models.build("srresnet-x4"), os.path.join(folder, "weights", "srgan", name))
    os.makedirs(os.path.join(folder, "weights", "demo"), exist_ok=True)
    models.build("demo").save(os.path.join(folder, "weights", "demo", "edsr-demo-x4.keras"))
    models.build("edsr", num_filters=8, num_res_blocks=1).save(os.path.join(folder, "edsr.keras"))
    models.build("fastgan", im_size=64, ngf=4, nz=8).save(os.path.join(folder, "generator.keras"))
    # tiny networks written by the authors' code stand in for the official files
    reference = os.path.join(REPO, "tests", "data", "realesrgan_reference")
    for fixture, official in [("rrdbnet_x4.pth", "RealESRGAN_x4plus.pth"), ("srvgg_x4.pth", "realesr-general-x4v3.pth"),
                              ("srvgg_wdn_x4.pth", "realesr-general-wdn-x4v3.pth")]:
        shutil.copy(os.path.join(reference, fixture), os.path.join(folder, official))
    _prepare_mirror(folder)
    rng = np.random.default_rng(0)  # an RGBA logo and a 16-bit grey scan
    save_image(os.path.join(folder, "logo.png"), rng.integers(0, 256, (32, 40, 4), dtype=np.uint8))
    save_png(os.path.join(folder, "scan16.png"), rng.integers(0, 65536, (30, 24, 1), dtype=np.uint16))
    assert Image.open(os.path.join(folder, "photo.png")).size == (64, 48)


def _prepare_mirror(folder):
    """`mirror/`: what the docs' `from_preset` / `-n` calls download, in the published layouts (the tutorial's
    archive around the EDSR weights above; realesr-general-x4v3.pth with random weights of its architecture)."""
    import tarfile

    from torch_files import srvgg_state, write_pth

    from sr_tf import specs

    mirror = os.path.join(folder, "mirror")
    os.makedirs(mirror)
    with tarfile.open(os.path.join(mirror, "weights-edsr-16-x4.tar.gz"), "w:gz") as archive:
        archive.add(os.path.join(folder, "weights", "edsr-16-x4", "weights.h5"),
                    arcname="weights/edsr-16-x4/weights.h5")
    state = srvgg_state(specs.preset("realesr-general-x4v3").architecture, np.random.default_rng(1))
    write_pth(os.path.join(mirror, "realesr-general-x4v3.pth"), state, wrap="params")


@contextlib.contextmanager
def serving_mirror(folder):
    """Within the block, `folder/mirror` is served on 127.0.0.1 as SR_TF_WEIGHTS_URL, with an empty Keras cache."""
    import functools
    import http.server
    import socketserver
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), functools.partial(
        Quiet, directory=os.path.join(folder, "mirror")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    saved = {k: os.environ.get(k) for k in ("SR_TF_WEIGHTS_URL", "KERAS_HOME", "SR_TF_OFFLINE")}
    os.environ.update(SR_TF_WEIGHTS_URL=f"http://127.0.0.1:{server.server_address[1]}",
                      KERAS_HOME=os.path.join(folder, ".keras"))
    os.environ.pop("SR_TF_OFFLINE", None)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _lines(code):
    """The shell block's logical lines (continuations joined, comments and blank lines dropped)."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def _tiny(line):
    for command, flags in TINY.items():
        if command in line:
            line = line.replace(command, f"{command} {flags}", 1)
    return line


def _in_process(line):
    """(module, argv) when `line` is a plain command of this package, else None."""
    if re.search(r"[|&;<>$`]", line.split(" #")[0]) or not line.startswith("python "):
        return None
    for command, module in COMMANDS.items():
        prefix = f"python {command} "
        if line.startswith(prefix):
            return module, shlex.split(line[len(prefix):], comments=True)
    return None


def run_shell(code, folder, log):
    """Runs a shell block line by line in `folder`; every line must succeed."""
    import importlib

    for line in _lines(code):
        line = _tiny(line)
        found = _in_process(line)
        if found:
            module, argv = found
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                try:
                    status = importlib.import_module(module).main(argv)
                except SystemExit as e:  # argparse's errors
                    status = e.code
            log.append(f"$ {line}\n{out.getvalue()[-3000:]}")
            allowed = next((codes for command, codes in VERDICT_STATUS.items() if command in line), (0,))
            assert status in allowed, "\n".join(log[-3:])
        else:
            env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
                   "TF_CPP_MIN_LOG_LEVEL": "3"}
            for script in ("train_srgan.py", "train_pixelcnn.py", "train_fastgan.py"):
                line = line.replace(f"python {script}", f"python {os.path.join(REPO, script)}")
            done = subprocess.run(["bash", "-ec", line], cwd=folder, capture_output=True, text=True, env=env,
                                  timeout=300)
            log.append(f"$ {line}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
            assert done.returncode == 0, "\n".join(log[-3:])


def check_page(page, reader_folder, tmp_path):
    """Runs `page` in a copy of the prepared `reader_folder`; at least one of its blocks must have run."""
    import shutil

    folder = tmp_path / "reader"
    shutil.copytree(reader_folder, folder)
    with serving_mirror(str(folder)):
        log = run_page(page, str(folder))
    assert any(not line.startswith("(not run") for line in log), log


@contextlib.contextmanager
def tiny_presets():
    """Within the block, the presets of `TINY_PRESETS` hold their tiny architectures (in this process)."""
    import dataclasses

    from sr_tf import specs

    saved = {name: specs.PRESETS[name] for name in TINY_PRESETS}
    for name, changes in TINY_PRESETS.items():
        specs.PRESETS[name] = dataclasses.replace(saved[name], architecture=saved[name].architecture.replace(**changes))
    try:
        yield
    finally:
        specs.PRESETS.update(saved)


def run_page(page, folder):
    """Runs every block of `page` in `folder` (prepared by `prepare_folder`); returns the log of what ran."""
    import keras

    namespace, log, previous, earlier = {"__name__": "__docs__"}, [], os.getcwd(), []
    os.chdir(folder)
    stack = contextlib.ExitStack()
    stack.enter_context(tiny_presets())
    try:
        for language, code, reason in blocks(page):
            if reason:
                log.append(f"(not run: {reason})")
            elif language == "python" and page in OWN_PROCESS:
                earlier.append(code)
                done = subprocess.run([sys.executable, "-c", "\n".join(earlier)], cwd=folder, capture_output=True,
                                      text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
                log.append(f">>> {code}\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
                assert done.returncode == 0, log[-1]
            elif language == "python":
                log.append(f">>> {code}")
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(code, f"{page} (python block)", "exec"), namespace)  # noqa: S102 - our own docs
            else:
                run_shell(code, folder, log)
    finally:
        stack.close()
        os.chdir(previous)
        keras.mixed_precision.set_global_policy("float32")
    return log
