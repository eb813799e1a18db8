"""The one rule for files a command writes (sr_tf.outputs): a user's file survives every write case of export,
and a refusal is one line naming the path."""

import os

import pytest
from process_helpers import assert_one_line_errors

from sr_tf.errors import UserInputError
from sr_tf.outputs import OutputExistsError, check_file, check_folder, remove_entries


def _keep(path, text="mine"):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def _kept(path, text="mine"):
    with open(path, "rb") as f:
        return f.read() == text.encode()


def test_check_file_refuses_folders_and_existing_files(tmp_path):
    existing = _keep(str(tmp_path / "existing.onnx"))
    for folder in (str(tmp_path), ".", str(tmp_path) + os.sep):
        with pytest.raises(OutputExistsError, match="is a folder"):
            check_file(folder)
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        check_file(existing)
    assert check_file(existing, overwrite=True) == existing
    assert check_file(str(tmp_path / "new.tflite")) == str(tmp_path / "new.tflite")


def test_check_folder_refuses_what_it_does_not_own(tmp_path, monkeypatch):
    precious = tmp_path / "precious"
    _keep(str(precious / "important.txt"))
    with pytest.raises(OutputExistsError, match="important.txt"):
        check_folder(str(precious), overwrite=True)
    a_file = _keep(str(tmp_path / "model.tflite"))
    with pytest.raises(OutputExistsError, match="is a file"):
        check_folder(a_file, overwrite=True)
    monkeypatch.chdir(precious)
    for here in (".", "..", str(precious)):
        with pytest.raises(OutputExistsError, match="current folder"):
            check_folder(here, overwrite=True)
    (tmp_path / "empty").mkdir()
    assert check_folder(str(tmp_path / "empty")) is True
    assert check_folder(str(tmp_path / "new")) is False
    assert issubclass(OutputExistsError, UserInputError)


@pytest.fixture
def keras_file(tmp_path_factory):
    from sr_tf.models import build
    from sr_tf.weights_io import save_model

    path = str(tmp_path_factory.mktemp("model") / "tiny.keras")
    save_model(build("edsr", scale=2, num_filters=4, num_res_blocks=1), path)
    return path


def test_export_never_removes_a_users_file(tmp_path, keras_file, capsys, monkeypatch):
    from sr_tf.cli import export as export_cli

    monkeypatch.chdir(tmp_path)
    important = _keep("precious/important.txt")
    existing = _keep("existing.onnx")
    tflite_file = _keep("model.tflite")
    os.makedirs("folder")
    cases = [
        (["--weights", keras_file, "--format", "saved_model", "-o", "precious/"], "precious/ holds important.txt"),
        (["--weights", keras_file, "--format", "saved_model", "-o", "precious", "--overwrite"], "important.txt"),
        (["--weights", keras_file, "--format", "onnx", "-o", "existing.onnx"],
         "existing.onnx exists; pass --overwrite"),
        (["--weights", keras_file, "-o", "model.tflite"], "model.tflite exists; pass --overwrite"),
        (["--weights", keras_file, "-o", "folder"], "folder is a folder"),
        (["--weights", keras_file, "--format", "saved_model", "-o", "."], "current folder"),
        (["--weights", keras_file, "--format", "saved_model", "-o", "model.tflite"], "model.tflite is a file"),
    ]
    assert_one_line_errors(export_cli.main, cases, capsys)
    assert _kept(important) and _kept(existing) and _kept(tflite_file) and os.listdir("folder") == []
    assert sorted(os.listdir(".")) == ["existing.onnx", "folder", "model.tflite", "precious"]  # no temporaries

    # --overwrite replaces only the named target; a SavedModel folder is replaced whole, nothing beside it
    assert export_cli.main(["--weights", keras_file, "-o", "model.tflite", "--overwrite"]) == 0
    assert not _kept(tflite_file) and _kept(important)
    assert export_cli.main(["--weights", keras_file, "--format", "saved_model", "-o", "sm"]) == 0
    assert export_cli.main(["--weights", keras_file, "--format", "saved_model", "-o", "sm"]) == 2
    assert "sm holds a SavedModel already" in capsys.readouterr().err
    assert export_cli.main(["--weights", keras_file, "--format", "saved_model", "-o", "sm", "--overwrite"]) == 0
    assert os.path.isfile("sm/saved_model.pb")
    assert sorted(os.listdir(".")) == ["existing.onnx", "folder", "model.tflite", "precious", "sm"]
    os.makedirs("empty")
    assert export_cli.main(["--weights", keras_file, "--format", "saved_model", "-o", "empty"]) == 0
    assert os.path.isfile("empty/saved_model.pb")


def test_int8_export_prints_none_of_the_converters_chatter(tmp_path, keras_file, capfd):
    from sr_tf.cli import export as export_cli

    # (--force: a random model's int8 file may score below the quality threshold; the chatter is what is tested)
    assert export_cli.main(["--weights", keras_file, "--quantize", "int8", "--force", "-o",
                            str(tmp_path / "q.tflite")]) == 0
    captured = capfd.readouterr()
    assert "fully_quantize" not in captured.err and "UserWarning" not in captured.err, captured.err
    assert "Wrote" in captured.out


def test_the_export_commands_quantizations_are_the_libraries():
    from sr_tf.cli.export import QUANTIZATIONS as written_for_help
    from sr_tf.deploy import QUANTIZATIONS

    assert written_for_help == QUANTIZATIONS


def test_removing_an_old_export_removes_only_its_own_entries(tmp_path):
    old = tmp_path / "old"
    (old / "variables").mkdir(parents=True)
    _keep(str(old / "saved_model.pb"))
    _keep(str(old / "variables" / "variables.index"))
    _keep(str(old / "arrived.txt"))
    remove_entries(str(old))
    assert os.listdir(old) == ["arrived.txt"] and _kept(str(old / "arrived.txt"))
    os.remove(old / "arrived.txt")
    (old / "assets").mkdir()
    remove_entries(str(old))
    assert not old.exists()


def test_sample_complete_and_walk_keep_an_existing_file(tmp_path, capsys, monkeypatch):
    from sr_tf.cli import fastgan as fastgan_cli
    from sr_tf.cli import pixelcnn as pixelcnn_cli

    monkeypatch.chdir(tmp_path)
    mine = _keep("mine.png")
    cases = [
        (["sample", "--weights", "any.keras", "-o", "mine.png"], "mine.png exists; pass --overwrite"),
        (["sample", "--weights", "any.keras", "-o", "."], ". is a folder"),
    ]
    assert_one_line_errors(pixelcnn_cli.main, cases, capsys)
    cases = [(["generate", "--weights", "any.keras", "--interpolate", "1,2", "-o", "mine.png"],
              "mine.png exists; pass --overwrite"),
             (["generate", "--weights", "any.keras", "-o", "mine.png"], "mine.png is a file")]
    assert_one_line_errors(fastgan_cli.main, cases, capsys)
    assert _kept(mine)
