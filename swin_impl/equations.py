"""The equation registry of arXiv 2103.14030 (Swin Transformer): Eq.1-Eq.4 with their LaTeX, their
meaning, the module that computes each, and a cell that prints the shapes of swin_tiny at 224.

studykit finds `REGISTRY` through the `studykit.papers` entry point and reads it when it
starts, so this module does not import torch; only `Equation.build()` does.
"""

from __future__ import annotations

from vit_impl.equations import Equation, PaperRegistry

_MODEL = "swin_tiny_patch4_window7_224"


# The builders import torch on call, never at import. Each returns swin_tiny's module and its
# stage-1 input: a batch of 2, 56 x 56 tokens of 96 channels, windows of 7 x 7.
def _stage1_blocks():
    from swin_impl.configs import create_model

    return create_model(_MODEL, depths=(2, 2, 2, 2)).layers[0].blocks  # stage 1: W-MSA block, SW-MSA block


def _build_global_msa():
    import torch

    from vit_impl.model import Attention

    return Attention(96, num_heads=3, qkv_bias=True).eval(), torch.randn(2, 56 * 56, 96)


def _build_window_msa():
    import torch

    from swin_impl.sublayers import WindowMSA

    return WindowMSA(_stage1_blocks()[0]).eval(), torch.randn(2, 56, 56, 96)


def _build_successive_blocks():
    import torch

    return _stage1_blocks().eval(), torch.randn(2, 56, 56, 96)


def _build_window_attention():
    import torch

    return _stage1_blocks()[0].attn.eval(), torch.randn(2 * 64, 49, 96)


_COSTS = '''\
print("stage  h x w   C     M   Omega(MSA)   Omega(W-MSA)   MSA / W-MSA")
for s in stage_costs(model):  # per block and image, in G multiply-adds
    size = f"{s.h}x{s.w}"
    print(f"{s.stage:>5}  {size:<7} {s.C:<5} {s.M}  {s.msa / 1e9:8.2f} G   {s.w_msa / 1e9:8.2f} G    {s.ratio:8.1f}x")
'''

_EQ1_CODE = '''\
import torch
from swin_impl import create_model
from swin_impl.complexity import msa_flops, stage_costs

model = create_model("swin_tiny_patch4_window7_224").eval()  # Swin-T: C = 96, stages of 2, 2, 6, 2 blocks
images = torch.randn(2, 3, 224, 224)  # a batch of 2 RGB images, 224 x 224
with torch.no_grad():
    x = model.patch_embed(images)  # 4 x 4 patches -> a 56 x 56 map of 96-dimensional tokens
B, h, w, C = x.shape
print("patch embedding         ", tuple(x.shape))
print("tokens per image, hw    ", h * w)
print("global attention matrix ", (B, 3, h * w, h * w), "= (B, heads, hw, hw): every token against every token")
print(f"Omega(MSA) at stage 1    {msa_flops(h, w, C) / 1e9:.1f} G multiply-adds per block and image")
''' + _COSTS

_EQ2_CODE = '''\
import torch
from swin_impl import create_model
from swin_impl.complexity import stage_costs, window_msa_flops
from swin_impl.windows import window_partition

model = create_model("swin_tiny_patch4_window7_224").eval()
block = model.layers[0].blocks[0]  # stage 1's first block: W-MSA, M = 7
with torch.no_grad():
    x = model.patch_embed(torch.randn(2, 3, 224, 224))  # (2, 56, 56, 96)
    windows = window_partition(x, block.window_size)  # 8 x 8 = 64 windows per image
    tokens = windows.view(-1, 49, 96)  # each window a sequence of 7 x 7 = 49 tokens
    q, k, v = block.attn.qkv(tokens).reshape(-1, 49, 3, 3, 32).permute(2, 0, 3, 1, 4)
    attn = q @ k.transpose(-2, -1)  # 49 x 49 per window and head, not 3136 x 3136
B, h, w, C = x.shape
print("patch embedding         ", tuple(x.shape))
print("windows                 ", tuple(windows.shape), f"= (2 x {(h // 7) * (w // 7)} windows, 7, 7, C)")
print("tokens per window       ", tuple(tokens.shape))
print("q per window and head   ", tuple(q.shape), "= (2*64, heads, 49, d)")
print("attention per window    ", tuple(attn.shape))
print(f"Omega(W-MSA) at stage 1  {window_msa_flops(h, w, C, 7) / 1e9:.2f} G multiply-adds per block and image")
''' + _COSTS

_EQ3_CODE = '''\
import torch
from swin_impl import create_model

model = create_model("swin_tiny_patch4_window7_224").eval()
w_block, sw_block = model.layers[0].blocks  # stage 1: a W-MSA block, then an SW-MSA block
print("window, shift           ", w_block.window_size, w_block.shift_size, "|", sw_block.window_size, sw_block.shift_size)
print("SW-MSA attention mask   ", tuple(sw_block.attn_mask.shape), "= (windows, 49, 49), 0 or -100")
with torch.no_grad():
    z0 = model.patch_embed(torch.randn(2, 3, 224, 224))  # z_{l-1}: (2, 56, 56, 96)
    z_hat1 = z0 + w_block._attn(w_block.norm1(z0))  # z^_l = W-MSA(LN(z_{l-1})) + z_{l-1}
    z1 = z_hat1 + w_block.mlp(w_block.norm2(z_hat1))  # z_l = MLP(LN(z^_l)) + z^_l
    shifted = torch.roll(sw_block.norm1(z1), shifts=(-3, -3), dims=(1, 2))  # SW-MSA: windows moved by M/2 = 3
    z_hat2 = z1 + sw_block._attn(sw_block.norm1(z1))  # z^_{l+1} = SW-MSA(LN(z_l)) + z_l (rolls, attends, rolls back)
    z2 = z_hat2 + sw_block.mlp(sw_block.norm2(z_hat2))  # z_{l+1} = MLP(LN(z^_{l+1})) + z^_{l+1}
    assert torch.allclose(z2, model.layers[0].blocks(z0), atol=1e-5)  # the two blocks compute the same
    merged = model.layers[1].downsample(z2)  # stage 2 begins: 2 x 2 tokens -> 1, channels 96 -> 192
print("z_{l-1}                 ", tuple(z0.shape))
print("z^_l, z_l               ", tuple(z_hat1.shape), tuple(z1.shape))
print("rolled by (-3, -3)      ", tuple(shifted.shape))
print("z^_{l+1}, z_{l+1}       ", tuple(z_hat2.shape), tuple(z2.shape))
print("after patch merging     ", tuple(merged.shape))
'''

_EQ4_CODE = '''\
import torch
from swin_impl import create_model

model = create_model("swin_tiny_patch4_window7_224").eval()
attn = model.layers[0].blocks[1].attn  # stage 1's SW-MSA block: 3 heads of d = 32, windows of 7 x 7 = 49
mask = model.layers[0].blocks[1].attn_mask  # (64, 49, 49): keeps tokens rolled in from the far side apart
x = torch.randn(2 * 64, 49, 96)  # every window of both images is one sequence of 49 tokens
with torch.no_grad():
    q, k, v = attn.qkv(x).reshape(128, 49, 3, 3, 32).permute(2, 0, 3, 1, 4)  # each (128, 3, 49, 32)
    scores = (q * 32 ** -0.5) @ k.transpose(-2, -1)  # Q K^T / sqrt(d)
    B = attn.relative_position_bias()  # looked up in the (169, 3) table by offset
    scores = scores + B  # + B
    scores = (scores.view(2, 64, 3, 49, 49) + mask[None, :, None]).view(128, 3, 49, 49)  # shifted windows only
    out = scores.softmax(dim=-1) @ v  # SoftMax(...) V
    y = attn.proj(out.transpose(1, 2).reshape(128, 49, 96))
    assert torch.allclose(y, attn(x, mask=mask), atol=1e-5)  # the module computes the same
print("windows x tokens x C    ", tuple(x.shape))
print("Q, K, V                 ", tuple(q.shape), "= (2*64, heads, 49, d)")
print("bias table              ", tuple(attn.relative_position_bias_table.shape), "= ((2M-1)^2, heads)")
print("B                       ", tuple(B.shape))
print("QK^T/sqrt(d) + B (+mask)", tuple(scores.shape))
print("SoftMax(...) V          ", tuple(out.shape))
print("heads merged, projected ", tuple(y.shape))
'''

REGISTRY = PaperRegistry(
    arxiv="2103.14030",
    title="Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
    model=_MODEL,
    check="swin_impl.check_spec:SPEC",
    guide="swin_impl.guide:GUIDE",
    pictures=(
        ("windows", "W-MSA 窗口、SW-MSA 移位后的窗口、循环移位 (cyclic shift) 与注意力掩码 (8x8 token, M = 4, 移位 2): "
         "同色的 token 在同一窗口里互相注意；掩码把从另一侧卷过来的 token 隔开", "swin_impl.pictures:windows_png"),
        ("pyramid", "层级结构 (stage pyramid): 56→28→14→7 个 token 每边，通道 96→192→384→768，每个阶段都用 7x7 窗口",
         "swin_impl.pictures:pyramid_png"),
    ),
    models_module="swin_impl.configs",
    shapes_module="swin_impl.shapes",
    equations=(
        Equation(
            id="Eq.1",
            title="Cost of global multi-head self-attention",
            latex=r"\Omega(\text{MSA}) = 4hwC^2 + 2(hw)^2C",
            meaning="Global self-attention on an h x w map of C-channel tokens costs 4hwC^2 multiply-adds for the "
            "projections plus 2(hw)^2C for the attention matrix: quadratic in the number of tokens, too much for a "
            "56 x 56 map.",
            module="vit_impl.model:Attention",
            code=_EQ1_CODE,
            builder=_build_global_msa,
        ),
        Equation(
            id="Eq.2",
            title="Cost of window multi-head self-attention",
            latex=r"\Omega(\text{W-MSA}) = 4hwC^2 + 2M^2hwC",
            meaning="Attending only inside non-overlapping M x M windows replaces (hw)^2 by M^2 hw: linear in the "
            "number of tokens for a fixed window size (M = 7), which is what lets Swin keep fine 4 x 4 patches.",
            module="swin_impl.sublayers:WindowMSA",
            code=_EQ2_CODE,
            builder=_build_window_msa,
        ),
        Equation(
            id="Eq.3",
            title="Two successive Swin Transformer blocks: W-MSA, then SW-MSA",
            latex=r"\begin{aligned}"
            r"\hat{\mathbf{z}}^{l} &= \text{W-MSA}(\text{LN}(\mathbf{z}^{l-1})) + \mathbf{z}^{l-1}, \\ "
            r"\mathbf{z}^{l} &= \text{MLP}(\text{LN}(\hat{\mathbf{z}}^{l})) + \hat{\mathbf{z}}^{l}, \\ "
            r"\hat{\mathbf{z}}^{l+1} &= \text{SW-MSA}(\text{LN}(\mathbf{z}^{l})) + \mathbf{z}^{l}, \\ "
            r"\mathbf{z}^{l+1} &= \text{MLP}(\text{LN}(\hat{\mathbf{z}}^{l+1})) + \hat{\mathbf{z}}^{l+1}"
            r"\end{aligned}",
            meaning="Blocks come in pairs: the first attends within regular windows, the second within windows "
            "shifted by M/2 (a cyclic roll of the map plus a mask), so information crosses window borders; each "
            "attention and each MLP is preceded by LayerNorm and wrapped in a residual connection.",
            module="swin_impl.blocks:SwinTransformerBlock",
            code=_EQ3_CODE,
            builder=_build_successive_blocks,
        ),
        Equation(
            id="Eq.4",
            title="Self-attention in a window with relative position bias",
            latex=r"\text{Attention}(Q, K, V) = \text{SoftMax}(QK^T/\sqrt{d} + B)V, \quad "
            r"B \text{ from } \hat{B} \in \mathbb{R}^{(2M-1) \times (2M-1)}",
            meaning="Inside each window, attention adds a learned bias B that depends only on the offset between "
            "the two tokens (one table entry per offset and head) instead of absolute position embeddings.",
            module="swin_impl.blocks:WindowAttention",
            code=_EQ4_CODE,
            builder=_build_window_attention,
        ),
    ),
    checklist=(
        "**窗口多大？为什么是 7x7？** (M = 7：56x56 的第一阶段正好切成 8x8 = 64 个窗口；每个窗口 49 个 token，注意力只在窗口内算)",
        "**为什么要 Shifted Windows？** (W-MSA 的窗口之间互不相通；下一层把窗口错开 M/2 = 3，信息才能跨过窗口边界。循环移位 + 掩码让窗口数不变)",
        "**注意力掩码挡住了什么？** (移位后，右边和下边的窗口里混着从图像另一侧卷过来的 token；掩码让不同区域的 token 互不注意，0 / -100)",
        "**相对位置偏置 B 是什么？** (每个头一张 (2M-1)^2 = 169 项的表，按两个 token 在窗口内的偏移查表，加在 QK^T/√d 上；Swin 不加绝对位置编码)",
        "**为什么是层级结构？** (Patch Merging 把 2x2 个 token 合成一个：56→28→14→7，通道 96→192→384→768，像 CNN 的特征金字塔，可接检测、分割)",
        "**复杂度为什么和图像大小成线性？** (Eq.1 vs Eq.2：全局 MSA 是 2(hw)^2C，窗口 MSA 是 2M^2hwC；M 固定，所以对 token 数 hw 线性)",
    ),
    tags=("CV/classification", "CV/backbone"),
)
