"""`studykit sync --vault DIR`: a paper note for every matching Zotero item, merged into the vault."""

from __future__ import annotations

from pathlib import Path


def add_parser(subparsers) -> None:
    from studykit.cli.import_ import add_write_options

    p = subparsers.add_parser(
        "sync",
        help="write or refresh a paper note for each Zotero item into an Obsidian vault",
        description="Read Zotero items with their PDF annotations (the local API of a running Zotero 7 by default) "
                    "and write or refresh their paper notes. Text you wrote outside studykit's regions is never touched.",
    )
    p.add_argument("--collection", action="append", default=[], metavar="NAME", help="items of this collection (name or key)")
    p.add_argument("--tag", action="append", default=[], metavar="TAG", help="items with this tag")
    p.add_argument("--item", action="append", default=[], metavar="KEY", help="this item (or attachment) key")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--zotero-data-dir", type=Path, metavar="DIR",
                       help="read zotero.sqlite in DIR (for example ~/Zotero), read-only, even while Zotero runs")
    where.add_argument("--web", action="store_true",
                       help="the Zotero web API (ZOTERO_LIBRARY_ID, ZOTERO_LIBRARY_TYPE, ZOTERO_API_KEY)")
    add_write_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from studykit.cli.import_ import no_empty_vault_left

    with no_empty_vault_left(args.vault):
        return _sync(args)


def _sync(args) -> int:
    from studykit import notes
    from studykit.cli.import_ import report
    from studykit.sources.zotero_common import item_key

    items = [item_key(key) for key in args.item]  # a mistyped key fails before Zotero is asked anything
    ws = notes.open_workspace(args.vault, lock_wait=args.wait)
    selection = dict(items=items, collections=args.collection, tags=args.tag)
    with _progress() as bar:
        if args.zotero_data_dir:
            from studykit.sources import zotero_db

            bar("reading zotero.sqlite", 0, 0)
            # The database says cheaply what changed, so only those items are read and rendered.
            stamps = zotero_db.change_stamps(args.zotero_data_dir, **selection)

            def read(ids):
                return zotero_db.read_library(args.zotero_data_dir,
                                              only=None if ids is None else set(ids), **selection)
        else:
            from studykit.sources import zotero_api, zotero_versions

            bar("asking Zotero what changed", 0, 0)
            # Zotero's version counters (keyed by its server id) say what changed since the last sync.
            stamps = zotero_versions.change_stamps(ws.root, local=not args.web, save=not args.dry_run,
                                                   **selection) or None

            def read(ids):
                return zotero_api.read_library(local=not args.web, **selection,
                                               only=None if ids is None else set(ids),
                                               progress=lambda done, total: bar("reading Zotero", done, total))
        results = notes.sync_papers(ws, _telling_warnings(read), stamps, dry_run=args.dry_run, force=args.force,
                                    progress=lambda done, total: bar("writing notes", done, total))
    return report(ws, results, args)


def _telling_warnings(read):
    """`read`, saying each paper's warnings on stderr (why a note was written without its PDF)."""
    def read_and_tell(ids):
        import sys

        papers = read(ids)
        for warning in (w for p in papers for w in p.warnings):
            print(f"studykit: warning: {warning}", file=sys.stderr)
        return papers

    return read_and_tell


class _progress:
    """A rich progress bar on stderr when it is a terminal; call it with (what, done, total)."""

    def __enter__(self):
        import sys

        self._bar = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
            self._bar.start()
            self._tasks = {}
        return self

    def __call__(self, what: str, done: int, total: int) -> None:
        if self._bar is None:
            return
        if what not in self._tasks:
            self._tasks[what] = self._bar.add_task(what, total=total or None)
        self._bar.update(self._tasks[what], completed=done, total=total or None)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()
        return False
