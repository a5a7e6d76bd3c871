"""A paper and its annotations -> the context the paper-note template renders (pure, no I/O).

The orchestration (studykit.notes) finds the files first (attachments, shape diagrams, the
source of each equation's module) and hands them over as `Assets`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

from studykit.directions import direction as pick_direction
from studykit.model import Annotation, Category, Paper

SWATCH = {  # the colour of each category as an emoji, so lists show the reader's code at a glance
    Category.CONTRIBUTION: "🔴", Category.DEFINITION: "🟡", Category.FORMULA: "🔵",
    Category.RESULT: "🟢", Category.METHOD: "🟣", Category.LIMITATION: "🟠",
    Category.BACKGROUND: "⚪", Category.QUESTION: "🩵", Category.UNCATEGORIZED: "⬜",
}
AREA_KINDS = ("image", "ink")
COMMENT_KINDS = ("note", "freetext")
_CONCEPT_MAX_WORDS = 6
_GITHUB = re.compile(r"https?://(?:www\.)?github\.com/[\w.-]+/[\w.-]+")
_ESCAPE = re.compile(r"([\\`*_\[\]<>#$%^|~])")


@dataclass
class EquationAssets:
    """What the vault holds for one registered equation."""

    diagram: str | None = None  # attachment file name of the shape diagram
    mermaid: str = ""
    source_uri: str = ""  # file:// URI of the implementing module's source file
    line: int | None = None


@dataclass
class Assets:
    """Files the note links to, found or written by the orchestration before rendering."""

    pdf_vault_path: str | None = None  # the PDF's path inside the vault (posix), when it is inside
    images: dict[str, str] = field(default_factory=dict)  # annotation id -> attachment file name
    model_diagram: str | None = None
    model_mermaid: str = ""
    equations: dict[str, EquationAssets] = field(default_factory=dict)
    implementation_uri: str = ""  # file:// URI of the package that implements the paper


def block_id(annotation_id: str) -> str:
    """The ^block id of an annotation: stable across re-syncs, so links to it keep working."""
    return "ann-" + hashlib.sha1(annotation_id.encode("utf-8")).hexdigest()[:10]


def attachment_name(paper_id: str, annotation_id: str) -> str:
    """File name of an area annotation's image; unique across papers."""
    digest = hashlib.sha1(f"{paper_id}\0{annotation_id}".encode("utf-8")).hexdigest()[:12]
    return f"area-{digest}.png"


def diagram_prefix(registry) -> str:
    """'vit-2010.11929' for the ViT registry: the stem shared by its shape diagrams."""
    family = (registry.model or "paper").split("_")[0]
    return f"{family}-{registry.arxiv}"


def equation_slug(eq_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", eq_id.lower())  # "Eq.1" -> "eq1"


def inline(text: str) -> str:
    """Text from the PDF as one Markdown line that renders literally (no tags, links, math, regions)."""
    return _ESCAPE.sub(r"\\\1", " ".join(text.split())).replace("==", "=\\=")


def comment_markdown(text: str) -> str:
    """The reader's own comment stays Markdown ($math$, [[links]]), but cannot close a region or fence."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(line.replace("%%", "%\\%").replace("```", "\\`\\`\\`") for line in lines)


def concept_name(annotation: Annotation) -> str:
    """The [[concept]] a definition highlight names: a short comment, else the short highlighted term."""
    for candidate in (annotation.comment, annotation.text):
        words = re.sub(r"[\[\]#^|%*`$\"“”‘’:;.,!?()]", " ", candidate or "").split()
        if 0 < len(words) <= _CONCEPT_MAX_WORDS:
            name = " ".join(words)
            return name[0].upper() + name[1:]
    return ""


def page_link(annotation: Annotation, paper: Paper, assets: Assets) -> str:
    """A Markdown link back to the annotation's place: Zotero, the PDF in the vault, or the file."""
    label = f"p. {annotation.page_label or annotation.page}"
    if annotation.link.startswith("zotero://"):
        return f"[{label}]({annotation.link})"
    if assets.pdf_vault_path:
        return f"[[{assets.pdf_vault_path}#page={annotation.page}|{label}]]"
    if paper.pdf_path:
        return f"[{label}]({Path(paper.pdf_path).resolve().as_uri()}#page={annotation.page})"
    return label


def _item(annotation: Annotation, paper: Paper, names: dict[Category, str], assets: Assets) -> dict:
    return {
        "id": annotation.id,
        "block_id": block_id(annotation.id),
        "kind": annotation.kind,
        "category": annotation.category.value,
        "category_name": names.get(annotation.category, "未分类 Uncategorized"),
        "kind_label": annotation.kind_label,
        "notice": annotation.notice,
        "swatch": SWATCH.get(annotation.category, "⬜"),
        "text": inline(annotation.text),
        "comment": comment_markdown(annotation.thread()),
        "page": annotation.page,
        "page_label": annotation.page_label or str(annotation.page),
        "link": page_link(annotation, paper, assets),
        "image": assets.images.get(annotation.id),
        "concept": concept_name(annotation) if annotation.category is Category.DEFINITION else "",
        "tags": list(annotation.tags),
    }


def _tag(text: str) -> str:
    """An Obsidian tag body: no spaces or characters a tag cannot hold."""
    return re.sub(r"[^\w/-]+", "-", text.strip().lstrip("#")).strip("-")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _frontmatter(paper: Paper, created: date, tags: list[str], source: str) -> dict:
    # Properties are one line each: a title with a newline could otherwise end the front matter.
    data = {
        "title": _one_line(paper.title) or "Untitled",
        "authors": [_one_line(a) for a in paper.authors if _one_line(a)],
        "year": paper.year,
        "venue": _one_line(paper.venue),
        "doi": paper.doi,
        "arxiv": paper.arxiv,
        "citekey": paper.citekey,
        "zotero": paper.zotero_link,
        "url": paper.url,
        "source": source,
        "tags": tags,
        "studykit-id": paper.id,
        "created": created,
    }
    keep = ("title", "authors", "tags", "studykit-id", "created")
    return {k: v for k, v in data.items() if k in keep or v not in (None, "", [])}


def _links(paper: Paper, assets: Assets) -> list[dict]:
    links = []
    if paper.arxiv:
        links.append({"label": f"arXiv {paper.arxiv}", "url": f"https://arxiv.org/abs/{paper.arxiv}"})
    if paper.doi:
        links.append({"label": "DOI", "url": f"https://doi.org/{quote(paper.doi, safe='/')}"})
    if paper.url and "arxiv.org" not in paper.url and "doi.org" not in paper.url:
        links.append({"label": "URL", "url": paper.url})
    if paper.zotero_link:
        links.append({"label": "Zotero", "url": paper.zotero_link})
    return links


def _code_repositories(paper: Paper) -> list[str]:
    found = []
    for text in (paper.url, paper.abstract, *(a.text for a in paper.annotations), *(a.comment for a in paper.annotations)):
        for url in _GITHUB.findall(text or ""):
            url = url.rstrip(".")
            if url not in found:
                found.append(url)
    return found


def _equations(registry, assets: Assets) -> list[dict]:
    if registry is None:
        return []
    out = []
    for eq in registry.equations:
        found = assets.equations.get(eq.id, EquationAssets())
        out.append({
            "id": eq.id, "slug": equation_slug(eq.id), "title": eq.title, "latex": eq.latex.strip(),
            "meaning": eq.meaning, "module": eq.module, "module_uri": found.source_uri, "line": found.line,
            "code": eq.code.rstrip("\n"), "diagram": found.diagram, "mermaid": found.mermaid.strip(),
        })
    return out


def build_context(paper: Paper, *, taxonomy, config=None, registry=None, assets: Assets | None = None,
                  created: date) -> dict:
    """Everything paper_note.md.j2 shows, in the order and sections of the study template."""
    assets = assets or Assets()
    chosen = pick_direction(config)
    paper = taxonomy.classify(paper)  # the one classification stage, for every source alike
    names = {i.category: i.name for i in taxonomy.infos}
    items = [_item(a, paper, names, assets) for a in paper.annotations]
    areas = [i for i in items if i["kind"] in AREA_KINDS]
    sticky = [i for i in items if i["kind"] in COMMENT_KINDS and not i["text"]]
    quoted = [i for i in items if i not in areas and i not in sticky]
    sections = {c.value: [i for i in quoted if i["category"] == c.value] for c in Category}

    tags = ["paper", chosen.field_tag, *(t for t in map(_tag, paper.tags) if t)]
    tags = list(dict.fromkeys(tags))
    venue_tags = [_tag(v) for v in (paper.venue, "arXiv" if paper.arxiv else "") if _tag(v)]
    if assets.pdf_vault_path:
        source = f"[[{assets.pdf_vault_path}]]"
    elif paper.pdf_path:
        source = Path(paper.pdf_path).resolve().as_uri()
    else:
        source = ""
    concepts = list(dict.fromkeys(i["concept"] for i in sections[Category.DEFINITION.value] if i["concept"]))
    return {
        "frontmatter": _frontmatter(paper, created, tags, source),
        "paper": {
            "id": paper.id, "title": inline(paper.title) or "Untitled", "authors": list(paper.authors), "year": paper.year,
            "venue": paper.venue, "doi": paper.doi, "arxiv": paper.arxiv, "url": paper.url,
            "abstract": " ".join(paper.abstract.split()), "citekey": paper.citekey, "zotero_link": paper.zotero_link,
        },
        "created": created.isoformat(),
        "venue_tags": venue_tags,
        "field_tag": chosen.field_tag,
        "links": _links(paper, assets),
        "code_repositories": _code_repositories(paper),
        "implementation": {"uri": assets.implementation_uri, "name": registry.model if registry else ""},
        "sections": sections,
        "areas": areas,
        "sticky_notes": sticky,
        "concepts": concepts,
        "categories": {
            i.category.value: {"name": i.name, "color": i.color, "swatch": SWATCH.get(i.category, "⬜")}
            for i in taxonomy.infos
        },
        "direction": {"key": chosen.key, "title": chosen.title, "items": list(chosen.items)},
        "registry": {"arxiv": registry.arxiv, "title": registry.title, "model": registry.model} if registry else None,
        "equations": _equations(registry, assets),
        "model_diagram": assets.model_diagram,
        "model_mermaid": assets.model_mermaid.strip(),
        "annotation_count": len(items),
    }


def legend_context(taxonomy) -> dict:
    """The colour code for the legend note, in the taxonomy's order."""
    return {"categories": [
        {"key": i.category.value, "name": i.name, "color": i.color, "colors": list(i.colors),
         "swatch": SWATCH.get(i.category, "⬜"), "meaning": i.meaning, "when": i.when,
         "aliases": [a for a in i.aliases if a.isascii() and " " not in a][:3]}
        for i in taxonomy.infos
    ]}
