"""A progress bar for long runs: points done / total, points/s, ETA.

On a terminal it redraws one line; in a Jupyter notebook it updates one
output (an HTML progress bar and the same line) in place; elsewhere (logs,
CI) it prints a line at most every `interval` seconds. Nothing is shown for
runs that finish within `delay` seconds.
"""
import sys
import time


def _hms(seconds):
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def in_jupyter():
    """True inside a Jupyter kernel (where stderr is not a terminal but an
    output cell can be updated in place)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class _NotebookDisplay:
    """One notebook output, updated in place."""

    def __init__(self):
        from IPython.display import HTML, display
        self._html = HTML
        self.handle = display(HTML(""), display_id=True)

    def show(self, frac, line):
        import html
        self.handle.update(self._html(
            f'<progress value="{frac:.4f}" max="1" style="width: 30em"></progress> '
            f"<code>{html.escape(line)}</code>"))


class Progress:
    def __init__(self, total, *, done=0, enabled=True, stream=None,
                 delay=2.0, interval=10.0, width=30):
        self.total = int(total)
        self.start_done = self.done = int(done)
        self.enabled = enabled
        self.notebook = None
        if enabled and stream is None and in_jupyter():
            self.notebook = _NotebookDisplay()
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.notebook is not None or getattr(self.stream, "isatty", lambda: False)()
        self.delay = delay
        self.interval = interval if not self.tty else 0.2
        self.width = width
        self.t0 = time.perf_counter()
        self.last = None
        self.shown = False

    def line(self):
        elapsed = time.perf_counter() - self.t0
        frac = self.done / self.total if self.total else 1.0
        new = self.done - self.start_done
        rate = new / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = _hms(left / rate) if rate > 0 else "?"
        filled = int(round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        return (f"[{bar}] {100 * frac:5.1f}%  {self.done:,}/{self.total:,} points  "
                f"{rate:,.0f} points/s  elapsed {_hms(elapsed)}  ETA {eta}")

    def update(self, points):
        self.done += int(points)
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.t0 < self.delay:
            return
        if self.last is not None and now - self.last < self.interval and self.done < self.total:
            return
        self.last = now
        self.shown = True
        if self.notebook is not None:
            self.notebook.show(self.done / self.total if self.total else 1.0, self.line())
            return
        if self.tty:
            self.stream.write("\r" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self):
        if self.notebook is not None:
            if self.shown:
                self.notebook.show(self.done / self.total if self.total else 1.0, self.line())
            return
        if self.enabled and self.shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()
