"""The direction-specific checklists of the study template's section 3, one per research direction.

The vault's studykit.toml picks one (`direction = "detection"`) and may replace or add lists
(`[checklists.NAME] title = ..., items = [...]`).
"""

from __future__ import annotations

from dataclasses import dataclass

from studykit.errors import UserError


@dataclass(frozen=True)
class Direction:
    """A research direction: its heading, its field tag and the questions a reader answers for it."""

    key: str
    title: str
    field_tag: str
    items: tuple[str, ...]


DEFAULT_DIRECTION = "classification"

DIRECTIONS: dict[str, Direction] = {d.key: d for d in (
    Direction("classification", "🟢 分类/骨干网络 (Classification/Backbone)", "CV/classification", (
        "**Basic Block:** 最小重复单元长什么样？(残差结构/Transformer Block/Ghost Block?)",
        "**特征提取 (Local vs global):** 它是如何权衡局部特征（Conv）和全局特征（Attention）的？",
        "**降采样 (Downsampling):** 图像分辨率是如何一步步缩小的？(Stride Conv / Pooling / Patch Merging?)",
        "**性能指标 (Params & FLOPs):** 参数量 (Params) 和计算量 (FLOPs) 处于什么量级？",
        "**Patch Size 是多少？** (ViT 默认是 16x16，这就是标题的由来)",
        "**为什么需要 [CLS] Token？** (提示：它是为了最后做分类用的“总结性向量”)",
        "**模型在什么数据集上表现好？** (关注预训练数据集，如 JFT-300M，理解为什么 ViT 比较“吃”数据)",
        "**Inductive Bias (归纳偏置) 是什么？** (CNN 有平移不变性等先验知识，Transformer 没有，所以需要更多数据去学习)",
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


def direction(config=None) -> Direction:
    """The direction the vault's config names (custom lists included), classification by default."""
    key = (getattr(config, "direction", None) or DEFAULT_DIRECTION).strip().lower()
    custom = getattr(config, "checklists", None) or {}
    if key in custom:
        entry = custom[key]
        base = DIRECTIONS.get(key)
        return Direction(
            key, entry.get("title") or (base.title if base else key),
            entry.get("field_tag") or (base.field_tag if base else key),
            tuple(entry.get("items") or (base.items if base else ())),
        )
    if key not in DIRECTIONS:
        known = ", ".join([*DIRECTIONS, *custom])
        raise UserError(f"studykit.toml: unknown direction {key!r}; known: {known}")
    return DIRECTIONS[key]
