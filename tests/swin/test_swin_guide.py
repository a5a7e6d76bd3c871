"""Swin's guide stage and flashcards come from its registry entry, each in a note of its own; ViT's
guide is unchanged beside them."""

from locations import EXERCISES
from obsidian_checks import flashcard_tags, junk_cards, note_problems, sr_cards
from studykit.checklist import parse_tasks, tick_checks
from studykit.guide import stages, write_demo_notes
from vault_export.vault import Vault

SWIN = "2103.14030"


def test_swin_guide_and_cards_are_written_from_its_registry(tmp_path):
    assert list(stages())[:1] == ["2010.11929"] and SWIN in stages()  # ViT leads the learning path
    rows = write_demo_notes(tmp_path)
    guide = Vault(tmp_path).find_by_id(f"studykit:learning-guide:{SWIN}")
    cards = Vault(tmp_path).find_by_id(f"studykit:flashcards:{SWIN}")
    assert guide in [p for p, _ in rows] and cards in [p for p, _ in rows]
    text = guide.read_text(encoding="utf-8")
    items = parse_tasks(text)
    assert [it.fields["check"] for it in items if "check" in it.fields] == [
        "WindowAttention", "SwinTransformerBlock", "PatchMerging", "SwinTransformer"]
    assert "(128, 3, 49, 32)" in text and "torch.roll(x, shifts=(-3, -3), dims=(1, 2))" in text
    assert "56×56×96 → 28×28×192 → 14×14×384 → 7×7×768" in text
    # the guide's 【步骤 N】 are the steps the checker's report points at
    from studykit.check.spec import specs
    assert all(f"【步骤 {n}】" in text for n in specs()[SWIN].steps)
    deck = cards.read_text(encoding="utf-8")
    assert flashcard_tags(text) == [] and flashcard_tags(deck) == ["flashcards/swin"]
    assert len(sr_cards(deck)) == 8 and junk_cards(deck) == [] and parse_tasks(deck) == []
    for note in (guide, cards):
        assert note_problems(tmp_path, note) == []
    # `studykit check my_swin.py --tick .` ticks Swin's exercises, not ViT's
    ticked = tick_checks(tmp_path, ["WindowAttention", "PatchMerging"])
    assert sorted(it.fields["check"] for it in ticked) == ["PatchMerging", "WindowAttention"]


def test_checking_a_swin_file_ticks_swins_guide_not_vits(tmp_path):
    """Both papers have a PatchEmbed: a Swin file's passing PatchEmbed must not tick ViT's exercise."""
    import shutil
    import subprocess
    import sys

    write_demo_notes(tmp_path)
    mine = tmp_path / "my_swin.py"
    shutil.copy(EXERCISES / "swin_learner.py", mine)
    r = subprocess.run([sys.executable, "-m", "studykit", "check", str(mine), "--tick", str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    vit = Vault(tmp_path).find_by_id("studykit:learning-guide:2010.11929").read_text(encoding="utf-8")
    swin = Vault(tmp_path).find_by_id(f"studykit:learning-guide:{SWIN}").read_text(encoding="utf-8")
    assert "- [ ] 手写 PatchEmbed [check:: PatchEmbed]" in vit and "- [x]" not in vit
    assert swin.count("- [x] 手写") == 4
