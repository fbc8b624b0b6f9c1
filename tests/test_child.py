"""The render's child process: its answer, its memory and time limits, and how it can end."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

import pytest

from briefing.errors import TemplateError
from briefing.render import child
from briefing.render.child import out_of_memory, render_bounded, too_slow


def doubled(text: str) -> bytes:
    return (text * 2).encode()


def refused(text: str) -> bytes:
    raise TemplateError(f"t.docx: {text}; fix it")


def greedy(megabytes: int) -> bytes:
    return bytes(bytearray(megabytes * 2**20))


def deaf_to_the_alarm(seconds: int) -> bytes:
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(seconds)
    return b"woke"


def killed(signum: int) -> bytes:
    os.kill(os.getpid(), signum)
    return b"alive"


def crashed(status: int) -> bytes:
    os._exit(status)


def out_of_memory_here(size: int) -> bytes:
    raise MemoryError


def test_the_child_answers_with_the_document() -> None:
    assert render_bounded(doubled, ("ab",), "t.docx") == b"abab"


def test_a_template_error_in_the_child_is_the_same_line_here() -> None:
    with pytest.raises(TemplateError) as caught:
        render_bounded(refused, ("bad tag",), "t.docx")
    assert str(caught.value) == "t.docx: bad tag; fix it"


@pytest.mark.parametrize(
    ("function", "argument", "expected"),
    [
        pytest.param(greedy, 1024, out_of_memory("t.docx"), id="a-gigabyte-in-one-piece"),
        pytest.param(
            killed,
            signal.SIGKILL,
            "t.docx: rendering the template was stopped (SIGKILL), most likely for using more "
            "than 448 MB of memory; look for tags that build long texts or lists (~, *, append) "
            "again and again",
            id="killed",
        ),
    ],
)
def test_a_child_out_of_memory_or_killed_is_one_line(
    function: object, argument: int, expected: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        render_bounded(function, (argument,), "t.docx")  # type: ignore[arg-type]
    assert str(caught.value) == expected


def test_a_child_deaf_to_its_alarm_is_killed_past_the_hard_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(child, "RENDER_SECONDS", 1)
    monkeypatch.setattr(child, "HARD_STOP_SECONDS", 1)
    with pytest.raises(TemplateError) as caught:
        render_bounded(deaf_to_the_alarm, (60,), "t.docx")
    assert str(caught.value) == too_slow("t.docx", 1)


def test_a_child_that_crashes_is_an_unexpected_failure() -> None:
    with pytest.raises(RuntimeError) as caught:
        render_bounded(crashed, (3,), "t.docx")
    assert str(caught.value) == "the render's process failed (exit 3: no output)"


def test_without_an_address_space_limit_the_render_runs_in_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(child, "ISOLATED", False)
    assert render_bounded(doubled, ("ab",), "t.docx") == b"abab"
    with pytest.raises(TemplateError) as caught:
        render_bounded(out_of_memory_here, (1,), "t.docx")
    assert str(caught.value) == out_of_memory("t.docx")


class _Started:
    """Notes each child render_bounded or started_ahead starts (monkeypatched Popen)."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []
        self.start = subprocess.Popen  # the real one, before the test replaces it

    def popen(self, *args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started: subprocess.Popen[bytes] = self.start(*args, **kwargs)
        self.children.append(started)
        return started

    def commands(self) -> list[str]:
        """The code each child was started to run (python -I -c CODE ...)."""
        return [str(list(c.args)[3]) for c in self.children]  # type: ignore[arg-type]


def test_a_child_started_ahead_is_the_one_that_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    started = _Started()
    monkeypatch.setattr(subprocess, "Popen", started.popen)
    with child.started_ahead():
        assert len(started.children) == 1  # before any render is asked for
        assert started.commands() == [child.AHEAD]
        assert render_bounded(doubled, ("ab",), "t.docx") == b"abab"
        assert render_bounded(doubled, ("cd",), "t.docx") == b"cdcd"  # a child of its own
    assert started.commands() == [child.AHEAD, child.CHILD]
    assert all(c.returncode == 0 for c in started.children)


def test_a_child_started_ahead_and_not_used_is_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    started = _Started()
    monkeypatch.setattr(subprocess, "Popen", started.popen)
    with pytest.raises(TemplateError), child.started_ahead():
        raise TemplateError("the workbook failed before the render")
    (ahead,) = started.children
    assert ahead.returncode == -signal.SIGKILL
    with child.started_ahead():
        pass  # a second block starts a child of its own, the first one being gone
    assert len(started.children) == 2
    assert started.children[1].returncode == -signal.SIGKILL


def sleepy(seconds: int) -> bytes:
    time.sleep(seconds)
    return b"awake"


def test_a_render_beside_gives_its_document_or_its_error_when_asked() -> None:
    with child.bounded_beside(doubled, ("ab",), "t.docx") as document:
        assert document() == b"abab"
    with (
        child.bounded_beside(refused, ("bad tag",), "t.docx") as document,
        pytest.raises(TemplateError) as caught,
    ):
        document()
    assert str(caught.value) == "t.docx: bad tag; fix it"


@pytest.mark.parametrize("stop", [KeyboardInterrupt, TemplateError], ids=["ctrl-c", "an-error"])
def test_leaving_a_render_beside_by_an_exception_ends_its_child_at_once(
    monkeypatch: pytest.MonkeyPatch, stop: type[BaseException]
) -> None:
    """Nothing waits for a render no one wants: the child, asleep for a minute, is killed."""
    started = _Started()
    monkeypatch.setattr(subprocess, "Popen", started.popen)
    with pytest.raises(stop), child.bounded_beside(sleepy, (60,), "t.docx"):
        raise stop("the quotes failed")
    (render,) = started.children
    assert render.returncode == -signal.SIGKILL


def test_without_isolation_a_render_beside_runs_when_its_document_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(child, "ISOLATED", False)
    with pytest.raises(KeyboardInterrupt), child.bounded_beside(sleepy, (60,), "t.docx"):
        raise KeyboardInterrupt  # before the document was asked for: never rendered
    with child.bounded_beside(doubled, ("ab",), "t.docx") as document:
        assert document() == b"abab"
