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
import functools
import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from studykit import note as note_context
from studykit.errors import UserError
from studykit.model import Paper
from studykit.render import render

LEGEND_ID = "studykit:legend"
LEGEND_FILENAME = "颜色编码 Colour Code"
MERMAID_CACHE = Path(".studykit") / "cache"


@dataclass
class Workspace:
    """A vault with its settings, opened once for a whole import or sync."""

    vault: object  # vault_export.vault.Vault
    config: object  # studykit.config.Config
    taxonomy: object  # studykit.taxonomy.Taxonomy
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


@functools.cache
def _registries() -> dict:
    from studykit.papers import registries

    return registries()  # reading entry points costs ~15 ms; they do not change while studykit runs


def _registry(paper: Paper):
    from studykit.papers import find_registry

    return find_registry(arxiv=paper.arxiv, title=paper.title, known=_registries())


def module_source(qualified: str) -> note_context.Source | None:
    """The source of "package.module:Name" and its line numbers, read without importing it (no torch)."""
    module, _, name = qualified.partition(":")
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not os.path.isfile(spec.origin) or not name:
        return None
    with open(spec.origin, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    pattern = re.compile(rf"^(\s*)(?:class|def)\s+{re.escape(name.split('.')[-1])}\b")
    start = next((n for n, text in enumerate(lines) if pattern.match(text)), None)
    if start is None:
        return None
    indent = len(pattern.match(lines[start]).group(1))
    end = start + 1
    for n in range(start + 1, len(lines)):  # the body: every line indented deeper, blank lines inside it
        if lines[n].strip() and len(lines[n]) - len(lines[n].lstrip()) <= indent:
            break
        if lines[n].strip():
            end = n + 1
    depth = module.count(".") + (Path(spec.origin).name == "__init__.py")
    package_root = Path(spec.origin).parents[depth]
    path = Path(spec.origin).relative_to(package_root).as_posix()
    return note_context.Source(path, start + 1, "\n".join(lines[start:end]) + "\n")


def registry_assets(ws: Workspace, registry, note_path: Path, *, dry_run: bool = False) -> note_context.Assets:
    """Shape diagrams, pictures and implementing code of a paper's registry; diagrams and pictures drawn
    only when missing (each equation's own diagram only for `note_detail = "full"`)."""
    from studykit.papers import resolve
    from vault_export.sync import write_attachment

    folder = ws.vault.attachments_dir(note_path)
    prefix = note_context.diagram_prefix(registry)
    wanted = {"model": f"{prefix}-model-shapes.png"}
    if ws.config.note_detail == "full":
        wanted.update({eq.id: f"{prefix}-{note_context.equation_slug(eq.id)}-shapes.png" for eq in registry.equations})
    cache = ws.root / MERMAID_CACHE
    missing = [key for key, name in wanted.items()
               if not (folder / name).is_file() or not (cache / f"{name}.mmd").is_file()]
    if missing and not dry_run:
        for key, png, mermaid in _draw_diagrams(registry, missing):
            write_attachment(ws.vault, wanted[key], png, note_path)
            cache.mkdir(parents=True, exist_ok=True)
            (cache / f"{wanted[key]}.mmd").write_text(mermaid, encoding="utf-8")

    def mermaid_of(name: str) -> str:
        path = cache / f"{name}.mmd"
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    assets = note_context.Assets(model_diagram=wanted["model"], model_mermaid=mermaid_of(wanted["model"]))
    for slug, caption, draw in getattr(registry, "pictures", ()):  # a registry written before pictures has none
        name = f"{prefix}-{slug}.png"
        if not (folder / name).is_file() and not dry_run:
            write_attachment(ws.vault, name, resolve(draw)(), note_path)
        assets.pictures.append((name, caption))
    for eq in registry.equations:
        diagram = wanted.get(eq.id)
        assets.equations[eq.id] = note_context.EquationAssets(
            diagram, mermaid_of(diagram) if diagram else "", module_source(eq.module))
    return assets


def _draw_diagrams(registry, keys):
    """(key, PNG bytes, Mermaid text) for the model ("model") and the equations named in `keys`,
    drawn by the paper's own shape tracer (its registry names it)."""
    for key in keys:
        if key == "model":
            steps = registry.collapse_shapes(registry.trace_shapes(registry.model))
            ids = [eq.id for eq in registry.equations]
            title = f"{registry.model}: tensor shapes, {ids[0]}-{ids[-1]}" if ids else f"{registry.model}: tensor shapes"
        else:
            eq = registry.equation(key)
            steps = registry.trace_equation(key)
            title = f"{eq.id} {eq.title}"
        yield key, registry.shapes_png(steps, title=title), registry.shapes_mermaid(steps)


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


def _pdf_in_vault(ws: Workspace, paper: Paper, note_path: Path, *, dry_run: bool = False) -> VaultPdf | None:
    """The paper's PDF as a path inside the vault, brought in when it is outside; None when it stays out.

    `pdf_attach`: "copy" (default) or "link" (a hard link; a copy where the file system has none)
    into the note's attachment folder; "zotero" leaves a Zotero item's PDF where Zotero keeps it
    (its notes link with zotero://). A vault is synced to other machines: a path out of it would break.
    """
    if not paper.pdf_path:
        return None
    source = Path(paper.pdf_path)
    root = ws.root.resolve()
    resolved = source.resolve()
    if resolved.is_relative_to(root):
        return VaultPdf(resolved.relative_to(root).as_posix())
    if (ws.config.pdf_attach == "zotero" and paper.zotero_link) or not resolved.is_file():
        return None
    from vault_export.names import safe_filename
    from vault_export.record import digest

    data = resolved.read_bytes()
    copied = ws.vault.records.get(paper.id).extra.get("pdf") or {}
    target, seen, note = _attachment_for(ws.vault, safe_filename(source.name), note_path, data, copied)
    if not dry_run and seen != data:
        _bring_in(resolved, data, target, seen, link=ws.config.pdf_attach == "link")
    copied = {"path": ws.vault.link(target), "digest": digest(data)}
    if not dry_run and os.path.samefile(resolved, target):  # a hard link: the reader's saves show in it
        copied["inode"] = os.stat(target).st_ino
    return VaultPdf(ws.vault.link(target), copied, note)


@dataclass
class VaultPdf:
    """Where the note links its PDF, what studykit copied there (for the note's record), and what to report."""

    link: str
    copied: dict | None = None  # {"path": vault-relative, "digest": of the bytes studykit put there}
    note: str = ""


def _attachment_for(vault, name: str, note_path: Path, data: bytes, copied: dict) -> tuple[Path, bytes | None, str]:
    """Where the PDF `data` goes, the bytes there now (None: no file), and a line for the reader.

    The copy studykit made at the last import is replaced while it still holds what studykit put
    there, or is still the hard link it made (the reader saved new highlights into their PDF); a
    file of that name that is not that copy is the reader's: it is kept, and the PDF goes to
    `stem-<digest>.pdf` beside it.
    """
    from vault_export.record import digest

    if copied.get("path") and vault.contains(vault.root / copied["path"]):
        ours = vault.root / copied["path"]
        current = _bytes_of(ours)
        if current is not None and (digest(current) == copied.get("digest") or _inode(ours) == copied.get("inode")):
            return ours, current, ""
    target = vault.attachments_dir(note_path) / name
    current = _bytes_of(target)
    if current is None or current == data:
        return target, current, ""
    stem, dot, ext = name.rpartition(".")
    other = target.with_name(f"{stem or ext}-{digest(data)[:8]}{dot}{ext if stem else ''}")
    return other, _bytes_of(other), (f"{vault.link(target)}: another PDF by that name (another paper's, or changed "
                                      f"since studykit copied it); kept, and this paper's PDF is {vault.link(other)}")


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _bytes_of(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _bring_in(source: Path, data: bytes, target: Path, seen: bytes | None, *, link: bool) -> None:
    """`data` (the bytes of `source`) at `target`, replacing it only while it holds `seen` (None: a new file).
    A hard link where `link` asks for one and the file system allows it, else a copy (compare-and-swap)."""
    from vault_export.atomic import write_if_unchanged

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if link and _linked_in(source, target, seen):
            return
        if not write_if_unchanged(target, data, seen):
            raise UserError(f"{target}: changed while studykit was bringing {source.name} into the vault; run again")
    except OSError as exc:
        raise UserError(f"{source}: cannot bring the PDF into the vault ({target}): {exc.strerror}") from None


def _linked_in(source: Path, target: Path, seen: bytes | None) -> bool:
    """Hard-link `source` as `target` (which must hold `seen`, or not exist for None); False where no
    link can be made here (another file system) or `target` changed, so that the caller copies or says so."""
    from vault_export.atomic import temp_name

    temporary = temp_name(target)
    try:
        os.link(source, temporary)
    except OSError:
        return False
    try:
        if seen is None:
            os.link(temporary, target)  # fails when it exists: a file made meanwhile stays
        elif _bytes_of(target) == seen:
            os.replace(temporary, target)  # the check and the rename are microseconds apart
        else:
            return False
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def write_paper(ws: Workspace, paper: Paper, *, dry_run: bool = False, force: bool = False):
    """Render `paper`'s note and merge it into the vault; returns vault_export's NoteWrite and
    the attachment files the note embeds."""
    from vault_export.names import note_filename, safe_filename
    from vault_export.sync import write_attachment, write_note

    filename = note_filename(citekey=paper.citekey, first_author=paper.authors[0] if paper.authors else "",
                             year=paper.year, title=paper.title)
    existing = ws.vault.find_by_id(paper.id)
    adopted = existing is None and _adopt(ws.vault, paper, dry_run=dry_run)
    existing = existing or adopted or None
    note_path = existing or ws.vault.new_note_path(filename)
    registry = _registry(paper)
    assets = registry_assets(ws, registry, note_path, dry_run=dry_run) if registry else note_context.Assets()
    pdf = _pdf_in_vault(ws, paper, note_path, dry_run=dry_run)
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
            _drop_old_pictures(ws.vault, paper, result.path)
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


def _adopt(vault, paper: Paper, *, dry_run: bool = False) -> Path | None:
    """The note an older studykit made for this PDF under its document id alone (before the file name was
    part of a PDF's id), now carrying `paper.id` (in a dry run: found, and shown in the diff with it);
    None when there is none. A note whose `source` names another file is that copy's note and stays."""
    from studykit.sources.pdf_metadata import document_id
    from vault_export import frontmatter
    from vault_export.atomic import write_if_unchanged
    from vault_export.names import safe_filename
    from vault_export.vault import BOM, ID_KEY

    old_id = document_id(paper.id)
    if not old_id or not paper.pdf_path:
        return None
    name = Path(paper.pdf_path).name
    own_names = {_name_key(name), _name_key(safe_filename(name))}  # a copy in the vault, or the PDF itself
    for path in vault.find_all(old_id):
        raw = vault.read(path)
        bom = BOM if raw.startswith(BOM) else b""
        try:
            part = frontmatter.split(raw[len(bom):].decode("utf-8"))
            source = frontmatter.read_key(part.yaml, "source")
        except (UnicodeDecodeError, ValueError):
            continue
        if source and _name_key(_linked_pdf(str(source))) not in own_names:
            continue
        part.yaml, count = re.subn(rf"(?m)^({re.escape(ID_KEY)}:[ \t]*)(['\"]?){re.escape(old_id)}\2[ \t]*$",
                                   lambda m: m.group(1) + paper.id, part.yaml, count=1)
        if dry_run:
            vault.register(paper.id, path)  # write_note's merge shows the new id
            return path
        vault.release(path)
        if not count or not write_if_unchanged(path, bom + part.join().encode("utf-8"), raw):
            continue  # an id written some other way, or a save meanwhile: this run makes a new note
        vault.register(paper.id, path)
        vault.records.put(paper.id, replace(vault.records.get(old_id), path=vault.link(path)))
        return path
    return None


def _drop_old_pictures(vault, paper: Paper, note_path: Path) -> None:
    """After an adopted note's clean merge: remove its area pictures named after the old id, each
    only where the note no longer embeds it and the new name holds the very same picture."""
    from studykit.sources.pdf_metadata import document_id

    folder = vault.attachments_dir(note_path)
    text = note_path.read_text(encoding="utf-8", errors="replace")
    for annotation in paper.annotations:
        old = folder / note_context.attachment_name(document_id(paper.id), annotation.id)
        new = folder / note_context.attachment_name(paper.id, annotation.id)
        if annotation.image and old.name not in text and _bytes_of(old) is not None and _bytes_of(old) == _bytes_of(new):
            old.unlink(missing_ok=True)


def _linked_pdf(source: str) -> str:
    """'paper.pdf' out of a `source` property: "[[attachments/paper-1a2b3c4d.pdf]]", a path, a link."""
    target = source.strip().removeprefix("[[").removesuffix("]]").split("|")[0].split("#")[0]
    name = target.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"-[0-9a-f]{8}(\.pdf)$", r"\1", name, flags=re.I)  # `_attachment_for`'s second copy


def _name_key(name: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", name).casefold()


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
    for arxiv, registry in sorted(_registries().items()):
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
