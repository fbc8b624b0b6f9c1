"""Render in a child process held to an address-space limit and a wall-clock limit."""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from briefing.errors import BriefingError, TemplateError

RENDER_SECONDS = 20  # 2,333 table rows render in 2 s, 10,000 in 11 s
# The child's address space (all it maps, not only what it touches), measured for the default
# template: a week's edition of the desk's workbook at 100,000 rows (2,333 figure rows) peaks at
# 267 MB, 10,000 figure rows at 491 MB (in 11 s), so up to about 8,000 rows render; both with
# three charts, matplotlib and numpy mapping about 125 MB of it. The hostile templates in the
# tests stop below it, and the whole tree (with the CLI's 40-50 MB on the seed) under 512 MB.
RENDER_MEGABYTES = 448
HARD_STOP_SECONDS = 3  # past RENDER_SECONDS: the child's own alarm did not stop it in time
# Where the platform has no address-space limit (Windows), the render runs in this process
# with the sandbox's own guards alone, and no time limit.
ISOLATED = sys.platform != "win32"
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)
# -I leaves out the current folder, PYTHONPATH and the user's site (no file beside a template
# can stand in for a module); the child then looks where this process looks: briefing's own
# folder first, then this process's path but for its current folder ("").
CHILD = "import sys; sys.path[:0] = sys.argv[1:]; import briefing.render.child as c; c.serve()"
# A child started ahead of its render imports the Word format (docxtpl, python-docx, Jinja)
# while it waits for the request, as the caller reads and checks the workbook.
AHEAD = CHILD.replace("c.serve()", "import briefing.render.word; c.serve()")
# Ahead of a long read, it imports matplotlib too (about 0.36 s), in case the memo has a chart.
AHEAD_WITH_CHARTS = AHEAD.replace("c.serve()", "import briefing.render.chart; c.serve()")
DONE, FAILED, OUT_OF_MEMORY, OUT_OF_TIME = b"D", b"F", b"M", b"T"


class RenderTimeout(BaseException):
    """Raised inside a render that has run past its time limit.

    A BaseException, as KeyboardInterrupt is, so that no `except Exception` in Jinja, docxtpl
    or the format's own code can take it for a template mistake.
    """


def too_slow(name: str, seconds: int) -> str:
    """The one line that stops a render past its time limit."""
    return f"{name}: the template ran for more than {seconds} s; look for loops inside loops"


def out_of_memory(name: str, megabytes: int = RENDER_MEGABYTES) -> str:
    """The one line that stops a render past its memory limit."""
    return (
        f"{name}: rendering the template needed more than {megabytes} MB of memory; look for "
        "tags that build long texts or lists (~, *, append) again and again, or build a "
        "shorter edition (--days)"
    )


def render_bounded(function: Callable[..., bytes], args: tuple[Any, ...], name: str) -> bytes:
    """`function(*args)` run in a child process within RENDER_MEGABYTES and RENDER_SECONDS.

    `function` must be importable by name (it is pickled by reference); `name` is the
    template as errors call it. A BriefingError in the child is re-raised here as a
    TemplateError with its message; running out of memory or time, or a child killed, is one
    TemplateError line too.
    """
    if not ISOLATED:
        try:
            return function(*args)
        except MemoryError as err:
            raise TemplateError(out_of_memory(name)) from err
    return _answer(_started.pop() if _started else _start(CHILD), function, args, name)


@contextlib.contextmanager
def bounded_beside(
    function: Callable[..., bytes], args: tuple[Any, ...], name: str
) -> Iterator[Callable[[], bytes]]:
    """render_bounded(function, args, name), begun now and run while the block runs.

    The block gets a function that waits for the document (or raises what the render
    raised). An exception leaving the block (a quote error, Ctrl-C) ends the child at once:
    nothing waits for a render no one wants. Where renders run in this process (Windows), the
    document is rendered when it is asked for, after the block's own work.
    """
    if not ISOLATED:
        yield lambda: render_bounded(function, args, name)
        return
    from concurrent.futures import ThreadPoolExecutor  # with logging: 5 ms of each import

    child = _started.pop() if _started else _start(CHILD)
    with ThreadPoolExecutor(1, thread_name_prefix="briefing-render") as waiting:
        answer = waiting.submit(_answer, child, function, args, name)
        try:
            yield answer.result
        except BaseException:
            with contextlib.suppress(OSError):
                child.kill()  # the thread's communicate then ends, and its error is dropped
            raise


def _answer(
    child: subprocess.Popen[bytes], function: Callable[..., bytes], args: tuple[Any, ...], name: str
) -> bytes:
    """Send `child` the request to run `function(*args)`, and read its answer (render_bounded)."""
    seconds, megabytes = RENDER_SECONDS, RENDER_MEGABYTES
    request = pickle.dumps((function, args, seconds, megabytes), protocol=pickle.HIGHEST_PROTOCOL)
    with child:
        try:
            stdout, stderr = child.communicate(request, timeout=seconds + HARD_STOP_SECONDS)
        except subprocess.TimeoutExpired as err:
            _end(child)
            raise TemplateError(too_slow(name, seconds)) from err
        except BaseException:  # Ctrl-C, say: the child goes too, as subprocess.run does it
            _end(child)
            raise
    returncode = child.returncode
    kind, body = stdout[:1], stdout[1:]
    if kind == DONE and returncode == 0:
        return body
    if kind == FAILED:
        raise TemplateError(body.decode("utf-8", "replace"))
    if kind == OUT_OF_TIME:
        raise TemplateError(too_slow(name, seconds))
    if kind == OUT_OF_MEMORY or b"MemoryError" in stderr:
        raise TemplateError(out_of_memory(name, megabytes))
    if returncode < 0:
        # Killed: a C library that aborts when memory runs out, or the system's OOM killer.
        stopped_by = signal.Signals(-returncode).name
        raise TemplateError(
            f"{name}: rendering the template was stopped ({stopped_by}), most likely for "
            f"using more than {megabytes} MB of memory; look for tags that build long texts or "
            "lists (~, *, append) again and again"
        )
    last = (stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
    raise RuntimeError(f"the render's process failed (exit {returncode}: {last})")


# The child started ahead (see started_ahead) that the next render takes, if any.
_started: list[subprocess.Popen[bytes]] = []


def _end(child: subprocess.Popen[bytes]) -> None:
    """Kill a child and reap it, reading nothing more from it: whatever it left in its pipes
    is not waited for."""
    child.kill()
    for stream in (child.stdin, child.stdout, child.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    child.wait()


def _start(command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-I", "-c", command, PACKAGE_ROOT, *filter(None, sys.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_child_environment(),
    )


@contextlib.contextmanager
def started_ahead(charts: bool = False) -> Iterator[None]:
    """Start the next render's child now; within the block, render_bounded takes it.

    Its interpreter and the Word format's imports (about a third of a second) then run
    beside the caller's work instead of after it; with `charts`, matplotlib's too, for a
    caller whose work takes longer than that import. A child the block did not use is ended.
    """
    if not ISOLATED or _started:
        yield
        return
    child = _start(AHEAD_WITH_CHARTS if charts else AHEAD)
    _started.append(child)
    try:
        yield
    finally:
        if child in _started:
            _started.remove(child)
            _end(child)


def _child_environment() -> dict[str, str]:
    # One thread for numpy's BLAS: each thread it starts maps its own buffers, counted against
    # the address-space limit though the charts never use them.
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def serve() -> None:
    """The child's side: read the request on stdin, limit itself, run it, answer on stdout.

    The answer is one byte saying how it ended, then the document or the error's line; the
    process ends as soon as it is written.
    """
    answer = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but the answer goes to the parent's pipe
    function, args, seconds, megabytes = pickle.load(sys.stdin.buffer)
    _limit_address_space(megabytes * 2**20)

    def stop(signum: int, frame: object) -> None:
        raise RenderTimeout

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        reply = DONE + function(*args)
    except BriefingError as err:
        reply = FAILED + str(err).encode("utf-8")
    except MemoryError:
        reply = OUT_OF_MEMORY
    except RenderTimeout:
        reply = OUT_OF_TIME
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    answer.write(reply)
    answer.flush()
    # The parent waits for this process's pipes to close: the interpreter's teardown of
    # matplotlib, numpy and python-docx would add a tenth of a second to every memo. The exit
    # handlers still run: matplotlib's removes the cache folder it makes in the temporary
    # folder where the home folder cannot be written.
    atexit._run_exitfuncs()  # noqa: SLF001 (what the interpreter's exit runs, and no more)
    sys.stderr.flush()
    os._exit(0)


def _limit_address_space(limit: int) -> None:
    import resource  # POSIX only: serve() never runs where ISOLATED is false

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    # A system that refuses the limit still has the time limit.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
