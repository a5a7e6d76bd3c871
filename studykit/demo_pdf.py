"""The demo's sample papers: short texts about ViT and Swin, written by the project, highlighted in the reader's code.

Each has two pages, the second in two columns, its arXiv id in the text, its equations, a drawn
architecture figure, highlights in Zotero's colours, a sticky note and an area (Square)
annotation. The bytes are the same on every run, so the demo stays idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

AUTHOR = "studykit"
FIXED_DATE = "D:20260101000000Z"


@dataclass(frozen=True)
class SamplePaper:
    """The text and the reader's marks of one sample paper."""

    title: str
    byline: str
    arxiv: str
    keywords: str
    document_id: str  # 32 hex digits, the PDF's fixed /ID
    abstract: str
    column_1: str
    column_2: str
    highlights: tuple[tuple[str, str, str], ...]  # (phrase, colour, comment) in the Zotero 7 palette
    sticky_note: str
    figure: tuple[str, ...]  # the architecture figure's boxes, top to bottom
    caption: str


VIT = SamplePaper(
    title="Vision Transformers in Brief: Images as Sequences of 16x16 Patches",
    byline="A study summary by studykit, after Dosovitskiy et al. (ICLR 2021)",
    arxiv="2010.11929",
    keywords="ViT, transformer",
    document_id="53747564796b69742056695420646d6f",  # "Studykit ViT dmo"
    abstract=(
        "A study summary of arXiv:2010.11929 (ICLR 2021). The Transformer has become the standard "
        "architecture for language, but in vision attention was mostly used together with "
        "convolutional networks. We show that a pure transformer applied directly to sequences of "
        "image patches performs very well on image classification when it is pre-trained on large "
        "datasets. The image is split into fixed-size patches, each patch is linearly embedded, a "
        "learnable class token and position embeddings are added, and the resulting sequence is fed "
        "to a standard Transformer encoder."
    ),
    column_1=(
        "1 Method. An image x of size H x W with C channels is reshaped into N = HW / P^2 flattened "
        "patches of P x P pixels. A trainable linear projection E maps every patch to a vector of D "
        "dimensions; we refer to its output as the patch embeddings. Position embeddings are added "
        "to retain positional information, and a learnable class token is prepended whose state at "
        "the output of the encoder serves as the image representation.\n\n"
        "The embedded sequence is\n"
        "    z_0 = [x_class; x_p^1 E; ...; x_p^N E] + E_pos      (1)\n"
        "Each of the L layers applies multi-head self-attention and an MLP, each preceded by "
        "LayerNorm and followed by a residual connection:\n"
        "    z'_l = MSA(LN(z_(l-1))) + z_(l-1)      (2)\n"
        "    z_l = MLP(LN(z'_l)) + z'_l      (3)\n"
        "The class token after the last layer gives the output:\n"
        "    y = LN(z_L^0)      (4)\n\n"
        "Priors. The Vision Transformer has much less image-specific inductive bias than a "
        "CNN: locality and translation equivariance are not built into the self-attention layers, "
        "only the MLP layers are local."
    ),
    column_2=(
        "2 Training. Models are pre-trained on large datasets with Adam, a batch size of 4096 and a "
        "high weight decay of 0.1, then fine-tuned at a higher resolution, where the pre-trained "
        "position embeddings are interpolated in 2D.\n\n"
        "3 Results. When pre-trained on JFT-300M, ViT-L/16 matches or outperforms strong ResNet "
        "baselines on ImageNet, CIFAR-100 and VTAB while requiring substantially fewer "
        "computational resources to pre-train.\n\n"
        "4 Limitations. Trained on mid-sized datasets such as ImageNet without strong "
        "regularisation, the models reach accuracies a few points below ResNets of comparable size. "
        "Applying ViT to other vision tasks such as detection and segmentation remains a challenge "
        "for future work.\n\n"
        "Why does the model need more data than a CNN, and does the class token matter?"
    ),
    highlights=(
        ("in vision attention was mostly used together with convolutional networks", "#ff6666",
         "The pain point: attention only as an add-on to CNNs."),
        ("a pure transformer applied directly to sequences of image patches", "#ff6666",
         "Core claim of the paper."),
        ("inductive bias", "#ffd400", ""),
        ("z_0 = [x_class; x_p^1 E; ...; x_p^N E] + E_pos", "#2ea8e5", "Eq.1: patch + class token + position."),
        ("ViT-L/16 matches or outperforms strong ResNet baselines", "#5fb236", "SOTA with less compute."),
        ("Adam, a batch size of 4096 and a high weight decay of 0.1", "#a28ae5", "Copy this recipe."),
        ("Applying ViT to other vision tasks such as detection and segmentation", "#f19837",
         "Future work: detection / segmentation."),
        ("The Transformer has become the standard architecture for language", "#aaaaaa", "Read Vaswani et al. 2017."),
        ("does the class token matter?", "#e56eee", "Ask: why not average-pool the tokens?"),
    ),
    sticky_note="Try it: run the Eq.1 cell and check (2, 3, 224, 224) -> (2, 197, 768).",
    figure=("Patches (P x P)", "Linear projection E", "+ [class] + E_pos", "Transformer encoder x L", "MLP head"),
    caption="Figure 1: ViT model overview.",
)

SWIN = SamplePaper(
    title="Swin Transformer in Brief: Attention in Shifted Windows",
    byline="A study summary by studykit, after Liu et al. (ICCV 2021)",
    arxiv="2103.14030",
    keywords="Swin, transformer, windows",
    document_id="53747564796b6974205377696e20646d",  # "Studykit Swin dm"
    abstract=(
        "A study summary of arXiv:2103.14030 (ICCV 2021). Transformers from language meet two "
        "problems in vision: visual entities vary widely in scale, and the number of pixels is far "
        "larger than the number of words. Swin Transformer is a hierarchical Transformer whose "
        "representation is computed with shifted windows: self-attention stays inside non-overlapping "
        "local windows, while the windows of successive layers are shifted so that they connect. "
        "This gives a computational complexity linear in image size and a pyramid of feature maps "
        "that serves classification, detection and segmentation alike."
    ),
    column_1=(
        "1 Method. The image is split into 4 x 4 patches, projected to C channels, and processed by "
        "four stages; between stages, patch merging concatenates each 2 x 2 group of tokens and halves "
        "the resolution while doubling the channels: 56, 28, 14 and 7 tokens a side.\n\n"
        "Global self-attention on an h x w map costs\n"
        "    Omega(MSA) = 4hwC^2 + 2(hw)^2 C      (1)\n"
        "while attention inside M x M windows costs\n"
        "    Omega(W-MSA) = 4hwC^2 + 2M^2 hwC      (2)\n"
        "Two successive blocks alternate regular and shifted windows:\n"
        "    z^_l = W-MSA(LN(z_(l-1))) + z_(l-1)\n"
        "    z_l = MLP(LN(z^_l)) + z^_l\n"
        "    z^_(l+1) = SW-MSA(LN(z_l)) + z_l\n"
        "    z_(l+1) = MLP(LN(z^_(l+1))) + z^_(l+1)      (3)\n"
        "A cyclic shift by M/2 towards the top left, with a mask, keeps the number of windows.\n"
        "Attention adds a relative position bias B:\n"
        "    Attention(Q, K, V) = SoftMax(QK^T / sqrt(d) + B) V      (4)"
    ),
    column_2=(
        "2 Training. ImageNet-1K, AdamW for 300 epochs, a cosine schedule with 20 epochs of warm-up, "
        "a batch size of 1024, an initial learning rate of 0.001 and a weight decay of 0.05.\n\n"
        "3 Results. Swin-T reaches 81.3% top-1 accuracy on ImageNet-1K at 4.5 GFLOPs, and Swin-L "
        "gives 58.7 box AP on COCO and 53.5 mIoU on ADE20K.\n\n"
        "4 Limitations. The window size is fixed by the pre-training resolution; at a new resolution "
        "the relative position bias table must be interpolated.\n\n"
        "Why does the shifted window need a mask, and would a larger window help?"
    ),
    highlights=(
        ("the number of pixels is far larger than the number of words", "#ff6666",
         "The pain point: global attention is quadratic in the number of tokens."),
        ("computational complexity linear in image size", "#ff6666", "Core claim."),
        ("shifted windows", "#ffd400", "Windows of the next layer straddle the old borders."),
        ("Omega(W-MSA) = 4hwC^2 + 2M^2 hwC", "#2ea8e5", "Eq.2: linear in hw for a fixed M."),
        ("Attention(Q, K, V) = SoftMax(QK^T / sqrt(d) + B) V", "#2ea8e5", "Eq.4: relative position bias."),
        ("Swin-T reaches 81.3% top-1 accuracy on ImageNet-1K at 4.5 GFLOPs", "#5fb236", "Tiny model, strong result."),
        ("A cyclic shift by M/2 towards the top left, with a mask", "#a28ae5", "Roll by -M/2, attend, roll back."),
        ("the relative position bias table must be interpolated", "#f19837", "Fine-tuning at 384 needs a resize."),
        ("Transformers from language", "#aaaaaa", "Read ViT (arXiv 2010.11929) first."),
        ("Why does the shifted window need a mask", "#e56eee", "Draw the rolled 8x8 map and find out."),
    ),
    sticky_note="Try it: run the Eq.2 cell and check 64 windows of 49 tokens, (128, 3, 49, 32) per head.",
    figure=("Patch partition 4 x 4", "Stage 1: linear embedding + 2 blocks", "Stage 2: patch merging + 2 blocks",
            "Stage 3: patch merging + 6 blocks", "Stage 4: patch merging + 2 blocks"),
    caption="Figure 1: Swin-T, a pyramid of four stages.",
)
SAMPLES = (VIT, SWIN)


A4 = (595, 842)
MARGIN = 54
GAP = 22


def _draw_figure(page, rect, sample: SamplePaper) -> None:
    """A small architecture figure: the sample's boxes, top to bottom, and its caption."""
    import pymupdf

    boxes = sample.figure
    h = (rect.height - 24) / len(boxes)
    for i, label in enumerate(boxes):
        box = pymupdf.Rect(rect.x0 + 10, rect.y0 + 6 + i * h, rect.x1 - 10, rect.y0 + i * h + h - 2)
        page.draw_rect(box, color=(0.2, 0.3, 0.5), fill=(0.88, 0.92, 0.98), width=0.8)
        page.insert_textbox(box + (0, 4, 0, 0), label, fontsize=8, fontname="helv", align=1)
    page.insert_textbox(pymupdf.Rect(rect.x0, rect.y1 - 14, rect.x1, rect.y1),
                        sample.caption, fontsize=7, fontname="helv", align=1)


def build_pdf(sample: SamplePaper = VIT) -> bytes:
    """A sample paper as PDF bytes, identical on every call."""
    import pymupdf

    doc = pymupdf.open()
    doc.set_metadata({
        "title": sample.title, "author": AUTHOR, "subject": f"arXiv:{sample.arxiv}", "keywords": sample.keywords,
        "creator": "studykit demo", "producer": "studykit", "creationDate": FIXED_DATE, "modDate": FIXED_DATE,
    })
    width, height = A4
    col_w = (width - 2 * MARGIN - GAP) / 2

    page = doc.new_page(width=width, height=height)
    page.insert_textbox(pymupdf.Rect(MARGIN, 60, width - MARGIN, 110), sample.title, fontsize=16, fontname="hebo", align=1)
    page.insert_textbox(pymupdf.Rect(MARGIN, 112, width - MARGIN, 130), sample.byline, fontsize=10, fontname="helv", align=1)
    page.insert_textbox(pymupdf.Rect(MARGIN, 132, width - MARGIN, 148), f"arXiv:{sample.arxiv} [cs.CV]",
                        fontsize=9, fontname="cour", align=1)
    page.insert_textbox(pymupdf.Rect(MARGIN, 160, width - MARGIN, 176), "Abstract", fontsize=11, fontname="hebo", align=1)
    page.insert_textbox(pymupdf.Rect(MARGIN + 30, 180, width - MARGIN - 30, 330), sample.abstract, fontsize=10, fontname="helv", align=3)
    figure = pymupdf.Rect(MARGIN + 120, 350, width - MARGIN - 120, 560)
    _draw_figure(page, figure, sample)

    page2 = doc.new_page(width=width, height=height)
    left = pymupdf.Rect(MARGIN, MARGIN, MARGIN + col_w, height - MARGIN)
    right = pymupdf.Rect(MARGIN + col_w + GAP, MARGIN, width - MARGIN, height - MARGIN)
    for rect, text in ((left, sample.column_1), (right, sample.column_2)):
        if page2.insert_textbox(rect, text, fontsize=9.5, fontname="helv", lineheight=1.35) < 0:
            raise AssertionError("demo text does not fit its column")

    _annotate(doc, figure, sample)
    # A fixed /ID: readers keep its first half when they save annotations in place, and
    # studykit takes the document's identity from it.
    doc.xref_set_key(-1, "ID", f"[<{sample.document_id}><{sample.document_id}>]")
    data = doc.tobytes(garbage=4, deflate=True, no_new_id=True)
    doc.close()
    return data


def _annotate(doc, figure, sample: SamplePaper) -> None:
    import pymupdf

    from studykit.sample_pdf import finish, mark_first

    reader = {"title": "reader", "creationDate": FIXED_DATE, "modDate": FIXED_DATE}
    for phrase, colour, comment in sample.highlights:
        mark_first(doc, phrase, colour, comment, **reader)
    first = doc[0]
    finish(first.add_text_annot(pymupdf.Point(figure.x1 + 16, figure.y0 + 10), sample.sticky_note, icon="Comment"),
           "#ffd400", sample.sticky_note, **reader)
    finish(first.add_rect_annot(figure + (-4, -4, 4, 4)), "#a28ae5", "Model overview (area).", **reader)


def write_pdf(path: Path, sample: SamplePaper = VIT) -> bool:
    """Write a sample paper to `path` unless it already holds these bytes; True when written."""
    data = build_pdf(sample)
    path = Path(path)
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True
