"""Papers into the vault: the I/O edge of import and sync.

For each Paper: its area images and the registry's shape diagrams go to the attachment
folder, the note is rendered from the templates and merged into the vault (managed regions;
the reader's text kept). Shape diagrams need torch, which is imported only when a diagram
is missing. `sync_papers` skips, without reading or rendering it, an item whose source stamp
and note are unchanged since the last sync (the note's record, vault_export.record). Both hold
the vault's lock for the whole run (`vault_lock`): a second run waits for the first.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from studykit import note as note_context
from studykit.errors import UserError
from studykit.model import Paper
from studykit.adopt import adopt, drop_old_pictures
from studykit.paper_assets import known_registries, module_source, registry_assets, registry_of
from studykit.render import render
from studykit.vault_pdf import pdf_in_vault

if TYPE_CHECKING:
    from studykit.config import Config
    from studykit.taxonomy import Taxonomy
    from vault_export.vault import Vault

LEGEND_ID = "studykit:legend"
LEGEND_FILENAME = "颜色编码 Colour Code"


@dataclass
class Workspace:
    """A vault with its settings, opened once for a whole import or sync."""

    vault: Vault
    config: Config
    taxonomy: Taxonomy
    today: date = field(default_factory=date.today)
    lock_wait: float = 120.0  # seconds a run waits for another studykit to release the vault

    @property
    def root(self) -> Path:
        return self.vault.root


def open_workspace(vault_dir, *, create: bool = True, lock_wait: float = 120.0) -> Workspace:
    """The vault at `vault_dir` (created when missing), its studykit.toml and colour code."""
    from studykit.config import load_config
    from studykit.taxonomy import Taxonomy
    from vault_export.vault import Vault

    root = Path(vault_dir).expanduser()
    if root.exists() and not root.is_dir():
        raise UserError(f"{root}: is a file, not a vault folder")
    if not root.exists():
        if not create:
            raise UserError(f"{root}: no such vault folder")
        try:
            root.mkdir(parents=True)
        except OSError as exc:
            raise UserError(f"{root}: cannot create the vault folder: {exc.strerror}") from None
    config = load_config(root)
    return Workspace(Vault(root, config.papers_folder), config, Taxonomy.from_config(config), lock_wait=lock_wait)


def _created(vault, note_path: Path | None, today: date) -> date:
    """The date the note was first written (its `created` property), else today."""
    from vault_export import frontmatter
    from vault_export.vault import BOM

    if note_path is None:
        return today
    try:
        text = vault.read(note_path).removeprefix(BOM).decode("utf-8")  # kept for write_note's merge
        value = frontmatter.read_key(frontmatter.split(text).yaml, "created")
    except (OSError, UnicodeDecodeError, ValueError):
        return today
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return today


def write_paper(ws: Workspace, paper: Paper, *, dry_run: bool = False, force: bool = False):
    """Render `paper`'s note and merge it into the vault; returns vault_export's NoteWrite and
    the attachment files the note embeds."""
    from vault_export.names import note_filename, safe_filename
    from vault_export.sync import write_attachment, write_note

    filename = note_filename(citekey=paper.citekey, first_author=paper.authors[0] if paper.authors else "",
                             year=paper.year, title=paper.title)
    existing = ws.vault.find_by_id(paper.id)
    adopted = existing is None and adopt(ws.vault, paper, dry_run=dry_run)
    existing = existing or adopted or None
    note_path = existing or ws.vault.new_note_path(filename)
    registry = registry_of(paper)
    assets = registry_assets(ws, registry, note_path, dry_run=dry_run) if registry else note_context.Assets()
    pdf = pdf_in_vault(ws, paper, note_path, dry_run=dry_run)
    assets.pdf_vault_path = pdf.link if pdf else None
    for annotation in paper.annotations:
        if annotation.image:
            name = note_context.attachment_name(paper.id, annotation.id)
            if not dry_run:
                write_attachment(ws.vault, name, annotation.image, note_path)
            assets.images[annotation.id] = name
    context = note_context.build_context(paper, taxonomy=ws.taxonomy, config=ws.config, registry=registry,
                                         assets=assets, created=_created(ws.vault, existing, ws.today))
    text = render("paper_note.md.j2", context, vault=ws.root, config=ws.config)
    result = write_note(ws.vault, paper.id, text, filename, force=force, dry_run=dry_run)
    if adopted:
        if result.status == "unchanged":  # its studykit-id was rewritten
            result = replace(result, status="updated", changed=True)
        if not result.conflicts:
            drop_old_pictures(ws.vault, paper, result.path)
    if pdf and pdf.note:
        result = replace(result, conflicts=[*result.conflicts, pdf.note])
    if pdf and pdf.copied and not dry_run:
        record = ws.vault.records.get(paper.id)
        if record.extra.get("pdf") != pdf.copied:
            ws.vault.records.put(paper.id, replace(record, extra={**record.extra, "pdf": pdf.copied}))
            ws.vault.records_changed()
    embedded = [assets.model_diagram, *(eq.diagram for eq in assets.equations.values()), *assets.images.values(),
                *(name for name, _ in assets.pictures)]
    folder = ws.vault.attachments_dir(result.path)
    return result, [folder / safe_filename(name) for name in embedded if name]


def write_legend(ws: Workspace, *, dry_run: bool = False, force: bool = False):
    """The legend note of the colour code, at the vault's root."""
    from vault_export.sync import write_note

    context = note_context.legend_context(ws.taxonomy)
    existing = ws.vault.find_by_id(LEGEND_ID)
    context["frontmatter"] = {"title": "Highlight colour code", "tags": ["studykit/legend"], "studykit-id": LEGEND_ID,
                              "created": _created(ws.vault, existing, ws.today)}
    text = render("legend.md.j2", context, vault=ws.root, config=ws.config)
    return write_note(ws.vault, LEGEND_ID, text, LEGEND_FILENAME, folder="", force=force, dry_run=dry_run)


@contextlib.contextmanager
def vault_lock(ws: Workspace, what: str, *, dry_run: bool = False):
    """Hold the vault for a run: a second studykit waits (saying for whom), then gives up with one line.
    A dry run writes nothing, not even the lock file."""
    from vault_export.lock import VaultBusy

    if dry_run:
        yield
        return

    def waiting(holder: str) -> None:
        print(f"studykit: {ws.root} is in use by {holder}; waiting for it to finish", file=sys.stderr, flush=True)

    try:
        with ws.vault.session(what=f"studykit {what}", wait=ws.lock_wait, on_wait=waiting):
            yield
    except VaultBusy as exc:
        raise UserError(str(exc)) from None


def write_papers(ws: Workspace, papers, *, dry_run: bool = False, force: bool = False, progress=None) -> list:
    """Write each paper's note (and the legend once); `progress(done, total)` after each."""
    papers = _one_each(list(papers))
    results = []
    with vault_lock(ws, "import", dry_run=dry_run):
        for done, paper in enumerate(papers, 1):
            results.append((paper, write_paper(ws, paper, dry_run=dry_run, force=force)[0]))
            if progress:
                progress(done, len(papers))
        if papers:
            write_legend(ws, dry_run=dry_run, force=force)
    return results


def _one_each(papers: list[Paper]) -> list[Paper]:
    """`papers` with a file given twice read once; two files that still give one id are an error."""
    first: dict[str, Paper] = {}
    for paper in papers:
        seen = first.setdefault(paper.id, paper)
        if seen is not paper and Path(seen.pdf_path or "").resolve() != Path(paper.pdf_path or "").resolve():
            raise UserError(f"{paper.pdf_path}: the same paper as {seen.pdf_path} (one document /ID and "
                            f"one file name): import one of them, or rename one to keep both")
    return list(first.values())


@dataclass(frozen=True)
class KnownPaper:
    """A paper `sync_papers` skipped: what the report shows of it, as the last sync saw it."""

    id: str
    title: str
    count: int

    @property
    def annotations(self) -> range:
        return range(self.count)  # the report only counts them


def sync_papers(ws: Workspace, read, stamps: dict[str, str] | None, *, dry_run: bool = False,
                force: bool = False, progress=None) -> list:
    """Write the notes of a source's papers, as `write_papers` does, reading only what changed.

    `stamps`: paper id -> the source's digest of the item, in the source's order, or None when the
    source cannot tell (then every paper is read). `read(ids)` returns the papers with those ids
    (None: all of them). An item is skipped when its stamp, studykit's `environment` and its note
    are as the last sync left them; results list it as "unchanged" with a `KnownPaper`.
    """
    with vault_lock(ws, "sync", dry_run=dry_run):
        return _sync_papers(ws, read, stamps, dry_run=dry_run, force=force, progress=progress)


def _sync_papers(ws: Workspace, read, stamps, *, dry_run: bool, force: bool, progress) -> list:
    from vault_export.sync import NoteWrite

    records = ws.vault.records
    listing = ws.vault.listing()
    env = environment(ws)
    wanted = {paper_id: combine(env, stamp) for paper_id, stamp in (stamps or {}).items()}
    fresh = set() if force or stamps is None else _fresh(ws.vault, {**wanted, LEGEND_ID: env}, listing)
    if stamps is None:
        papers = read(None)
    else:
        stale = [paper_id for paper_id in wanted if paper_id not in fresh]
        papers = read(stale) if stale else []
    total = len(wanted) if stamps is not None else len(papers)
    done = total - len(papers)
    written = {}
    for paper in papers:
        result, attachments = write_paper(ws, paper, dry_run=dry_run, force=force)
        written[paper.id] = (paper, result)
        if not dry_run:
            _remember_source(ws.vault, paper.id, result, wanted.get(paper.id, ""), listing, attachments,
                             {"title": paper.title, "annotations": len(paper.annotations)})
        done += 1
        if progress:
            progress(done, total)
    if (papers or fresh) and LEGEND_ID not in fresh:
        legend = write_legend(ws, dry_run=dry_run, force=force)
        if not dry_run:
            _remember_source(ws.vault, LEGEND_ID, legend, env, listing)
    if not dry_run:
        records.save(listing)
    if stamps is None:
        return list(written.values())
    results = []
    for paper_id in wanted:
        if paper_id in written:
            results.append(written[paper_id])
        elif paper_id in fresh:
            record = records.get(paper_id)
            results.append((KnownPaper(paper_id, str(record.extra.get("title", "")), int(record.extra.get("annotations", 0))),
                            NoteWrite(ws.root / record.path, "unchanged")))
    return results


def _fresh(vault, stamps: dict[str, str], listing: dict[str, list[int]]) -> set[str]:
    """The ids in `stamps` whose stamp matches the last sync's and whose note is as studykit left it."""
    from vault_export.record import digest

    records, fresh = vault.records, set()
    for note_id, stamp in stamps.items():
        record = records.notes.get(note_id)
        if record is None or not record.source or record.source != stamp or record.path not in listing:
            continue
        if listing[record.path] != records.files.get(record.path):
            try:  # the reader (or a sync tool) touched the note: skip only if its bytes are still ours
                if digest((vault.root / record.path).read_bytes()) != record.note:
                    continue
            except OSError:
                continue
        if all((vault.root / a).is_file() for a in record.attachments):
            fresh.add(note_id)
    if fresh and listing != records.files:
        # A note copied, moved in or edited elsewhere may now carry one of these ids too:
        # ask the vault's index, which reads every note's properties.
        fresh = {i for i in fresh if vault.find_all(i) == [vault.root / records.notes[i].path]}
    return fresh


def _remember_source(vault, note_id: str, result, stamp: str, listing: dict, attachments=(), extra=None) -> None:
    """Add the source's stamp to the note's record, so an unchanged item is skipped next time; never after a
    conflict, which is reported on every sync until the reader resolves it."""
    record = vault.records.get(note_id)
    clean = result.status != "conflict" and stamp and record.note
    try:
        stat = result.path.stat()
    except OSError:
        clean = False
    else:
        listing[vault.link(result.path)] = [stat.st_size, stat.st_mtime_ns]
    vault.records.put(note_id, replace(record, source=stamp if clean else "",
                                       attachments=sorted(vault.link(a) for a in attachments),
                                       extra={**record.extra, **(extra or {})}))


def environment(ws: Workspace) -> str:
    """A digest of all that shapes a note besides its paper: studykit's code and templates, the
    reader's templates and studykit.toml, the attachment folder setting, the equation registries."""
    import importlib.resources

    import studykit
    import vault_export
    from studykit.render import template_bytes, template_files, template_folders
    from vault_export.record import digest

    parts = [studykit.__version__, str(ws.root)]
    for path in (ws.config.path, ws.root / ".obsidian" / "app.json"):
        parts.append(f"{path}:{stat_key(path) if path else None}")
    for package in (studykit, vault_export):
        folder = Path(package.__file__).parent
        parts += [f"{p.relative_to(folder)}:{stat_key(p)}" for p in sorted(folder.rglob("*.py"))]
    shipped = importlib.resources.files("studykit.templates")
    parts += [f"{t.name}:{digest(t.read_bytes())}" for t in sorted(shipped.iterdir(), key=lambda t: t.name)
              if t.name.endswith(".j2")]
    for folder in template_folders(ws.root, ws.config):
        parts += [f"{p}:{digest(template_bytes(p))}" for p in template_files(folder)]
    for arxiv, registry in sorted(known_registries().items()):
        parts.append(repr((arxiv, registry.title, registry.model, [
            (eq.id, eq.title, eq.latex, eq.meaning, eq.module, eq.code, module_source(eq.module))
            for eq in registry.equations])))
    return combine(*parts)


def combine(*parts: str) -> str:
    from vault_export.record import digest

    return digest("\0".join(parts).encode("utf-8"))


def stat_key(path: str | os.PathLike) -> tuple | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


def summary(results) -> dict:
    """Counts by status: created, updated, unchanged, conflict."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "conflict": 0}
    for _paper, result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts
