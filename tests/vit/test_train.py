"""Training: files a run leaves, exact resume, bad input, Ctrl-C, DDP under torchrun agreeing with one process."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from PIL import Image

from studykit.cli import main
from vit_impl.train_args import build_parser, resolve
from vit_impl.train_config import TrainConfig
from vit_impl.train_data import crop_flip
from vit_impl.train_model import model_kwargs, warmup_cosine

TINY = ["--dataset", "shapes", "--img-size", "16", "--embed-dim", "16", "--depth", "1", "--num-heads", "2",
        "--train-size", "256", "--val-size", "64", "--batch-size", "64", "--threads", "1"]
TIMING = ("images_per_s", "epoch_seconds", "session_s")


def train(out, *extra) -> int:
    return main(["train", *TINY, "--out", str(out), *extra])


def metrics(out) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def without_timing(rows):
    return [{k: v for k, v in row.items() if k not in TIMING} for row in rows]


def test_a_run_leaves_metrics_curves_and_checkpoints(tmp_path):
    out = tmp_path / "run"
    assert train(out, "--epochs", "2") == 0
    rows = metrics(out)
    assert [r["epoch"] for r in rows] == [1, 2]
    for r in rows:
        assert set(r) >= {"train_loss", "val_loss", "val_top1", "lr", "images_per_s", "epoch_seconds"}
        assert 0 <= r["val_top1"] <= 1 and r["images_per_s"] > 0
    assert rows[1]["lr"] < rows[0]["lr"]  # cosine decay after the warmup
    with Image.open(out / "curves.png") as img:
        assert img.format == "PNG" and img.size[0] > 500
    last = torch.load(out / "last.pt", weights_only=True)
    assert {"model", "optimizer", "scheduler", "epoch", "rng", "model_config", "config"} <= set(last)
    assert last["epoch"] == 2 and last["batches_done"] == 0
    best = torch.load(out / "best.pt", weights_only=True)
    assert best["best_top1"] == max(r["val_top1"] for r in rows)


def test_resume_gives_the_same_metrics_and_weights_as_an_uninterrupted_run(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert train(straight, "--epochs", "3") == 0
    assert train(resumed, "--epochs", "3", "--max-minutes", "1e-9") == 0  # stops after one step
    partial = torch.load(resumed / "last.pt", weights_only=True)
    assert partial["epoch"] == 0 and partial["batches_done"] == 1
    assert train(resumed, "--epochs", "3", "--resume") == 0
    assert without_timing(metrics(resumed)) == without_timing(metrics(straight))
    a = torch.load(straight / "last.pt", weights_only=True)["model"]
    b = torch.load(resumed / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_one_epoch_then_resume_one_epoch_equals_two_epochs_straight(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert train(straight, "--epochs", "2") == 0
    assert train(resumed, "--epochs", "2", "--stop-after", "1") == 0
    assert len(metrics(resumed)) == 1
    assert train(resumed, "--epochs", "2", "--resume") == 0
    assert without_timing(metrics(resumed)) == without_timing(metrics(straight))


def test_resume_reads_last_pt_once(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert train(out, "--epochs", "2", "--stop-after", "1") == 0
    real_load, loaded = torch.load, []

    def counting_load(f, *args, **kwargs):
        loaded.append(str(f))
        return real_load(f, *args, **kwargs)

    monkeypatch.setattr(torch, "load", counting_load)
    assert train(out, "--epochs", "2", "--resume") == 0
    assert loaded.count(str(out / "last.pt")) == 1


def test_the_configuration_is_frozen_and_with_model_only_the_sizes_given_override_it():
    config = resolve(build_parser().parse_args(["--model", "vit_tiny_patch16_224", "--embed-dim", "96",
                                                "--img-size", "32"]))
    assert isinstance(config, TrainConfig) and config.size_overrides == {"embed_dim"}
    with pytest.raises(AttributeError):
        config.lr = 1.0
    kw = model_kwargs(config, num_classes=10)
    assert (kw["embed_dim"], kw["depth"], kw["num_heads"], kw["patch_size"]) == (96, 12, 3, 16)  # depth etc. the model's
    assert "size_overrides" not in config.plain() and config.plain()["recipe"] == "shapes"


def test_bad_runs_are_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--resume") == 2
    assert "no last.pt" in capsys.readouterr().err
    assert train(out, "--epochs", "1") == 0
    capsys.readouterr()
    assert train(out, "--epochs", "1") == 2  # would overwrite a run
    assert "--resume" in capsys.readouterr().err
    assert train(out, "--epochs", "2", "--resume", "--embed-dim", "32") == 2
    err = capsys.readouterr().err
    assert "shape mismatch" in err and "pos_embed" in err
    assert main(["train", "--dataset", "cifar10", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cifar-10-python.tar.gz" in err and str(tmp_path / "none") in err
    assert train(tmp_path / "p", "--patch-size", "5") == 2
    assert "not divisible" in capsys.readouterr().err


@pytest.mark.skipif(__import__("importlib").util.find_spec("wandb") is not None, reason="wandb is installed here")
def test_wandb_offline_without_wandb_is_one_line_not_a_crash(tmp_path, capsys):
    assert train(tmp_path / "run", "--epochs", "1", "--wandb", "offline") == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("wandb")]
    assert len(lines) == 1 and "not installed" in lines[0]


def test_train_options_import_no_torch():
    code = "import sys, vit_impl.train_args as t; t.build_parser().parse_args([]); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_crop_flip_takes_a_shifted_window_of_the_padded_image_per_image():
    x = torch.arange(4 * 16 * 16, dtype=torch.float32).view(4, 1, 16, 16)
    torch.manual_seed(0)
    y = crop_flip(x)
    assert y.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), mode="reflect")
    for b in range(4):
        windows = [padded[b, :, i:i + 16, j:j + 16] for i in range(5) for j in range(5)]
        assert any(torch.equal(y[b], w) or torch.equal(y[b], w.flip(-1)) for w in windows)


def test_warmup_rises_linearly_then_cosine_decays_to_zero():
    f = warmup_cosine(10, 110)
    assert [f(i) for i in range(3)] == pytest.approx([0.1, 0.2, 0.3])
    assert f(9) == 1.0 and f(60) == pytest.approx(0.5) and f(110) == pytest.approx(0.0)
    assert all(f(i) >= f(i + 1) for i in range(10, 110))


ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.mark.slow
def test_ctrl_c_saves_last_pt_and_resume_finishes(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "vit_impl.train", *TINY, "--epochs", "50", "--out", str(out)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.monotonic() + 120
    while not (out / "metrics.jsonl").is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: saved" in err and "Traceback" not in err
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["epoch"] * 4 + state["batches_done"] >= 4  # at least the first epoch's 4 steps
    assert train(out, "--epochs", "50", "--resume", "--stop-after", "1") == 0
    rows = metrics(out)
    assert rows[-1]["epoch"] == state["epoch"] + 1 and "partial" not in rows[-1]


@pytest.mark.slow
def test_two_gloo_processes_agree_with_one_process_on_the_same_global_batch(tmp_path):
    args = [*TINY, "--epochs", "1", "--augment", "none", "--train-size", "192", "--batch-size", "32"]
    assert main(["train", *args, "--out", str(tmp_path / "one")]) == 0  # one process: this one
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "vit_impl.train", *args, "--out", str(tmp_path / "two")],
                         capture_output=True, text=True, env=ENV, timeout=300)
    assert ddp.returncode == 0, ddp.stderr
    assert "cpu x 2" in ddp.stderr
    a = torch.load(tmp_path / "one" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "two" / "last.pt", weights_only=True)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=2e-5, rtol=1e-4)
    (one,), (two,) = metrics(tmp_path / "one"), metrics(tmp_path / "two")
    assert two["train_loss"] == pytest.approx(one["train_loss"], abs=1e-4)
    assert two["val_top1"] == one["val_top1"]
