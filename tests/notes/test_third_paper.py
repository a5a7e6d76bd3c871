"""A third paper added by writing only its package and its registry entry: registered through the
`studykit.papers` entry point (a dist-info folder read by the real importlib.metadata, in this
process and in subprocesses), it gets a matched note, `studykit shapes` and a guide stage, with no
change to studykit."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from locations import REPO

ARXIV = "2401.00001"

_MODEL = '''
import torch
from torch import nn


class PatchEmbed(nn.Module):
    def __init__(self, img_size=32, patch_size=8, in_chans=3, dim=16):
        super().__init__()
        self.img_size, self.in_chans = (img_size, img_size), in_chans
        self.proj = nn.Conv2d(in_chans, dim, patch_size, patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class TinyMixer(nn.Module):
    def __init__(self, img_size=32, dim=16, classes=5):
        super().__init__()
        self.patch_embed = PatchEmbed(img_size, dim=dim)
        self.mix = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x)
        return self.head(self.mix(x).mean(1))


def list_models():
    return ["tiny_mixer_8"]


def create_model(name, **overrides):
    if name not in list_models():
        raise ValueError(f"unknown model {name!r}")
    return TinyMixer(**overrides)
'''

_SHAPES = '''
from vit_impl.shapes import Labels, collapse_blocks as collapse, png, mermaid, trace, trace_named

LABELS = Labels(layer=lambda path: "Eq.1" if path.startswith("mix") else "", operation=lambda owner, steps: "")


def trace_model(name, batch=2, img_size=None):
    from tinypaper.model import create_model
    return trace_named(create_model, name, batch, img_size, LABELS)


def trace_equation(eq):
    module, x = eq.build()
    return trace(module, x, LABELS)
'''

_REGISTRY = '''
from vit_impl.equations import Equation, GuideStage, PaperRegistry


def _build():
    import torch
    from tinypaper.model import create_model
    return create_model("tiny_mixer_8").mix.eval(), torch.randn(2, 16, 16)


REGISTRY = PaperRegistry(
    arxiv="2401.00001",
    title="Tiny Mixer: Mixing Patches Is All You Need (A Toy)",
    model="tiny_mixer_8",
    models_module="tinypaper.model",
    shapes_module="tinypaper.shapes",
    guide="tinypaper.registry:GUIDE",
    checklist=("**How are the patches mixed?** (one Linear, then a mean)",),
    tags=("CV/toy",),
    equations=(Equation(id="Eq.1", title="Token mixing", latex=r"y = \\operatorname{mean}(xW)", meaning="Mix, then pool.",
                        module="tinypaper.model:TinyMixer", code="print(2 + 2)", builder=_build),),
)
GUIDE = GuideStage(name="Mixer", title="Tiny Mixer 从零实现", values={"dim": 16},
                   stage="### 阶段 1: 写 Mixer\\n\\n- [ ] 手写 TinyMixer，宽度 {{ v.dim }} [check:: TinyMixer]\\n",
                   cards="Mixer 的宽度是多少？::{{ v.dim }}\\n")
'''


@pytest.fixture
def third_paper(tmp_path, monkeypatch):
    site = tmp_path / "site"
    package = site / "tinypaper"
    package.mkdir(parents=True)
    for name, text in {"__init__": "", "model": _MODEL, "shapes": _SHAPES, "registry": _REGISTRY}.items():
        (package / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    info = site / "tinypaper-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinypaper\nVersion: 0\n")
    (info / "entry_points.txt").write_text(f"[studykit.papers]\n{ARXIV} = tinypaper.registry:REGISTRY\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", f"{site}:{REPO}")
    from studykit import paper_assets

    paper_assets.known_registries.cache_clear()  # studykit reads the entry points once a process; this one now has a new paper
    yield site
    paper_assets.known_registries.cache_clear()


def test_a_third_paper_gets_a_note_shapes_and_a_guide_stage(tmp_path, third_paper):
    from obsidian_checks import note_problems, sr_cards
    from studykit import notes
    from studykit.checklist import parse_tasks
    from studykit.guide import stages, write_guide
    from studykit.papers import registries
    from studykit.sample_pdf import build

    assert ARXIV in registries()
    pdf = tmp_path / "mixer.pdf"
    pdf.write_bytes(build([["Tiny Mixer: Mixing Patches Is All You Need (A Toy)", f"arXiv:{ARXIV}",
                            "We mix patches with one linear layer."]],
                          [("one linear layer", "#2ea8e5", "the method")],
                          metadata={"title": "Tiny Mixer: Mixing Patches Is All You Need (A Toy)"}))
    from studykit.sources.pdf import read_pdf

    vault = tmp_path / "vault"
    ws = notes.open_workspace(vault)
    [(_, note)] = notes.write_papers(ws, [read_pdf(pdf)])
    text = note.path.read_text(encoding="utf-8")
    assert "**How are the patches mixed?**" in text and "CV/toy" in text and "y = \\operatorname{mean}(xW)" in text
    assert "![[tiny-2401.00001-model-shapes.png]]" in text and "Patch Size" not in text
    assert note_problems(vault, note.path) == []

    shapes = subprocess.run([sys.executable, "-m", "studykit", "shapes", "tiny_mixer_8"], capture_output=True,
                            text=True, timeout=120)
    assert shapes.returncode == 0, shapes.stderr
    assert "(2, 16, 16)" in shapes.stdout and "(2, 5)" in shapes.stdout

    assert ARXIV in stages()
    guide = write_guide(vault, arxiv=ARXIV).path
    assert guide.name == "Tiny Mixer 从零实现 - 学习指南.md"
    assert [it.fields["check"] for it in parse_tasks(guide.read_text(encoding="utf-8"))] == ["TinyMixer"]
    cards = vault / "Mixer 自测卡片 Flashcards.md"
    assert [c[1] for c in sr_cards(cards.read_text(encoding="utf-8"))] == ["Mixer 的宽度是多少？::16"]
