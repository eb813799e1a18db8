"""train_srgan.py end to end in subprocesses, on tiny generated folders and tiny models."""

import os
import re
import subprocess

import numpy as np
import pytest
from checkpoint_helpers import assert_restored, spy_checkpoints
from helpers import REPO, random_image, write_png

SCRIPT = os.path.join(REPO, "train_srgan.py")
TINY = ["--num-filters", "4", "--num-res-blocks", "1", "--batch-size", "2"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(7)
    for i in range(3):
        write_png(str(root / "hr" / f"{i}.png"), random_image(rng, 96, 104))
    write_png(str(root / "valid" / "v.png"), random_image(rng, 32, 40))
    return root


def run_in_process(workdir, *args):
    """Runs train_srgan.py's main in this process from `workdir` (no interpreter and TensorFlow start-up per
    run); returns (exit status, captured stdout, captured stderr)."""
    import contextlib
    import io

    from sr_tf.cli import srgan as srgan_cli

    out, err, previous = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = srgan_cli.main(list(args))
            except SystemExit as e:  # argparse refusing a value
                status = e.code
    finally:
        os.chdir(previous)
    return status, out.getvalue(), err.getvalue()


def train(workdir, *args):
    status, stdout, stderr = run_in_process(workdir, *args)
    assert status == 0, stdout[-2000:] + stderr[-3000:]
    return subprocess.CompletedProcess(args, status, stdout, stderr)


def test_pretrain_then_gan(workdir):
    out = train(workdir, "pretrain", "--hr-dir", "hr", "--valid-hr-dir", "valid", "--steps", "2",
                "--evaluate-every", "1", *TINY)
    assert "Best validation PSNR" in out.stdout
    assert (workdir / "weights/srgan/pre_generator.h5").exists()
    out = train(workdir, "gan", "--hr-dir", "hr", "--valid-hr-dir", "valid", "--steps", "2", "--evaluate-every",
                "2", "--vgg-weights", "none", "--content-loss", "VGG22", *TINY)
    assert "discriminator_loss" in out.stdout
    assert (workdir / "weights/srgan/gan_generator.h5").exists()
    assert (workdir / "weights/srgan/gan_discriminator.h5").exists()


def test_pretrain_and_gan_at_x2_use_their_own_files(workdir):
    """--scale 2: the x2 generator is trained and saved under weights/srgan-x2, and gan starts from that file by
    default (an x4 file at the x4 default path, written here, would not load into an x2 generator)."""
    from sr_tf.models import srgan
    from sr_tf.weights_io import save_weights

    os.makedirs(workdir / "weights" / "srgan", exist_ok=True)
    save_weights(srgan.generator(num_filters=4, num_res_blocks=1), str(workdir / "weights/srgan/pre_generator.h5"))
    data = ["--scale", "2", "--hr-dir", "hr", "--steps", "1", *TINY]
    train(workdir, "pretrain", *data)
    out = train(workdir, "gan", *data, "--vgg-weights", "none", "--content-loss", "VGG22")
    assert "discriminator_loss" in out.stdout
    assert (workdir / "weights/srgan-x2/pre_generator.h5").exists()
    assert (workdir / "weights/srgan-x2/gan_generator.h5").exists()
    status, _, stderr = run_in_process(workdir, "pretrain", "--scale", "3", "--hr-dir", "hr", "--steps", "1", *TINY)
    # the family's scales are the flag's choices
    assert status == 2 and "--scale: invalid choice: 3 (choose from 2, 4, 8)" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("command,weights", [("edsr", "weights/edsr-1-x2-num-filters-4/weights.h5"),
                                             ("wdsr", "weights/wdsr-b-1-x2-num-filters-4/weights.h5")])
def test_edsr_wdsr_resume_and_evaluate(workdir, command, weights, monkeypatch):
    data = ["--scale", "2", "--hr-dir", "hr", "--valid-hr-dir", "valid", "--evaluate-every", "1"]
    args = [command, *data, *TINY, "--checkpoint-dir", f"ck_{command}"]
    saved, restored = spy_checkpoints(monkeypatch)
    train(workdir, *args, "--steps", "2")
    assert (workdir / weights).exists()
    again = train(workdir, *args, "--steps", "3")
    assert "at step 2" in again.stdout  # resumed, not restarted
    assert_restored(saved, restored, 2)  # with the weights step 2 saved
    out = train(workdir, "evaluate", "--model", command, "--scale", "2", "--num-filters", "4",
                "--num-res-blocks", "1", "--weights", weights, "--hr-dir", "valid")
    lines = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines() if line.split()}
    assert len(lines["model"]) == 6 and len(lines["bicubic"]) == 6  # PSNR RGB, Y, SSIM, mean error R G B
    status, _, stderr = run_in_process(workdir, command, *data, "--num-filters", "8", "--num-res-blocks", "1",
                                       "--batch-size", "2", "--steps", "4", "--checkpoint-dir", f"ck_{command}")
    assert status == 2 and "another architecture" in stderr


def comparison_tables(out):
    """The comparison tables a run printed, in order: [{row name: [PSNR RGB, PSNR Y, SSIM Y]}]."""
    tables, current = [], None
    for line in out.splitlines():
        if line.split()[:3] == ["PSNR", "RGB", "PSNR"]:
            current = {}
            tables.append(current)
        elif current is not None and re.match(r"^[a-z-]+ +-?[0-9.]+ +-?[0-9.]+ +-?[0-9.]+ ", line):
            name, *values = line.split()
            current[name] = [float(v) for v in values[:3]]
        else:
            current = None
    return tables


def test_demo_runs_offline_and_writes_its_outputs(workdir):
    """Both halves of the demo (tiny, 2 steps): the status follows the verdicts."""
    status, out, err = run_in_process(workdir, "demo", "--steps", "2", "--evaluate-every", "1", "--num-filters", "4",
                                      "--num-res-blocks", "1", "--batch-size", "2", "--degradation", "realesrgan")
    # Each verdict follows the printed numbers (PSNR RGB and Y), and the status follows both verdicts.
    tables = comparison_tables(out)
    assert len(tables) == 5, out  # three held-out variants, then two sets of degraded draws
    first = all(t["model"][k] > t["bicubic"][k] for t in tables[:3] for k in (0, 1))
    draws = tables[3]
    second = all(draws["degradation-trained"][k] > max(draws["bicubic"][k], draws["bicubic-trained"][k])
                 for k in (0, 1))
    assert ("The model beats bicubic." in out) == first and ("does NOT beat bicubic" in out) != first
    assert ("The degradation-trained model beats both" in out) == second
    assert ("The degradation-trained model does NOT beat both" in out) != second
    assert status == (0 if first and second else 1), err[-3000:]
    for variant in ("chelsea.png (", "dark (x0.3)", "smooth (blur 2 px)"):
        assert f"Held-out photo {variant}" in out
    assert out.count("means over 8 independent draws") == 2 and "Real-ESRGAN's degradation model" in out
    assert len(re.findall(r"degradation-trained model has the best Y-PSNR on [0-8] of the 8 draws", out)) == 2
    assert "bicubic-trained" in out and "degradation-trained" in out and "mean error R/G/B" in out
    for path in ("weights/demo/edsr-demo-x4.h5", "weights/demo/edsr-demo-x4-realesrgan.h5",
                 "demo_output/chelsea_bicubic_model_original.png",
                 "demo_output/chelsea_bicubic_model_original_degraded.png"):
        assert (workdir / path).exists(), path
