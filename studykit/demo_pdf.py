"""The demo's sample paper: a short text about ViT, written by the project, highlighted in the reader's code.

Two pages, the second in two columns, arXiv id 2010.11929 in the text, the four equations,
a drawn architecture figure, highlights in Zotero's eight colours, a sticky note and an
area (Square) annotation. The bytes are the same on every run, so the demo stays idempotent.
"""

from __future__ import annotations

from pathlib import Path

TITLE = "Vision Transformers in Brief: Images as Sequences of 16x16 Patches"
AUTHOR = "studykit"
BYLINE = "A study summary by studykit, after Dosovitskiy et al. (ICLR 2021)"
FIXED_DATE = "D:20260101000000Z"
DOCUMENT_ID = "53747564796b69742056695420646d6f"  # "Studykit ViT dmo"

ABSTRACT = (
    "A study summary of arXiv:2010.11929 (ICLR 2021). The Transformer has become the standard "
    "architecture for language, but in vision attention was mostly used together with "
    "convolutional networks. We show that a pure transformer applied directly to sequences of "
    "image patches performs very well on image classification when it is pre-trained on large "
    "datasets. The image is split into fixed-size patches, each patch is linearly embedded, a "
    "learnable class token and position embeddings are added, and the resulting sequence is fed "
    "to a standard Transformer encoder."
)

COLUMN_1 = (
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
)

COLUMN_2 = (
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
)

# (phrase to highlight, colour, comment): the Zotero 7 palette, one per category.
HIGHLIGHTS = [
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
]
STICKY_NOTE = "Try it: run the Eq.1 cell and check (2, 3, 224, 224) -> (2, 197, 768)."

A4 = (595, 842)
MARGIN = 54
GAP = 22


def _draw_figure(page, rect) -> None:
    """A small architecture figure: patches -> linear projection -> encoder -> MLP head."""
    import pymupdf

    boxes = ["Patches (P x P)", "Linear projection E", "+ [class] + E_pos", "Transformer encoder x L", "MLP head"]
    h = (rect.height - 24) / len(boxes)
    for i, label in enumerate(boxes):
        box = pymupdf.Rect(rect.x0 + 10, rect.y0 + 6 + i * h, rect.x1 - 10, rect.y0 + i * h + h - 2)
        page.draw_rect(box, color=(0.2, 0.3, 0.5), fill=(0.88, 0.92, 0.98), width=0.8)
        page.insert_textbox(box + (0, 4, 0, 0), label, fontsize=8, fontname="helv", align=1)
    page.insert_textbox(pymupdf.Rect(rect.x0, rect.y1 - 14, rect.x1, rect.y1),
                        "Figure 1: ViT model overview.", fontsize=7, fontname="helv", align=1)


def build_pdf() -> bytes:
    """The sample paper as PDF bytes, identical on every call."""
    import pymupdf

    doc = pymupdf.open()
    doc.set_metadata({
        "title": TITLE, "author": AUTHOR, "subject": "arXiv:2010.11929", "keywords": "ViT, transformer",
        "creator": "studykit demo", "producer": "studykit", "creationDate": FIXED_DATE, "modDate": FIXED_DATE,
    })
    width, height = A4
    col_w = (width - 2 * MARGIN - GAP) / 2

    page = doc.new_page(width=width, height=height)
    page.insert_textbox(pymupdf.Rect(MARGIN, 60, width - MARGIN, 110), TITLE, fontsize=16, fontname="hebo", align=1)
    page.insert_textbox(pymupdf.Rect(MARGIN, 112, width - MARGIN, 130), BYLINE, fontsize=10, fontname="helv", align=1)
    page.insert_textbox(pymupdf.Rect(MARGIN, 132, width - MARGIN, 148), "arXiv:2010.11929 [cs.CV]",
                        fontsize=9, fontname="cour", align=1)
    page.insert_textbox(pymupdf.Rect(MARGIN, 160, width - MARGIN, 176), "Abstract", fontsize=11, fontname="hebo", align=1)
    page.insert_textbox(pymupdf.Rect(MARGIN + 30, 180, width - MARGIN - 30, 330), ABSTRACT, fontsize=10, fontname="helv", align=3)
    figure = pymupdf.Rect(MARGIN + 120, 350, width - MARGIN - 120, 560)
    _draw_figure(page, figure)

    page2 = doc.new_page(width=width, height=height)
    left = pymupdf.Rect(MARGIN, MARGIN, MARGIN + col_w, height - MARGIN)
    right = pymupdf.Rect(MARGIN + col_w + GAP, MARGIN, width - MARGIN, height - MARGIN)
    for rect, text in ((left, COLUMN_1), (right, COLUMN_2)):
        if page2.insert_textbox(rect, text, fontsize=9.5, fontname="helv", lineheight=1.35) < 0:
            raise AssertionError("demo text does not fit its column")

    _annotate(doc, figure)
    # A fixed /ID: readers keep its first half when they save annotations in place, and
    # studykit takes the document's identity from it.
    doc.xref_set_key(-1, "ID", f"[<{DOCUMENT_ID}><{DOCUMENT_ID}>]")
    data = doc.tobytes(garbage=4, deflate=True, no_new_id=True)
    doc.close()
    return data


def _annotate(doc, figure) -> None:
    import pymupdf

    from studykit.sample_pdf import finish, mark_first

    reader = {"title": "reader", "creationDate": FIXED_DATE, "modDate": FIXED_DATE}
    for phrase, colour, comment in HIGHLIGHTS:
        mark_first(doc, phrase, colour, comment, **reader)
    first = doc[0]
    finish(first.add_text_annot(pymupdf.Point(figure.x1 + 16, figure.y0 + 10), STICKY_NOTE, icon="Comment"),
           "#ffd400", STICKY_NOTE, **reader)
    finish(first.add_rect_annot(figure + (-4, -4, 4, 4)), "#a28ae5", "Model overview (area).", **reader)


def write_pdf(path: Path) -> bool:
    """Write the sample paper to `path` unless it already holds these bytes; True when written."""
    data = build_pdf()
    path = Path(path)
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True
