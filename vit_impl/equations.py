"""The equation registry of arXiv 2010.11929: each of Eq.1-Eq.4 with its LaTeX, its meaning
and the module that computes it.

studykit finds `REGISTRY` through the `studykit.papers` entry point and reads it when it
starts, so this module does not import torch; only `Equation.build()` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Callable

_MODEL = "vit_base_patch16_224"


@dataclass(frozen=True)
class Equation:
    """One equation of a paper and the code that implements it."""

    id: str  # "Eq.1"
    title: str
    latex: str  # for $$...$$ (MathJax in Obsidian)
    meaning: str  # one or two plain sentences for a student
    module: str  # "module:qualname" of what implements it
    code: str  # a standalone Python cell: builds the module, runs the example input, prints shapes
    builder: Callable[[], tuple] = field(repr=False, compare=False, default=None)

    def build(self):
        """The implementing module (eval mode) and an example input: ViT-B/16 at batch 2."""
        return self.builder()


@dataclass(frozen=True)
class PaperRegistry:
    """A paper's equations, and the model that diagrams of the paper show by default."""

    arxiv: str
    title: str
    model: str
    equations: tuple[Equation, ...]
    # `studykit check`: "module:attr" of the paper's check spec (studykit.check.spec.CheckSpec), "" for none
    check: str = ""
    # The paper's own checklist questions and note tags: only a note matched to this entry gets them.
    checklist: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # The commands that run the model (`studykit attention`, `studykit train`), as "module:attr"
    # strings imported only when the command runs; the contract is studykit.papers.PaperRegistry.
    load_model: str = ""
    explain_attention: str = ""
    draw_attention: str = ""
    train_arguments: str = ""
    train_config: str = ""
    train: str = ""
    # The reference models and their shape tracer: two modules, named here and imported (with
    # torch) on first use. `models_module` has list_models() and create_model(name, **overrides);
    # `shapes_module` has trace_model, collapse, trace_equation, png and mermaid.
    models_module: str = ""
    shapes_module: str = ""
    # Pictures a paper note embeds beside the shape diagram: (slug, caption, "module:attr" of a
    # () -> PNG bytes function), drawn (with torch) only when the note's attachment is missing.
    pictures: tuple[tuple[str, str, str], ...] = ()
    # The learning guide's stage of this paper (studykit.papers.GuideStage): "module:attr", "" for none.
    guide: str = ""

    def model_names(self) -> list[str]:
        return import_module(self.models_module).list_models() if self.models_module else []

    def create_model(self, name: str, **overrides):
        return import_module(self.models_module).create_model(name, **overrides)

    def trace_shapes(self, name: str, batch: int = 2, img_size: int | None = None) -> list:
        """Every step of a named model's forward pass on a (batch, 3, S, S) input."""
        return import_module(self.shapes_module).trace_model(name, batch=batch, img_size=img_size)

    def collapse_shapes(self, steps: list) -> list:
        """`steps` with repeated blocks shown once and a repeat count."""
        return import_module(self.shapes_module).collapse(steps)

    def trace_equation(self, eq_id: str) -> list:
        return import_module(self.shapes_module).trace_equation(self.equation(eq_id))

    def shapes_png(self, steps: list, title: str = "") -> bytes:
        return import_module(self.shapes_module).png(steps, title)

    def shapes_mermaid(self, steps: list) -> str:
        return import_module(self.shapes_module).mermaid(steps)

    def equation(self, eq_id: str) -> Equation:
        for eq in self.equations:
            if eq.id == eq_id:
                return eq
        raise KeyError(f"{self.arxiv} has no {eq_id!r}; it has {', '.join(e.id for e in self.equations)}")


@dataclass(frozen=True)
class GuideStage:
    """A paper's stage of the learning guide and its flashcards (the contract: studykit.papers.GuideStage)."""

    name: str  # "ViT": names the guide's and the flashcards' notes
    title: str
    values: dict  # the numbers the walk-throughs and cards are written with (`v` in the templates)
    stage: str = ""  # Jinja text of the stage; "" for the guide's own templates (learning_guide.md.j2)
    cards: str = ""  # Jinja text of the flashcards; "" for flashcards.md.j2


def _guide_values(B=2, C=3, img=224, P=16, D=768, heads=12, depth=12, classes=1000) -> dict:
    """ViT-Base/16 on a batch of two 224x224 images: the numbers of the guide's walk-throughs and cards."""
    grid, hidden = img // P, 4 * D
    return dict(B=B, C=C, img=img, P=P, D=D, heads=heads, d=D // heads, depth=depth, classes=classes,
                grid=grid, N=grid * grid, T=grid * grid + 1, hidden=hidden,
                fc1_params=D * hidden + hidden, fc2_params=hidden * D + D)


# The first paper of the learning path: its stages are the guide's own templates.
GUIDE = GuideStage(name="ViT", title="ViT 从零实现", values=_guide_values())


# The builders import torch on call, never at import.
def _build_embedding():
    import torch

    from vit_impl.configs import create_model
    from vit_impl.sublayers import Embedding

    vit = create_model(_MODEL, depth=0)  # Eq.1 needs only the embedding, not the 12 blocks
    return Embedding(vit).eval(), torch.randn(2, 3, 224, 224)


def _base_block():
    from vit_impl.configs import model_config
    from vit_impl.model import Block

    cfg = model_config(_MODEL)
    return Block(cfg["embed_dim"], cfg["num_heads"], qkv_bias=True)


def _build_attention_sublayer():
    import torch

    from vit_impl.sublayers import AttentionSublayer

    return AttentionSublayer(_base_block()).eval(), torch.randn(2, 197, 768)


def _build_mlp_sublayer():
    import torch

    from vit_impl.sublayers import MlpSublayer

    return MlpSublayer(_base_block()).eval(), torch.randn(2, 197, 768)


def _build_class_token_norm():
    import torch

    from vit_impl.configs import create_model
    from vit_impl.sublayers import ClassTokenNorm

    return ClassTokenNorm(create_model(_MODEL, depth=0)).eval(), torch.randn(2, 197, 768)


_EQ1_CODE = '''\
import torch
from vit_impl import create_model
from vit_impl.sublayers import Embedding

vit = create_model("vit_base_patch16_224", depth=0)  # ViT-B/16's embedding; Eq.1 needs no blocks
images = torch.randn(2, 3, 224, 224)  # a batch of 2 RGB images, 224 x 224
with torch.no_grad():
    patches = vit.patch_embed(images)  # x_p^n E: 14 x 14 = 196 patches of 16 x 16 pixels, each -> 768
    tokens = torch.cat([vit.cls_token.expand(2, -1, -1), patches], dim=1)  # prepend x_class
    z0 = tokens + vit.pos_embed  # + E_pos
    assert torch.equal(z0, Embedding(vit)(images))  # the registry's Eq.1 module computes the same
print("images           ", tuple(images.shape))
print("x_p E            ", tuple(patches.shape))
print("[x_class; x_p E] ", tuple(tokens.shape))
print("E_pos            ", tuple(vit.pos_embed.shape))
print("z_0              ", tuple(z0.shape))
'''

_EQ2_CODE = '''\
import torch
from vit_impl.model import Block

block = Block(dim=768, num_heads=12, qkv_bias=True).eval()  # one ViT-B/16 encoder layer
z = torch.randn(2, 197, 768)  # z_{l-1}: 2 images x (1 class token + 196 patches) x 768
with torch.no_grad():
    h = block.norm1(z)  # LN
    qkv = block.attn.qkv(h)  # q, k and v for all 12 heads at once
    msa = block.attn(h)  # MSA: 12 heads of 64 dimensions, merged back to 768
    z_prime = msa + z  # Eq.2: the residual connection
print("z_{l-1}          ", tuple(z.shape))
print("LN(z_{l-1})      ", tuple(h.shape))
print("qkv              ", tuple(qkv.shape), "= 3 x 12 heads x 64")
print("MSA(LN(.))       ", tuple(msa.shape))
print("z'_l             ", tuple(z_prime.shape))
'''

_EQ3_CODE = '''\
import torch
from vit_impl.model import Block

block = Block(dim=768, num_heads=12, mlp_ratio=4.0, qkv_bias=True).eval()  # one ViT-B/16 encoder layer
z_prime = torch.randn(2, 197, 768)  # z'_l, the output of Eq.2
with torch.no_grad():
    h = block.norm2(z_prime)  # LN
    hidden = block.mlp.act(block.mlp.fc1(h))  # 768 -> 3072 = 4 x 768, then GELU
    mlp = block.mlp.fc2(hidden)  # 3072 -> 768
    z = mlp + z_prime  # Eq.3: the residual connection
print("z'_l             ", tuple(z_prime.shape))
print("fc1 + GELU       ", tuple(hidden.shape))
print("MLP(LN(z'_l))    ", tuple(mlp.shape))
print("z_l              ", tuple(z.shape))
'''

_EQ4_CODE = '''\
import torch
from vit_impl import create_model

vit = create_model("vit_base_patch16_224", depth=0)  # ViT-B/16's final norm and head; no blocks needed
z_L = torch.randn(2, 197, 768)  # the output of the last block
with torch.no_grad():
    y = vit.norm(z_L)[:, 0]  # Eq.4 as the model computes it: LN on every token, then the class token
    z_L0 = z_L[:, 0]  # z_L^0: the class token only
    # The paper's order, LN(z_L^0), gives the same y: LayerNorm normalises each token on its own.
    assert torch.allclose(y, vit.norm(z_L0), atol=1e-6)
    logits = vit.head(y)  # the classification head, 1000 ImageNet classes
print("z_L              ", tuple(z_L.shape))
print("z_L^0            ", tuple(z_L0.shape))
print("y                ", tuple(y.shape))
print("head(y)          ", tuple(logits.shape))
'''

REGISTRY = PaperRegistry(
    arxiv="2010.11929",
    title="An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
    model=_MODEL,
    check="vit_impl.check_spec:SPEC",
    guide="vit_impl.equations:GUIDE",
    load_model="vit_impl.checkpoint:load_model",
    explain_attention="vit_impl.attention:explain",
    draw_attention="vit_impl.attention:draw_attention",
    train_arguments="vit_impl.train_args:add_train_arguments",
    train_config="vit_impl.train_args:resolve",
    train="vit_impl.train:train",
    models_module="vit_impl.configs",
    shapes_module="vit_impl.shapes",
    equations=(
        Equation(
            id="Eq.1",
            title="Patch embedding, class token and position embedding",
            latex=r"\mathbf{z}_0 = [\mathbf{x}_\text{class}; \mathbf{x}_p^1\mathbf{E}; \mathbf{x}_p^2\mathbf{E}; \cdots; "
            r"\mathbf{x}_p^N\mathbf{E}] + \mathbf{E}_{pos}, \quad \mathbf{E} \in \mathbb{R}^{(P^2 \cdot C) \times D}, "
            r"\; \mathbf{E}_{pos} \in \mathbb{R}^{(N+1) \times D}",
            meaning="The image is cut into N patches of P x P pixels and each patch is projected to a D-dimensional "
            "token; a learned class token is put in front and a learned position vector is added to every token.",
            module="vit_impl.sublayers:Embedding",
            code=_EQ1_CODE,
            builder=_build_embedding,
        ),
        Equation(
            id="Eq.2",
            title="Multi-head self-attention sub-layer with residual",
            latex=r"\mathbf{z}'_\ell = \operatorname{MSA}(\operatorname{LN}(\mathbf{z}_{\ell-1})) + \mathbf{z}_{\ell-1}, "
            r"\quad \ell = 1 \ldots L",
            meaning="Each token is normalised, then gathers information from every other token through multi-head "
            "self-attention; the result is added back to the input (a residual connection).",
            module="vit_impl.sublayers:AttentionSublayer",
            code=_EQ2_CODE,
            builder=_build_attention_sublayer,
        ),
        Equation(
            id="Eq.3",
            title="MLP sub-layer with residual",
            latex=r"\mathbf{z}_\ell = \operatorname{MLP}(\operatorname{LN}(\mathbf{z}'_\ell)) + \mathbf{z}'_\ell, "
            r"\quad \ell = 1 \ldots L",
            meaning="Each token is normalised and passed on its own through a two-layer MLP (D -> 4D -> D with a GELU); "
            "the result is added back to the input. Eq.2 and Eq.3 together form one encoder block.",
            module="vit_impl.sublayers:MlpSublayer",
            code=_EQ3_CODE,
            builder=_build_mlp_sublayer,
        ),
        Equation(
            id="Eq.4",
            title="Final LayerNorm on the class token",
            latex=r"\mathbf{y} = \operatorname{LN}(\mathbf{z}_L^0)",
            meaning="After the last block only the class token is kept; normalised, it is the image representation "
            "y that the classification head reads.",
            module="vit_impl.sublayers:ClassTokenNorm",
            code=_EQ4_CODE,
            builder=_build_class_token_norm,
        ),
    ),
    checklist=(
        "**Patch Size 是多少？** (ViT 默认是 16x16，这就是标题的由来)",
        "**为什么需要 [CLS] Token？** (提示：它是为了最后做分类用的“总结性向量”)",
        "**模型在什么数据集上表现好？** (关注预训练数据集，如 JFT-300M，理解为什么 ViT 比较“吃”数据)",
        "**Inductive Bias (归纳偏置) 是什么？** (CNN 有平移不变性等先验知识，Transformer 没有，所以需要更多数据去学习)",
    ),
    tags=("CV/classification",),
)
