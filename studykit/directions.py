"""The direction-specific checklists of the study template's section 3, one per research direction.

The vault's studykit.toml picks one (`direction = "detection"`; "general", untagged, by default)
and may replace or add lists (`[checklists.NAME] title = ..., field_tag = ..., items = [...]`).
Questions about one paper (ViT's patch size, say) are not here: they belong to its registry entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from studykit.errors import UserError

if TYPE_CHECKING:
    from studykit.config import Config


@dataclass(frozen=True)
class Direction:
    """A research direction: its heading, its field tag and the questions a reader answers for it."""

    key: str
    title: str
    field_tag: str  # "" for none: a note is tagged with a field only when the reader chose one
    items: tuple[str, ...]


DEFAULT_DIRECTION = "general"

DIRECTIONS: dict[str, Direction] = {d.key: d for d in (
    Direction("general", "⚪ 通用 (General)", "", (
        "**问题 (Problem):** 论文要解决什么问题？为什么已有方法不够？",
        "**核心想法 (Key idea):** 能用一句话说清方法的关键吗？",
        "**假设 (Assumptions):** 方法依赖哪些前提？什么情况下会失效？",
        "**实验设置 (Evaluation):** 在什么数据或场景上验证？和谁比较？",
        "**关键结果 (Results):** 最重要的数字是什么？消融实验说明提升来自哪里？",
        "**代价 (Cost):** 计算量、内存、延迟或实现难度如何？",
        "**可复现性 (Reproducibility):** 有代码和数据吗？我能复现哪一部分？",
    )),
    Direction("classification", "🟢 分类/骨干网络 (Classification/Backbone)", "CV/classification", (
        "**Basic Block:** 最小重复单元长什么样？(残差结构/Transformer Block/Ghost Block?)",
        "**特征提取 (Local vs global):** 它是如何权衡局部特征（Conv）和全局特征（Attention）的？",
        "**降采样 (Downsampling):** 图像分辨率是如何一步步缩小的？(Stride Conv / Pooling / Patch Merging?)",
        "**性能指标 (Params & FLOPs):** 参数量 (Params) 和计算量 (FLOPs) 处于什么量级？",
        "**归纳偏置 (Inductive bias):** 结构自带哪些先验（局部性、平移等变）？缺少的先验靠多少数据来弥补？",
        "**预训练数据 (Pre-training data):** 在什么数据集上预训练、在哪些数据集上评测？",
    )),
    Direction("detection", "🔵 目标检测 (Detection)", "CV/detection", (
        "**检测范式 (Paradigm):** two-stage、one-stage 还是 DETR 式的集合预测？",
        "**Anchor:** anchor-based 还是 anchor-free？",
        "**多尺度 (Multi-scale):** 如何处理大小不同的目标？(FPN / 特征金字塔)",
        "**标签分配 (Label assignment):** 正负样本怎么匹配？(IoU 阈值 / Hungarian matching)",
        "**损失函数 (Losses):** 分类与回归各用什么？(Focal / GIoU / L1)",
        "**后处理 (Post-processing):** 还需要 NMS 吗？",
        "**指标 (Metrics):** COCO AP、AP_small、FPS 各是多少？",
        "**骨干网络 (Backbone):** 用了哪个 backbone，在哪个数据集上预训练？",
    )),
    Direction("segmentation", "🟣 分割 (Segmentation)", "CV/segmentation", (
        "**任务类型 (Task):** semantic、instance 还是 panoptic？",
        "**解码器 (Decoder):** 分辨率如何恢复？(U-Net skip / FPN / 上采样)",
        "**上下文 (Context):** 如何获取多尺度上下文？(ASPP / Pyramid Pooling / Attention)",
        "**掩码表示 (Mask representation):** 逐像素分类还是 mask classification (queries)？",
        "**损失函数 (Losses):** CE / Dice / Focal？",
        "**边界与小物体 (Boundaries):** 细节是怎么保住的？",
        "**指标与数据集 (Metrics):** mIoU / PQ；ADE20K、Cityscapes、COCO？",
    )),
    Direction("generative", "🟠 生成模型 (Generative Models)", "CV/generative", (
        "**模型族 (Family):** GAN / VAE / Diffusion / Flow / 自回归？",
        "**生成空间 (Space):** 在像素空间还是 latent space 里生成？",
        "**训练目标 (Objective):** 去噪、对抗、似然还是 ELBO？",
        "**条件控制 (Conditioning):** 文本或类别如何注入？(cross-attention / classifier-free guidance)",
        "**网络结构 (Architecture):** U-Net 还是 Transformer (DiT)？",
        "**采样 (Sampling):** 需要多少步？速度如何？",
        "**评价指标 (Metrics):** FID / IS / CLIP score？",
    )),
    Direction("vla", "🤖 视觉-语言-动作策略 (Vision-Language-Action Policies)", "robotics/VLA", (
        "**输入模态 (Inputs):** 几路相机、语言指令、本体感知 (proprioception)？",
        "**视觉编码器 (Vision encoder):** 用了哪个预训练 backbone (ViT / SigLIP / DINOv2)？冻结了吗？",
        "**语言模型 (Language model):** 基于哪个 VLM/LLM？",
        "**动作表示 (Actions):** 离散 token、连续回归、diffusion 还是 flow matching？有 action chunking 吗？",
        "**数据 (Data):** 用了哪些数据集 (Open X-Embodiment…)、多少条轨迹、是否跨本体？",
        "**控制频率 (Control rate):** 推理延迟能否满足实时控制？",
        "**评测 (Evaluation):** 仿真基准还是真机？成功率多少？",
        "**灵巧手 (Dexterous hands):** 能否迁移到高自由度的灵巧手？",
    )),
)}


def direction(config: Config | None = None) -> Direction:
    """The direction the vault's config names (its own lists included), the general one by default."""
    key = (config.direction if config else DEFAULT_DIRECTION).strip().lower()
    custom = config.checklists if config else {}
    if key in custom:
        entry, base = custom[key], DIRECTIONS.get(key)
        return Direction(
            key,
            entry.title if entry.title is not None else (base.title if base else key),
            entry.field_tag if entry.field_tag is not None else (base.field_tag if base else ""),
            entry.items if entry.items is not None else (base.items if base else ()),
        )
    if key not in DIRECTIONS:
        known = ", ".join([*DIRECTIONS, *custom])
        raise UserError(f"studykit.toml: unknown direction {key!r}; known: {known}")
    return DIRECTIONS[key]
