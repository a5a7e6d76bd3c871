"""The process that runs one note's code cells: `python -P kernel.py`, standard library only.

It reads one JSON job from stdin (token, cells, keep_going, figure folder and stem), then runs
the cells in order in one shared namespace. Cell output (stdout and stderr, also of child
processes) goes to fd 1 and 2, which the parent reads as one stream; between cells the kernel
writes marker lines `\\x1e<token> {json}\\n` on fd 1 so the parent can split that stream by cell.
It is started as a script with -P so that its own imports never pick up a file from the note's
folder; the folder is put on sys.path for the cells afterwards, as Jupyter does.

Every process the cells start must end with the run, also one that leaves the session
(`setsid`) or is orphaned by a double fork. On Linux the kernel is a child subreaper (prctl), so
such a process stays its descendant in /proc's parent chain: the kernel kills its whole tree
before it exits, and at a timeout studykit stops the kernel and kills the tree. If the kernel
itself dies, its descendants lose that chain; they still carry the run's token in their
environment (studykit sets a variable to it), which is how studykit finds them then. Finding,
stopping and killing are studykit/proctree.py's, loaded here by its path (standard library only).
"""

import json
import linecache
import os
import re
import sys
import time
import types

KERNEL_FILE = os.path.abspath(__file__)


def _load_proctree():
    """studykit/proctree.py, loaded by its path under a private name: the cells see no `studykit` module."""
    import importlib.util  # already imported at start-up by site, so this costs nothing

    path = os.path.join(os.path.dirname(os.path.dirname(KERNEL_FILE)), "proctree.py")
    spec = importlib.util.spec_from_file_location("_studykit_proctree", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


proctree = _load_proctree()  # while studykit reads the note, before the job arrives


def marker(token, event):
    """Write one marker line after everything the cell printed so far."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, ("\x1e" + token + " " + json.dumps(event) + "\n").encode("utf-8"))


def cell_filename(index):
    return "<cell %d>" % index


def format_error(exc):
    """The traceback from the cell's own frame down, with `Cell [3], line 2` for cell frames."""
    import traceback  # only a failing cell needs it: a clean run starts faster without

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == KERNEL_FILE:
        tb = tb.tb_next
    exc.__traceback__ = tb
    if isinstance(exc, SystemExit):
        # Jupyter's wording: a cell that exits is not a crash, but the run stops.
        return "SystemExit: %r (the cell called sys.exit)\n" % (exc.code,)
    text = "".join(traceback.format_exception(exc))
    return re.sub(r'File "<cell (\d+)>", line (\d+)', r"Cell [\1], line \2", text)


def save_figures(figdir, stem, index):
    """Save the matplotlib figures the cell left open as PNGs, then close them."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    names = []
    for n, num in enumerate(plt.get_fignums(), start=1):
        name = "%s-cell%d%s.png" % (stem, index, "" if n == 1 else "-%d" % n)
        try:
            plt.figure(num).savefig(os.path.join(figdir, name), format="png")
            names.append(name)
        except Exception as exc:  # a broken figure must not lose the cell's other output
            sys.stderr.write("could not save figure %d: %s\n" % (num, exc))
    plt.close("all")
    return names


def run_cell(cell, namespace):
    """Run one cell; return None if it ran cleanly, else (error text, exception name, its value)."""
    source = cell["source"]
    filename = cell_filename(cell["index"])
    # Registered so tracebacks can show the cell's source lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        code = compile(source, filename, "exec")
        exec(code, namespace)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt are the cell's too
        value = repr(exc.code) if isinstance(exc, SystemExit) else str(exc)
        return format_error(exc), type(exc).__name__, value
    return None


def _has_children():
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:  # reap the finished ones
            pass
        return True
    except ChildProcessError:
        return False


def _kill_descendants():
    """At the end of the run: what the cells left running goes with the kernel."""
    # No child left means, for a subreaper, no descendant at all: the usual case costs no /proc walk.
    if _has_children() and os.path.isdir("/proc"):
        me = os.getpid()
        proctree.kill_tree(lambda: proctree.tree({me}))


def run_job(job):
    """Run the job's cells in a fresh __main__; return whether one failed."""
    # Cells that read input() get end-of-file, never the job.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.path.insert(0, os.getcwd())
    # A fresh __main__ so classes defined in cells pickle as they would in a script.
    main_module = types.ModuleType("__main__")
    main_module.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = main_module
    sys.argv = [""]
    token = job["token"]
    failed = False
    for cell in job["cells"]:
        marker(token, {"start": cell["index"]})
        started = time.perf_counter()
        error = run_cell(cell, main_module.__dict__)
        if error is not None:
            sys.stdout.flush()
            sys.stderr.write(error[0])
        figures = save_figures(job["figdir"], job["stem"], cell["index"])
        marker(token, {
            "done": cell["index"],
            "status": "ok" if error is None else "error",
            "duration": time.perf_counter() - started,
            "figures": figures,
            "error": error,
        })
        if error is not None:
            failed = True
            if not job["keep_going"]:
                break
    marker(token, {"end": True})
    return failed


def main():
    job = json.loads(sys.stdin.read())
    with proctree.subreaper():
        failed = run_job(job)
        _kill_descendants()
    # A normal exit, as a script would, so files the cells left open are flushed.
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
