"""Swin's stage of the learning guide and its flashcards, as the registry's `guide` entry gives them to
studykit (the contract is `studykit.papers.GuideStage`): Jinja text rendered with `v`, the numbers
of swin_tiny_patch4_window7_224 on a batch of two 224x224 images. Imports no torch.
"""

from __future__ import annotations

from vit_impl.equations import GuideStage

_B, _IMG, _P, _C, _M, _HEADS, _MLP = 2, 224, 4, 96, 7, 3, 4


def _values() -> dict:
    grid = _IMG // _P  # 56 tokens a side
    return dict(B=_B, img=_IMG, P=_P, C=_C, M=_M, heads=_HEADS, d=_C // _HEADS, grid=grid, N=_M * _M,
                nW=(grid // _M) ** 2, per_side=grid // _M, shift=_M // 2, table=(2 * _M - 1) ** 2, span=2 * _M - 1,
                hidden=_MLP * _C, half=grid // 2, C2=2 * _C, C4=4 * _C, grids=[grid >> i for i in range(4)],
                widths=[_C << i for i in range(4)], global_attn=grid * grid)


_STAGE = """\
### 阶段 1: 理解窗口 · Stage 1: understand windows

**时间 / Time**: 1-2 小时
- [ ] 能说出 {{ v.grid }}×{{ v.grid }} 的特征图被切成几个 {{ v.M }}×{{ v.M }} 窗口（{{ v.per_side }}×{{ v.per_side }} = {{ v.nW }}），每个窗口几个 token（{{ v.N }}）
- [ ] 能解释 Eq.1 和 Eq.2：为什么窗口注意力对图像大小是线性的
- [ ] 能在 8×8 的小图上画出 SW-MSA：向左上循环移位 M/2，哪些 token 共享一个窗口，掩码挡住了谁（论文笔记里的窗口图）
- [ ] 能说出相对位置偏置表的大小：(2M-1)² × heads = {{ v.table }} × {{ v.heads }}

---

### 阶段 2: 手写 Swin 的模块 · Stage 2: write WindowAttention, the shift and mask, PatchMerging

**时间 / Time**: 4-6 小时

把这些类放进一个文件（例如 vault 文件夹里的 `my_swin.py`），在 vault 文件夹里运行 `studykit check my_swin.py --tick .`。
特征图按 timm 的习惯是 (B, H, W, C)；window_size、shift_size、input_resolution 写成整数或二元组都可以。

#### Step 1: WindowAttention（Eq.4）

- [ ] 手写 WindowAttention，含相对位置偏置 [check:: WindowAttention]

{% filter region("swin-window-attention") %}
```python-example
# 输入 / input: 每个窗口一条序列 x (B*nW, N, C) = ({{ v.B * v.nW }}, {{ v.N }}, {{ v.C }})
# 【步骤 1】窗口划分 (在 Block 里): ({{ v.B }}, {{ v.grid }}, {{ v.grid }}, {{ v.C }}) -> ({{ v.B * v.nW }}, {{ v.M }}, {{ v.M }}, {{ v.C }}) -> ({{ v.B * v.nW }}, {{ v.N }}, {{ v.C }})
qkv = self.qkv(x).reshape(B_, N, 3, {{ v.heads }}, {{ v.d }}).permute(2, 0, 3, 1, 4)
q, k, v = qkv.unbind(0)                     # 各 ({{ v.B * v.nW }}, {{ v.heads }}, {{ v.N }}, {{ v.d }})
# 【步骤 2】相对位置偏置: 表 ({{ v.table }}, {{ v.heads }}) = ((2M-1)², heads)，按偏移查表
bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]   # ({{ v.N * v.N }}, {{ v.heads }})
bias = bias.view({{ v.N }}, {{ v.N }}, -1).permute(2, 0, 1)           # ({{ v.heads }}, {{ v.N }}, {{ v.N }})
# 【步骤 3】softmax(q·kᵀ/√d + B) v
attn = (q * {{ v.d }} ** -0.5) @ k.transpose(-2, -1) + bias   # ({{ v.B * v.nW }}, {{ v.heads }}, {{ v.N }}, {{ v.N }})，不是 {{ v.global_attn }}×{{ v.global_attn }}
x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(B_, N, C)
```
{% endfilter %}

#### Step 2: 移位和掩码 · the shift and the mask（SwinTransformerBlock, Eq.3）

- [ ] 手写 SwinTransformerBlock：shift_size = 0 是 W-MSA，shift_size = M/2 是 SW-MSA [check:: SwinTransformerBlock]

{% filter region("swin-shift") %}
```python-example
# 【步骤 4】循环移位: 先向左上卷 M/2 = {{ v.shift }}，注意力之后再卷回来
x = torch.roll(x, shifts=(-{{ v.shift }}, -{{ v.shift }}), dims=(1, 2))     # ({{ v.B }}, {{ v.grid }}, {{ v.grid }}, {{ v.C }})，形状不变
# ... window_partition -> self.attn(windows, mask=self.attn_mask) -> window_reverse ...
x = torch.roll(x, shifts=({{ v.shift }}, {{ v.shift }}), dims=(1, 2))       # 每个 token 回到原位
# 【步骤 5】掩码 ({{ v.nW }}, {{ v.N }}, {{ v.N }}): 移位后右边、下边的窗口混着图像另一侧的 token；
#          按来源给 9 个区域编号，不同区域之间填 -100，同一区域填 0，加在每个窗口的分数上
```
{% endfilter %}

#### Step 3: PatchMerging（层级结构 / the pyramid）

- [ ] 手写 PatchMerging [check:: PatchMerging]
- [ ] 练习：写出四个阶段的形状：{% for g in v.grids %}{{ g }}×{{ g }}×{{ v.widths[loop.index0] }}{% if not loop.last %} → {% endif %}{% endfor %}

{% filter region("swin-merging") %}
```python-example
# 【步骤 6】2×2 个 token 拼成一个: 顺序是 左上, 左下, 右上, 右下（论文代码和所有 checkpoint 的顺序）
x0, x1, x2, x3 = x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]
x = torch.cat([x0, x1, x2, x3], dim=-1)     # ({{ v.B }}, {{ v.half }}, {{ v.half }}, {{ v.C4 }})
x = self.reduction(self.norm(x))            # LayerNorm({{ v.C4 }}) + Linear({{ v.C4 }}, {{ v.C2 }}, bias=False) -> ({{ v.B }}, {{ v.half }}, {{ v.half }}, {{ v.C2 }})
```
{% endfilter %}

#### Step 4: SwinTransformer（串联 / chain them）

- [ ] 手写 SwinTransformer：PatchEmbed → 每个阶段的 Block（W-MSA、SW-MSA 交替）和 PatchMerging → LayerNorm → 平均池化 → head [check:: SwinTransformer]

---

### 阶段 3: 检查 · Stage 3: check

- [ ] `studykit check my_swin.py --tick .` 全部通过（它会指出：缺少相对位置偏置、移位没有掩码、移位方向反了或没有卷回来、PatchMerging 拼接顺序错）
- [ ] 用 `studykit shapes swin_tiny_patch4_window7_224` 对照每一步的形状
"""

_CARDS = """\
Swin 的第一阶段特征图有多大（{{ v.img }}×{{ v.img }} 输入，patch {{ v.P }}）？::{{ v.grid }}×{{ v.grid }}×{{ v.C }}

{{ v.grid }}×{{ v.grid }} 的特征图切成几个 {{ v.M }}×{{ v.M }} 窗口？::{{ v.nW }}（{{ v.per_side }}×{{ v.per_side }}），每个 {{ v.N }} 个 token

为什么窗口注意力对图像大小是线性的？::Ω(W-MSA) = 4hwC² + 2M²hwC，M 固定时对 hw 线性；全局 MSA 是 2(hw)²C

SW-MSA 的循环移位往哪个方向、移多少？::向左上 M/2 = {{ v.shift }}：torch.roll(x, (-{{ v.shift }}, -{{ v.shift }}), (1, 2))，注意力之后卷回来

移位后为什么需要掩码？::右边和下边的窗口里混着从图像另一侧卷过来的 token，它们不相邻，不能互相注意（-100）

相对位置偏置表有多大？::(2M-1)² × heads = {{ v.table }} × {{ v.heads }}（第一阶段）

PatchMerging 做什么？::2×2 个 token 拼接 (4C)，LayerNorm，Linear 4C -> 2C：分辨率减半，通道加倍

Swin-T 四个阶段的形状？::{% for g in v.grids %}{{ g }}×{{ g }}×{{ v.widths[loop.index0] }}{% if not loop.last %} → {% endif %}{% endfor %}
"""


GUIDE = GuideStage(name="Swin", title="Swin Transformer 从零实现", values=_values(), stage=_STAGE, cards=_CARDS)
