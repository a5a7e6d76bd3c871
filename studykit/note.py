"""A paper and its annotations -> the context the paper-note template renders (pure, no I/O).

The orchestration (studykit.notes) finds the files first (attachments, shape diagrams, the
source of each equation's module) and hands them over as `Assets`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from studykit.config import Config
from studykit.directions import direction as pick_direction
from studykit.markdown_text import comment_markdown, inline, neutral
from studykit.model import Annotation, Category, Paper
from studykit.papers import PaperRegistry

SWATCH = {  # the colour of each category as an emoji, so lists show the reader's code at a glance
    Category.CONTRIBUTION: "🔴", Category.DEFINITION: "🟡", Category.FORMULA: "🔵",
    Category.RESULT: "🟢", Category.METHOD: "🟣", Category.LIMITATION: "🟠",
    Category.BACKGROUND: "⚪", Category.QUESTION: "🩵", Category.UNCATEGORIZED: "⬜",
}
AREA_KINDS = ("image", "ink")
COMMENT_KINDS = ("note", "freetext")
_CONCEPT_MAX_WORDS = 6
_CONCEPT_MAX_CHARS = 60
_GITHUB = re.compile(r"https?://(?:www\.)?github\.com/[\w.-]+/[\w.-]+")


@dataclass(frozen=True)
class Source:
    """The code of a class or function, shown in the note: a vault travels, site-packages does not."""

    path: str  # inside its package, "vit_impl/sublayers.py"
    first: int  # line numbers in that file
    text: str

    @property
    def last(self) -> int:
        return self.first + self.text.rstrip("\n").count("\n")


@dataclass
class EquationAssets:
    """What the vault holds for one registered equation."""

    diagram: str | None = None  # attachment file name of the shape diagram (full notes only)
    mermaid: str = ""
    source: Source | None = None  # the implementing module's code


@dataclass
class Assets:
    """Files the note links to, found or written by the orchestration before rendering."""

    pdf_vault_path: str | None = None  # the PDF's path inside the vault (posix), when it is inside
    images: dict[str, str] = field(default_factory=dict)  # annotation id -> attachment file name
    model_diagram: str | None = None
    model_mermaid: str = ""
    equations: dict[str, EquationAssets] = field(default_factory=dict)
    pictures: list[tuple[str, str]] = field(default_factory=list)  # (attachment file name, caption), the registry's


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


def concept_name(annotation: Annotation) -> str:
    """The [[concept]] a definition highlight names: the highlighted term, trimmed, when it reads as a term.

    Never the comment: that is the reader's remark about the term ("lower in column 1"), not its name.
    No link (the quote stays) from text that is not a term: font garbage ("5?<65FG5E+6"), a box that
    cut a word at either end ("e HTMLImageElement", "of the fol"), a clause ("It will have a layout").
    """
    text = (annotation.text or "").strip().strip(_END_PUNCTUATION)
    words = text.replace("/", " ").split()
    name = " ".join(w.strip(_END_PUNCTUATION) for w in words)
    if not 0 < len(words) <= _CONCEPT_MAX_WORDS or len(name) > _CONCEPT_MAX_CHARS or not _reads_as_term(name):
        return ""
    return name


_END_PUNCTUATION = ".,;:!?\"'“”‘’()[]"
_TERM_WORD = re.compile(r"[^\W\d_](?:[\w'’&-]*\w)?|\d+(?:\.\d+)?(?:-[^\W\d_]+)*")  # "ViT-B", "16-bit", "3.5"
# Words that make a phrase a clause rather than a name, and the short words a cut fragment is not.
_ARTICLES = {"a", "an", "the", "any", "some", "this", "that", "these", "those"}
_SHORT_WORDS = {"a", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my", "no", "of",
                "on", "or", "so", "to", "up", "us", "we", "and", "are", "for", "not", "the", "was", "with", "from"}


def _reads_as_term(name: str) -> bool:
    words = name.split()
    if not all(_TERM_WORD.fullmatch(w) for w in words):  # a symbol inside a word: font garbage, not text
        return False
    if not any(w.casefold() not in _SHORT_WORDS and not w[0].isdigit() for w in words):
        return False  # only small words or numbers: "on", "no", "5"
    for end in {words[0], words[-1]}:  # a lowercase scrap of two or three letters: the box cut a word
        if end.islower() and len(end) <= 3 and end not in _SHORT_WORDS:
            return False
    return not any(w.casefold() in _ARTICLES for w in words[1:]) and words[-1].casefold() not in _SHORT_WORDS


def page_link(annotation: Annotation, assets: Assets) -> str:
    """A link back to the annotation's place: Zotero, or the PDF inside the vault (Obsidian's PDF viewer)."""
    label = f"p. {annotation.page_label or annotation.page}"
    if annotation.link.startswith("zotero://"):
        return f"[{label}]({annotation.link})"
    if assets.pdf_vault_path:
        return f"[[{assets.pdf_vault_path}#page={annotation.page}|{label}]]"
    return label


def _item(annotation: Annotation, names: dict[Category, str], assets: Assets) -> dict:
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
        "link": page_link(annotation, assets),
        "image": assets.images.get(annotation.id),
        "concept": concept_name(annotation) if annotation.category is Category.DEFINITION else "",
        "tags": [neutral(t) for t in annotation.tags],
    }


def _tag(text: str) -> str:
    """An Obsidian tag body: no spaces or characters a tag cannot hold."""
    return re.sub(r"[^\w/-]+", "-", text.strip().lstrip("#")).strip("-")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _frontmatter(paper: Paper, created: date, tags: list[str], source: str) -> dict:
    # Properties are one line each: a title with a newline could otherwise end the front matter.
    # No authors: the key is left out (an empty list shows in Obsidian as an empty property).
    data = {
        "title": _one_line(paper.title) or "Untitled",
        "authors": _authors(paper),
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
    keep = ("title", "tags", "studykit-id", "created")
    return {k: v for k, v in data.items() if k in keep or v not in (None, "", [])}


def _authors(paper: Paper) -> list[str]:
    return [_one_line(a) for a in paper.authors if _one_line(a)]


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
    return [{"label": link["label"], "url": _url(link["url"])} for link in links]


def _url(url: str) -> str:
    """A URL that stays one Markdown link destination: no space, no parenthesis, no `%%`."""
    url = _one_line(url)
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    return re.sub(r"(?<=%)%", "%25", url)


def _code_repositories(paper: Paper) -> list[str]:
    found = []
    for text in (paper.url, paper.abstract, *(a.text for a in paper.annotations), *(a.comment for a in paper.annotations)):
        for url in _GITHUB.findall(text or ""):
            url = _url(url.rstrip("."))
            if url not in found:
                found.append(url)
    return found


def _equations(registry: PaperRegistry | None, assets: Assets) -> list[dict]:
    if registry is None:
        return []
    out = []
    for eq in registry.equations:
        found = assets.equations.get(eq.id, EquationAssets())
        source = found.source
        out.append({
            "id": eq.id, "slug": equation_slug(eq.id), "title": eq.title, "latex": eq.latex.strip(),
            "meaning": eq.meaning, "module": eq.module, "code": eq.code.rstrip("\n"),
            "source": {"path": source.path, "first": source.first, "last": source.last,
                       "lines": source.text.rstrip("\n").splitlines(), "fence": _fence(source.text)} if source else None,
            "diagram": found.diagram, "mermaid": found.mermaid.strip(),
        })
    return out


def _fence(code: str) -> str:
    """A backtick fence longer than any run of backticks in `code`, so the code cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)


def _unique_block_ids(items: list[dict]) -> None:
    """A PDF can hold one annotation twice under one id: its second block gets `-2`, so every
    ^block id of a note is one target (the first keeps its id, and links made to it)."""
    seen: dict[str, int] = {}
    for item in items:
        n = seen[item["block_id"]] = seen.get(item["block_id"], 0) + 1
        if n > 1:
            item["block_id"] = f"{item['block_id']}-{n}"


def build_context(paper: Paper, *, taxonomy, config: Config | None = None, registry: PaperRegistry | None = None,
                  assets: Assets | None = None, created: date) -> dict:
    """Everything paper_note.md.j2 shows, in the order and sections of the study template.

    Only a paper its registry entry knows gets that entry's questions, tags and equations; any
    other gets the direction's checklist alone (the general one, untagged, by default).
    """
    assets = assets or Assets()
    config = config or Config()
    chosen = pick_direction(config)
    paper = taxonomy.classify(paper)  # the one classification stage, for every source alike
    names = {i.category: i.name for i in taxonomy.infos}
    items = [_item(a, names, assets) for a in paper.annotations]
    _unique_block_ids(items)
    areas, sticky = [], []
    sections: dict[str, list[dict]] = {c.value: [] for c in Category}
    for i in items:
        if i["kind"] in AREA_KINDS:
            areas.append(i)
        elif i["kind"] in COMMENT_KINDS and not i["text"]:
            sticky.append(i)
        else:
            sections[i["category"]].append(i)

    field_tags = [t for t in (chosen.field_tag, *(registry.tags if registry else ())) if _tag(t)]
    tags = ["paper", *map(_tag, field_tags), *(t for t in map(_tag, paper.tags) if t)]
    tags = list(dict.fromkeys(tags))
    venue_tags = [_tag(v) for v in (paper.venue, "arXiv" if paper.arxiv else "") if _tag(v)]
    source = f"[[{assets.pdf_vault_path}]]" if assets.pdf_vault_path else ""
    # Each concept is linked once: in the list at the head of section 5.
    concepts = list(dict.fromkeys(i["concept"] for i in sections[Category.DEFINITION.value] if i["concept"]))
    return {
        "frontmatter": _frontmatter(paper, created, tags, source),
        "paper": {
            "id": paper.id, "title": inline(paper.title) or "Untitled", "authors": [inline(a) for a in _authors(paper)],
            "year": paper.year, "venue": inline(paper.venue), "doi": neutral(paper.doi), "arxiv": neutral(paper.arxiv),
            "url": _url(paper.url), "abstract": inline(paper.abstract), "citekey": neutral(paper.citekey),
            "zotero_link": _url(paper.zotero_link),
        },
        "created": created.isoformat(),
        "venue_tags": venue_tags,
        "field_tags": [_tag(t) for t in field_tags],
        "links": _links(paper, assets),
        "code_repositories": _code_repositories(paper),
        "implementation": {"name": registry.model if registry else ""},
        "detail": config.note_detail,
        "sections": sections,
        "areas": areas,
        "sticky_notes": sticky,
        "concepts": concepts,
        "categories": {
            i.category.value: {"name": i.name, "color": i.color, "swatch": SWATCH.get(i.category, "⬜")}
            for i in taxonomy.infos
        },
        "direction": {"key": chosen.key, "title": chosen.title, "items": list(chosen.items)},
        "paper_checklist": list(registry.checklist) if registry else [],
        "registry": {"arxiv": registry.arxiv, "title": registry.title, "model": registry.model} if registry else None,
        "equations": _equations(registry, assets),
        "model_diagram": assets.model_diagram,
        "model_mermaid": assets.model_mermaid.strip(),
        "pictures": assets.pictures,
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
