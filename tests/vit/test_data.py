"""The training data: generated shapes (deterministic, boxes that hold the object) and the CIFAR-10 reader."""

import pickle
import tarfile

import numpy as np
import pytest
import torch

from vit_impl.data import CIFAR10_ARCHIVE, CIFAR10_FOLDER, DatasetError, cifar10_splits, make_shapes, shapes_splits


def test_shapes_are_deterministic_in_the_seed_and_differ_across_seeds():
    a, b, c = make_shapes(64, seed=3), make_shapes(64, seed=3), make_shapes(64, seed=4)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels) and torch.equal(a.boxes, b.boxes)
    assert not torch.equal(a.images, c.images)
    assert a.images.shape == (64, 3, 32, 32) and a.images.dtype == torch.uint8
    assert len(a.classes) == 10 and len(set(a.classes)) == 10


def test_shapes_cover_all_ten_classes_and_boxes_are_at_most_a_quarter_inside_the_image():
    data = make_shapes(2000, img_size=32, seed=0)
    counts = torch.bincount(data.labels, minlength=10)
    assert counts.min() > 150  # roughly balanced
    x0, y0, x1, y1 = data.boxes.T
    assert (x0 >= 0).all() and (y0 >= 0).all() and (x1 <= 32).all() and (y1 <= 32).all()
    area = (x1 - x0) * (y1 - y0)
    assert (area <= 32 * 32 / 4).all() and (area >= 8 * 8).all()


@pytest.mark.parametrize("i", range(6))
def test_the_object_is_inside_its_box_and_the_background_is_grey(i):
    data = make_shapes(6, img_size=32, seed=11)
    img = data.images[i].float() / 255  # (3, H, W)
    x0, y0, x1, y1 = data.boxes[i].tolist()
    saturation = img.max(0).values - img.min(0).values  # grey background: ~0, coloured object: large
    inside = torch.zeros(32, 32, dtype=torch.bool)
    inside[y0:y1, x0:x1] = True
    assert saturation[inside].max() > 0.5
    assert (saturation[~inside] > 0.45).float().mean() < 0.01
    colour = data.classes[data.labels[i]].split()[0]
    centre = img[:, (y0 + y1) // 2 + (y1 - y0) // 4, (x0 + x1) // 2]  # lower middle: inside every shape
    channel = {"red": 0, "green": 1, "blue": 2}.get(colour)
    if channel is not None:
        assert centre.argmax() == channel


def test_train_and_validation_are_different_images():
    train, val = shapes_splits(img_size=16, n_train=200, n_val=50)
    flat_train = {bytes(x.numpy()) for x in train.images}
    assert not any(bytes(x.numpy()) in flat_train for x in val.images)


def _batch(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return pickle.dumps({b"batch_label": b"x", b"labels": rng.integers(0, 10, n).tolist(),
                         b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"filenames": []}, protocol=2)


NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


@pytest.fixture
def cifar_folder(tmp_path):
    folder = tmp_path / CIFAR10_FOLDER
    folder.mkdir()
    for i, name in enumerate(NAMES):
        (folder / name).write_bytes(_batch(7, i))
    return tmp_path


def test_cifar_reads_the_extracted_folder_in_channel_first_order(cifar_folder):
    train, test = cifar10_splits(cifar_folder, download=False)
    assert train.images.shape == (35, 3, 32, 32) and test.images.shape == (7, 3, 32, 32)
    raw = pickle.loads((cifar_folder / CIFAR10_FOLDER / "data_batch_1").read_bytes())
    assert torch.equal(train.images[0, 1].flatten(), torch.from_numpy(raw[b"data"][0, 1024:2048]))  # green plane
    assert train.labels[:7].tolist() == raw[b"labels"]


def test_cifar_reads_the_tar_gz_as_downloaded(cifar_folder, tmp_path):
    archive = tmp_path / "dl" / CIFAR10_ARCHIVE
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(cifar_folder / CIFAR10_FOLDER, arcname=CIFAR10_FOLDER)
    train, test = cifar10_splits(archive.parent, download=False)
    ref_train, _ = cifar10_splits(cifar_folder, download=False)
    assert torch.equal(train.images, ref_train.images) and len(test) == 7


def test_missing_cifar_says_which_file_to_put_where(tmp_path):
    with pytest.raises(DatasetError) as err:
        cifar10_splits(tmp_path / "nowhere")
    msg = str(err.value)
    assert str(tmp_path / "nowhere" / CIFAR10_ARCHIVE) in msg and CIFAR10_FOLDER in msg and "https://" in msg


def test_corrupt_cifar_archive_and_batch_are_named(tmp_path, cifar_folder):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / CIFAR10_ARCHIVE).write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DatasetError, match="corrupt or truncated"):
        cifar10_splits(tmp_path / "bad", download=False)
    (cifar_folder / CIFAR10_FOLDER / "data_batch_3").write_bytes(_batch(7, 0)[:100])
    with pytest.raises(DatasetError, match="data_batch_3"):
        cifar10_splits(cifar_folder, download=False)
    (cifar_folder / CIFAR10_FOLDER / "test_batch").unlink()
    (cifar_folder / CIFAR10_FOLDER / "data_batch_3").write_bytes(_batch(7, 0))
    with pytest.raises(DatasetError, match="test_batch: missing"):
        cifar10_splits(cifar_folder, download=False)


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_a_batch_pickle_that_would_run_code_is_refused(cifar_folder, capsys):
    (cifar_folder / CIFAR10_FOLDER / "data_batch_1").write_bytes(pickle.dumps({b"data": _Evil()}))
    with pytest.raises(DatasetError, match="data_batch_1"):
        cifar10_splits(cifar_folder, download=False)
    assert "pwned" not in capsys.readouterr().out
