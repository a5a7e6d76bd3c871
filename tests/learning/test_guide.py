"""The learning guide and its flashcards: what they hold, how Spaced Repetition reads them, and
re-running them without clobbering the reader (ticks, reviews, log)."""

import re
import subprocess
import sys

from obsidian_checks import flashcard_tags, junk_cards, note_problems, sr_cards
from studykit.checklist import parse_tasks, scan_vault, tick, tick_checks
from studykit.guide import FLASHCARDS_ID, render_guide, write_guide
from vault_export.vault import Vault

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
    assert "## 📝 学习记录 · Learning log" in text
    cards = Vault(tmp_path).find_by_id(FLASHCARDS_ID).read_text(encoding="utf-8")
    assert "一张 224×224 的图像会被切成多少个 16×16 的 patches？::196" in cards
    assert "\n?\nfc1: 768 × 3072 + 3072 = 2,362,368\n" in cards  # a multi-line card


def test_spaced_repetition_reads_the_cards_and_nothing_else(tmp_path):
    guide = write_guide(tmp_path).path
    cards = Vault(tmp_path).find_by_id(FLASHCARDS_ID)
    assert flashcard_tags(guide.read_text(encoding="utf-8")) == []  # SR does not read the guide at all
    text = cards.read_text(encoding="utf-8")
    assert flashcard_tags(text) == ["flashcards/vit"]
    found = sr_cards(text)
    assert [kind for kind, _, _ in found].count("multi") == 4 and len(found) == 13
    assert junk_cards(text) == [] and parse_tasks(text) == []  # no task, no field among the cards
    for note in (guide, cards):
        assert note_problems(tmp_path, note) == []


def test_the_guide_follows_the_seed_and_runs_from_the_vault_folder(tmp_path):
    text = write_guide(tmp_path).path.read_text(encoding="utf-8")
    assert str(tmp_path) not in text  # commands work wherever the vault is synced to
    assert "`studykit check my_vit.py --tick .`" in text and "`studykit progress .`" in text
    assert "cls_token = self.cls_token.expand(B, -1, -1)" in text
    assert re.search(r"`studykit attention \S+\.jpg --checkpoint runs/vit/best\.pt", text)
    assert "--wandb offline" in text
    for debug in ('print(f"qkv: {qkv.shape}")', 'print(f"q: {q.shape}")', 'print(f"attn: {attn.shape}")'):
        assert debug in text
    assert "x = torch.randn(2, 3, 4)" in text and "| 感受野 | 局部 → 全局（堆叠） | 第一层就全局 |" in text
    for resource in ("The Illustrated Transformer", "Attention Is All You Need", "google-research/vision_transformer",
                     "huggingface/pytorch-image-models"):
        assert resource in text
    assert "把 ViT 用到 VLA 中" in text and "灵巧手" in text
    assert "## ❓ 遇到问题怎么办" in text and "### 代码问题" in text and "### 概念问题" in text
    # One Eq.4 order (the model's: norm, then the class token), and why the paper's gives the same y.
    assert text.index("x = self.norm(x)") < text.index("x = x[:, 0]") and "两种顺序得到同一个 y" in text


def test_the_guide_links_the_paper_note_when_the_vault_has_it(tmp_path):
    papers = tmp_path / "Papers"
    papers.mkdir()
    (papers / "Dosovitskiy 2021 - ViT.md").write_text("---\narxiv: '2010.11929v2'\n---\n# ViT\n", encoding="utf-8")
    guide = write_guide(tmp_path).path
    assert "[[Papers/Dosovitskiy 2021 - ViT|An Image is Worth 16x16 Words]]" in guide.read_text(encoding="utf-8")
    assert note_problems(tmp_path, guide) == []


def test_rerun_keeps_ticks_reviews_and_log(tmp_path):
    path = write_guide(tmp_path).path
    cards = Vault(tmp_path).find_by_id(FLASHCARDS_ID)
    tick(path, "知道为什么要有 CLS token")
    tick_checks(tmp_path, ["Attention"])
    text = path.read_text(encoding="utf-8") + "\n今天写完了 Attention，softmax 的轴搞错过一次。\n"
    path.write_text(text, encoding="utf-8")
    reviewed = cards.read_text(encoding="utf-8").replace(
        "ViT-Base 有多少参数？::约 86M", "ViT-Base 有多少参数？::约 86M\n<!--SR:!2026-12-01,3,250-->")
    cards.write_text(reviewed, encoding="utf-8")
    again = write_guide(tmp_path)
    assert again.path == path and again.status == "unchanged" and not again.conflicts
    assert path.read_text(encoding="utf-8") == text and cards.read_text(encoding="utf-8") == reviewed
    assert write_guide(tmp_path, dry_run=True).diff == ""
    assert ("single", "ViT-Base 有多少参数？::约 86M\n<!--SR:!2026-12-01,3,250-->") in [c[:2] for c in sr_cards(reviewed)]


def test_a_reviewed_deck_inside_an_older_guide_keeps_working(tmp_path):
    """A guide written before the cards had their own note holds the deck, and SR wrote its schedule
    after every '::' line, task lines included: progress, tick and a re-run must still work."""
    path = write_guide(tmp_path).path
    Vault(tmp_path).find_by_id(FLASHCARDS_ID).unlink()
    schedule = "<!--SR:!2026-11-29,3,250-->"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^(- \[ \] .*\[check:: \w+\])$", rf"\1\n{schedule}", text, flags=re.M)
    text = text.replace("## 🤔 关键问题自测 · Self-test\n", f"## 🤔 关键问题自测 · Self-test\n\n#flashcards/vit\n\n"
                        f"ViT-Base 有多少参数？::约 86M\n{schedule}\n")
    path.write_text(text, encoding="utf-8")
    before = [(it.title, it.status) for it in scan_vault(tmp_path)]
    assert len(before) == len(parse_tasks(render_guide(tmp_path)))
    assert [it.fields["check"] for it in tick_checks(tmp_path, ["PatchEmbed", "Attention"])] == ["PatchEmbed",
                                                                                                 "Attention"]
    ticked = path.read_text(encoding="utf-8")
    assert re.search(rf"^- \[x\] 手写 PatchEmbed \[check:: PatchEmbed\] ✅ \d{{4}}-\d\d-\d\d\n{re.escape(schedule)}$",
                     ticked, re.M)
    assert sum(it.status == "done" for it in scan_vault(tmp_path)) == 2
    again = write_guide(tmp_path)  # re-running the demo
    assert again.status == "unchanged" and path.read_text(encoding="utf-8") == ticked
    assert Vault(tmp_path).find_by_id(FLASHCARDS_ID) is None  # the deck is not doubled
    r = subprocess.run([sys.executable, "-m", "studykit", "guide", "--vault", str(tmp_path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "Spaced Repetition reads each '[check:: ...]' task line as a card" in r.stderr
    assert path.read_text(encoding="utf-8") == ticked


def test_edited_walkthrough_is_kept(tmp_path):
    path = write_guide(tmp_path).path
    text = path.read_text(encoding="utf-8").replace("# 每一行和为 1", "# 每一行和为 1 (我的笔记)")
    path.write_text(text, encoding="utf-8")
    write_guide(tmp_path)
    assert "(我的笔记)" in path.read_text(encoding="utf-8")


def test_guide_cli(tmp_path):
    r = subprocess.run([sys.executable, "-m", "studykit", "guide", "--vault", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("created:") and r.stderr == ""
    r = subprocess.run([sys.executable, "-m", "studykit", "guide", "--vault", str(tmp_path / "nope")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "not a folder" in r.stderr


def test_guide_command_writes_every_installed_paper_s_guide_or_the_one_asked_for(tmp_path):
    import subprocess
    import sys

    from studykit.guide import names, stages

    def guide(*extra):
        return subprocess.run([sys.executable, "-m", "studykit", "guide", "--vault", str(tmp_path), *extra],
                              capture_output=True, text=True, timeout=120)

    only = guide("--paper", "2103.14030")
    assert only.returncode == 0, only.stderr
    swin_guide = names("2103.14030", stages()["2103.14030"])[1]
    assert [p.name for p in tmp_path.glob("*.md") if "学习指南" in p.name] == [swin_guide + ".md"]
    every = guide()
    assert every.returncode == 0, every.stderr
    assert len([p for p in tmp_path.glob("*.md") if "学习指南" in p.name]) == len(stages()) >= 2
    unknown = guide("--paper", "9999.99999")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "9999.99999" in unknown.stderr
