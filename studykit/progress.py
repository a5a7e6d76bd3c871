"""Progress across the vault: task counts per note and heading, the daily history, the Dashboard note."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from studykit.checklist import ChecklistItem

HISTORY = Path(".studykit") / "progress.jsonl"
DASHBOARD_ID = "studykit:dashboard"
DASHBOARD_FILENAME = "Dashboard"
CHART_NAME = "studykit-progress.png"
NO_HEADING = "(no heading)"


@dataclass
class Counts:
    todo: int = 0
    in_progress: int = 0
    done: int = 0
    cancelled: int = 0

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)  # the statuses are the field names

    @property
    def total(self) -> int:
        return self.todo + self.in_progress + self.done + self.cancelled

    @property
    def percent(self) -> float:
        """Done out of the tasks that still count: cancelled ones are left out."""
        live = self.total - self.cancelled
        return 100.0 * self.done / live if live else (100.0 if self.total else 0.0)

    def to_json(self) -> dict:
        return {**asdict(self), "total": self.total, "percent": round(self.percent, 1)}


@dataclass
class NoteProgress:
    note: str
    totals: Counts
    headings: dict[str, Counts]  # in the order they appear


def summarize(items: list[ChecklistItem]) -> tuple[Counts, list[NoteProgress]]:
    """Counts for the whole vault, and per note and heading, in reading order."""
    totals, notes = Counts(), {}
    for it in items:
        n = notes.setdefault(it.note, NoteProgress(it.note, Counts(), {}))
        for c in (totals, n.totals, n.headings.setdefault(it.heading or NO_HEADING, Counts())):
            c.add(it.status)
    return totals, list(notes.values())


def to_json(totals: Counts, notes: list[NoteProgress]) -> dict:
    """The tree note -> heading -> counts, with totals at each level."""
    return {
        "totals": totals.to_json(),
        "notes": {n.note: {"totals": n.totals.to_json(), "headings": {h: c.to_json() for h, c in n.headings.items()}}
                  for n in notes},
    }


def bar(percent: float, width: int = 20) -> str:
    full = round(percent / 100 * width)
    return "█" * full + "░" * (width - full)


# --- history ---------------------------------------------------------------------------------

_COUNTS = ("todo", "in_progress", "done", "cancelled", "total")


def read_history(vault: Path) -> list[dict]:
    """The days recorded so far; a torn, hand-edited or foreign line is left out, with a warning."""
    import sys

    path = Path(vault) / HISTORY
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        from studykit.errors import UserError

        raise UserError(f"{path}: cannot read the progress history: {exc.strerror}") from None
    out = []
    for number, line in enumerate(lines, 1):
        entry = _entry(line)
        if entry is None:
            if line.strip():
                print(f"studykit: {path}, line {number}: not a day of progress; left out", file=sys.stderr)
            continue
        out.append(entry)
    return out


def _entry(line: bytes) -> dict | None:
    """One day of the history, or None when the line is not one that studykit wrote."""
    try:
        entry = json.loads(line.decode("utf-8"))
        date.fromisoformat(entry["date"])
        counts = [entry[key] for key in _COUNTS]
        percent = entry["percent"]
    except (UnicodeDecodeError, ValueError, TypeError, KeyError):
        return None
    numbers_ok = all(type(c) is int and c >= 0 for c in counts) and type(percent) in (int, float)
    return entry if numbers_ok and 0 <= percent <= 100 and len(entry["date"]) == 10 else None


def record(vault: Path, totals: Counts, today: date | None = None) -> list[dict]:
    """Put today's totals in the history (replacing an earlier run of today); returns the history."""
    from vault_export.atomic import write_atomic

    day = (today or date.today()).isoformat()
    history = [e for e in read_history(vault) if e["date"] != day]
    history.append({"date": day, **totals.to_json()})
    history.sort(key=lambda e: e["date"])
    path = Path(vault) / HISTORY
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in history))
    return history


# --- the Dashboard note ------------------------------------------------------------------------

def chart_png(history: list[dict]) -> bytes:
    """Percent done and tasks done over time, as a PNG."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    days = [date.fromisoformat(e["date"]) for e in history]
    fig, ax = plt.subplots(figsize=(7, 3), dpi=120)
    ax.plot(days, [e["percent"] for e in history], marker="o", color="#2ea8e5", label="% done")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% done")
    ax2 = ax.twinx()
    ax2.bar(days, [e["done"] for e in history], width=0.6, alpha=0.25, color="#5fb236", label="tasks done")
    ax2.set_ylabel("tasks done")
    ax2.set_ylim(0, max([e["total"] for e in history] + [1]))
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    # The axis starts at the first day with data and spans at least a week (the days to come), so
    # that one or two days do not fill it with repeated labels.
    start = min(days)
    end = max(max(days), start + timedelta(days=6))
    ax.set_xlim(mdates.date2num(start) - 0.6, mdates.date2num(end) + 0.6)
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, (end - start).days // 7 + 1)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    ax.set_title("Learning progress")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def collect(vault: Path, v=None) -> list[ChecklistItem]:
    """Every task in the vault but the Dashboard's own (it counts the others); `v`: the run's Vault."""
    from studykit.checklist import scan_vault
    from vault_export.vault import Vault

    v = v or Vault(vault)
    dashboard = v.find_by_id(DASHBOARD_ID)
    skip = v.link(dashboard) if dashboard else None
    return [it for it in scan_vault(vault) if it.note != skip]


def write_dashboard(vault: Path, *, items: list[ChecklistItem] | None = None, today: date | None = None,
                    dry_run: bool = False, v=None):
    """Write the Dashboard note (progress bars per note and heading, the chart); returns the NoteWrite.
    `v`: the Vault `collect` used, so the vault is indexed once."""
    from studykit.config import load_config
    from studykit.render import render
    from vault_export.sync import write_attachment, write_note
    from vault_export.vault import Vault

    vault = Path(vault)
    v = v or Vault(vault)
    dashboard = v.find_by_id(DASHBOARD_ID)
    totals, notes = summarize(collect(vault, v) if items is None else items)
    history = read_history(vault) if dry_run else record(vault, totals, today)
    chart = write_attachment(v, CHART_NAME, chart_png(history or [{"date": (today or date.today()).isoformat(),
                                                                  **totals.to_json()}]),
                             dashboard, dry_run=dry_run)
    context = {
        "totals": totals, "notes": notes, "bar": bar, "chart": v.link(chart), "days": len(history),
        "today": (today or date.today()).isoformat(), "no_heading": NO_HEADING,
    }
    text = render("dashboard.md.j2", context, vault=vault, config=load_config(vault))
    return write_note(v, DASHBOARD_ID, text, DASHBOARD_FILENAME, folder="", dry_run=dry_run)
