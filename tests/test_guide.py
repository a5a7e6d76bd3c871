"""The learning guide note: what it holds, and re-running it without clobbering the reader."""

import re
import subprocess
import sys

from studykit.checklist import parse_tasks, tick, tick_checks
from studykit.guide import write_guide

ROLES = ["PatchEmbed", "MLP", "Attention", "Block", "VisionTransformer"]


def test_guide_holds_stages_exercises_flashcards_and_log(tmp_path):
    result = write_guide(tmp_path)
    assert result.status == "created"
    text = result.path.read_text(encoding="utf-8")
    items = parse_tasks(text)
    assert [it.fields["check"] for it in items if "check" in it.fields] == ROLES
    headings = {it.heading for it in items}
    assert any(h.startswith("阶段 1") for h in headings) and any(h.startswith("阶段 3") for h in headings)
    assert "能画出 ViT 的整体流程图" in [it.title for it in items]  # the guide's checkpoints
    assert "**时间 / Time**: 2-3 小时" in text and "**时间 / Time**: 4-6 小时" in text
    assert "(2,3,224,224) 如何变成 (2,196,768)" in text
    assert [int(n) for n in re.findall(r"【步骤 (\d)】", text)] == [1, 2, 3, 4, 5, 6, 7]
    assert "(2, 197, 768) -> (2, 197, 2304)" in text
    assert "#flashcards" in text
    assert "一张 224×224 的图像会被切成多少个 16×16 的 patches？::196" in text
    assert "\n?\nfc1: 768 × 3072 + 3072 = 2,362,368\n" in text  # a multi-line card
    assert "## 📝 学习记录 · Learning log" in text


def test_rerun_keeps_ticks_reviews_and_log(tmp_path):
    path = write_guide(tmp_path).path
    tick(path, "知道为什么要有 CLS token")
    tick_checks(tmp_path, ["Attention"])
    text = path.read_text(encoding="utf-8")
    text = text.replace("ViT-Base 有多少参数？::约 86M", "ViT-Base 有多少参数？::约 86M\n<!--SR:!2026-12-01,3,250-->")
    text += "\n今天写完了 Attention，softmax 的轴搞错过一次。\n"
    path.write_text(text, encoding="utf-8")
    again = write_guide(tmp_path)
    assert again.path == path and again.status == "unchanged" and not again.conflicts
    assert path.read_text(encoding="utf-8") == text
    assert write_guide(tmp_path, dry_run=True).diff == ""


def test_edited_walkthrough_is_kept(tmp_path):
    path = write_guide(tmp_path).path
    text = path.read_text(encoding="utf-8").replace("# 每一行和为 1", "# 每一行和为 1 (我的笔记)")
    path.write_text(text, encoding="utf-8")
    write_guide(tmp_path)
    assert "(我的笔记)" in path.read_text(encoding="utf-8")


def test_guide_cli(tmp_path):
    r = subprocess.run([sys.executable, "-m", "studykit", "guide", "--vault", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("created:")
    r = subprocess.run([sys.executable, "-m", "studykit", "guide", "--vault", str(tmp_path / "nope")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "not a folder" in r.stderr
