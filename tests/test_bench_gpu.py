"""bench/gpu.py, the one command for a lent GPU: its --dry-run runs every case at tiny sizes on this CPU in each
precision and writes both reports (outside the repository unless told where), and --budget skips what does not fit
and says which."""

import json

from process_helpers import run_cli


def test_dry_run_runs_every_case_and_writes_both_reports(tmp_path):
    output, results = tmp_path / "gpu.md", tmp_path / "gpu.json"
    result = run_cli(["bench/gpu.py", "--dry-run", "--output", str(output), "--json", str(results)], timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(results.read_text())
    measured = {(row["case"], row["precision"]) for row in report["results"]}
    skipped = {row["case"]: row["why"] for row in report["skipped"]}
    trainers = ["srresnet-pretrain", "srgan-step", "edsr-16", "rrdb (Real-ESRNet)", "realesrgan (GAN stage)",
                "fastgan-256"]
    assert {(case, "float32") for case in trainers} <= measured
    assert {("srresnet-pretrain", p) for p in ("float16", "bfloat16", "xla")} <= measured
    resolved = {(case, p) for case, p in measured if case.startswith("resolve ")}
    assert len(resolved) == 8 and {p for _, p in resolved} == {"float32", "float16", "bfloat16"}
    assert any(case.startswith("pixelcnn fast sampling") for case, _ in measured)
    assert "fastgan-1024" in skipped and "MirroredStrategy" in skipped
    assert any(case.startswith("original tutorial") for case, _ in measured) or \
        skipped.get("original tutorial pre-training step") == "tf_keras is not installed"
    assert all(row.get("steps_per_s", 1) > 0 and row["wall_s"] > 0 for row in report["results"])
    table = output.read_text()
    assert table.count("\n| ") == len(report["results"]) + 1 and "srgan-step | float32" in table


def test_a_small_budget_skips_cases_and_says_which_and_a_dry_run_writes_outside_the_repository():
    import os
    import re

    from helpers import REPO

    before = sorted(os.listdir(os.path.join(REPO, "bench")))
    result = run_cli(["bench/gpu.py", "--dry-run", "--budget", "0.5"], timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    markdown, results = re.search(r"Wrote (\S+) and (\S+)", result.stdout).groups()
    assert sorted(os.listdir(os.path.join(REPO, "bench"))) == before
    assert not os.path.realpath(results).startswith(os.path.realpath(REPO) + os.sep) and os.path.isfile(markdown)
    report = json.loads(open(results).read())
    assert report["results"] == []
    assert "skipped srresnet-pretrain [float32]: less than its 2 s allowance left of --budget 0 s" in result.stdout
    assert len(report["skipped"]) >= 10
