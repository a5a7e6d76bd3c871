"""What a PDF says about the paper itself: its identity, title, authors, identifiers and dates."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

from studykit.model import Paper
from studykit.sources.pdf_layout import PageText
from studykit.sources.pdf_text import clean

ARXIV_RE = re.compile(r"\barXiv:\s*(\d{4}\.\d{4,5}|[a-z][a-z.-]+/\d{7})(?:v\d+)?", re.I)
ARXIV_BARE_RE = re.compile(r"(?<![\d.])((?:0[7-9]|[12]\d)(?:0[1-9]|1[0-2])\.\d{4,5})(?:v\d+)?(?![\d.])")
DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)\]])")
PDF_DATE_RE = re.compile(r"D?:?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*([Zz+-])?\s*(\d{2})?'?(\d{2})?'?")
_JUNK_TITLE = re.compile(r"^(untitled|microsoft word - .*|.*\.(pdf|docx?|dvi|tex|ps))$", re.I)


def paper_id(doc, first_text: str, file_name: str) -> str:
    """'pdf:<document>-<file>': the document's identity, which survives saving annotations into it,
    and the file's name, which tells annotated copies of one document apart.

    The first element of the trailer /ID is set when a document is first made and kept by every
    save (incremental or full), so two annotated copies of one paper share it; their names differ.
    A file without /ID falls back to its metadata and first-page text, which saving does not touch.
    The part before "-" is the whole id studykit gave before the name was part of it
    (`document_id`), which lets a note made then be adopted.
    """
    kind, value = doc.xref_get_key(-1, "ID")
    m = re.match(r"\[\s*<([0-9A-Fa-f]*)>", value) if kind == "array" else None
    if m and m.group(1):
        identity = "id:" + m.group(1).lower()
    else:
        meta = doc.metadata or {}
        identity = "text:" + "|".join(
            [meta.get("title") or "", meta.get("author") or "", meta.get("creationDate") or "", " ".join(first_text.split())]
        )
    name = unicodedata.normalize("NFC", file_name).casefold()
    return f"pdf:{_sha1(identity)[:16]}-{_sha1(name)[:8]}"


def document_id(paper_id: str) -> str:
    """The id a PDF's note had before file names were part of it: 'pdf:<document>'; "" for other ids."""
    head, dash, _ = paper_id.rpartition("-")
    return head if dash and head.startswith("pdf:") else ""


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def fill_metadata(paper: Paper, doc, first_text: str, title_from_page) -> None:
    """Title, authors, arXiv id, DOI, year and URL from the metadata, else the first page, else the file name."""
    meta = doc.metadata or {}
    title = (meta.get("title") or "").strip()
    paper.title = title if title and not _JUNK_TITLE.match(title) else title_from_page()
    if not paper.title and paper.pdf_path:  # a scan, or a page of pictures: the name the reader gave the file
        paper.title = clean(Path(paper.pdf_path).stem)
    author = (meta.get("author") or "").strip()
    if author:
        paper.authors = [a.strip() for a in re.split(r";|,|\band\b|&", author) if a.strip()]
    else:
        paper.authors = authors_after_title(first_text, paper.title)
    haystack = "\n".join([meta.get("subject") or "", meta.get("keywords") or "", first_text])
    if m := ARXIV_RE.search(haystack) or ARXIV_BARE_RE.search(first_text[:3000]):
        paper.arxiv = m.group(1)
    if m := DOI_RE.search(haystack):
        paper.doi = m.group(1)
    if paper.arxiv and paper.arxiv[:4].isdigit():
        paper.year = 2000 + int(paper.arxiv[:2])
    elif created := parse_pdf_date(meta.get("creationDate")):
        paper.year = created.year
    if paper.arxiv:
        paper.url = f"https://arxiv.org/abs/{paper.arxiv}"
    elif paper.doi:
        paper.url = f"https://doi.org/{paper.doi}"


_NAME = re.compile(r"^[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){1,3}$")
_AFFILIATION = re.compile(r"\b(universit\w*|institut\w*|research|labs?|laborator\w*|inc|corp\w*|department|school|"
                         r"college|cent(?:er|re)|academy|google|microsoft|facebook|meta|amazon|ibm|intel)\b", re.I)


def authors_after_title(first_text: str, title: str) -> list[str]:
    """The names on the lines right below the title of a first page ("Andrew Baumann, Microsoft
    Research" -> ["Andrew Baumann"]); [] when the title is not found or no line reads as names."""
    key = " ".join(title.split()).casefold()
    lines = first_text.splitlines()
    seen, start = "", None
    for n, line in enumerate(lines[:40]):
        seen = " ".join((seen + " " + line).split()).casefold()
        if key and key in seen:
            start = n + 1
            break
    names: list[str] = []
    for line in lines[start:start + 4] if start is not None else ():
        if not line.strip() or re.match(r"\s*abstract\b", line, re.I):
            break
        for part in re.split(r",|;|\band\b|&|·", line):
            part = re.sub(r"[\d*∗†‡§¶⁰¹²³⁴⁵⁶⁷⁸⁹,]+$", "", " ".join(part.split()))
            if _NAME.match(part) and not _AFFILIATION.search(part):
                names.append(part)
    return names[:20]


def title_from_page(page_text: PageText) -> str:
    """The largest text in the top half of the first page."""
    spans = []
    for line in page_text.spans_above(page_text.page.rect.height / 2):
        line_text = "".join(s["text"] for s in line["spans"]).strip()
        if len(line_text) >= 3:
            spans.append((max(s["size"] for s in line["spans"]), line_text))
    if not spans:
        return ""
    biggest = max(size for size, _ in spans)
    return clean(" ".join(text for size, text in spans if size >= biggest - 0.5))


def parse_pdf_date(value: str | None) -> datetime | None:
    """'D:20170302143000+01'00'' -> an aware datetime; None when absent or malformed."""
    if not value:
        return None
    m = PDF_DATE_RE.match(value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, sign, tz_h, tz_m = m.groups()
    tz = timezone.utc if sign in ("Z", "z") else None
    if sign in ("+", "-"):
        offset = timedelta(hours=int(tz_h or 0), minutes=int(tz_m or 0))
        tz = timezone(offset if sign == "+" else -offset)
    try:
        return datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                        int(second or 0), tzinfo=tz)
    except ValueError:
        return None
