"""The progress line: redrawn with a carriage return on a terminal, plain lines elsewhere, and an
estimate of the time left that learns from the suites already run."""

from __future__ import annotations

import io

from chaingrad.bench.progress import Progress, expected_seconds, format_duration


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_and_no_carriage_return_when_not_a_terminal():
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress([("scalar", 10.0), ("tensor", 30.0)], stream=stream, clock=clock)
    progress.start_suite("scalar")
    progress.phase("moons training step ...")
    for _ in range(100):  # repeats do not add lines to a log
        clock.now += 1.0
        progress.tick()
    progress.finish()
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 2 and lines[1].startswith("[1/2 scalar] moons training step · 0:00 elapsed")


def test_one_line_redrawn_in_place_on_a_terminal():
    stream, clock = Terminal(), FakeClock()
    progress = Progress([("scalar", 10.0)], stream=stream, clock=clock)
    progress.start_suite("scalar")
    clock.now = 5.0
    progress.tick()
    progress.finish()
    text = stream.getvalue()
    assert "\n" not in text and text.count("\r") == 4  # two draws, then the line blanked
    assert "0:05 elapsed, about 0:05 left" in text and text.endswith("\r")


def test_eta_rescales_by_how_long_finished_suites_took():
    clock = FakeClock()
    progress = Progress([("scalar", 10.0), ("tensor", 30.0), ("nn", 60.0)], stream=io.StringIO(), clock=clock)
    assert progress.remaining() == 100.0
    progress.start_suite("scalar")
    clock.now = 20.0  # scalar took twice its usual time: the machine is slower
    progress.start_suite("tensor")
    assert progress.remaining() == 2 * (30 + 60)
    clock.now = 50.0
    assert progress.remaining() == 60 - 30 + 2 * 60
    assert "[2/3 tensor] tensor · 0:50 elapsed, about 2:30 left" == progress.line()
    clock.now = 200.0  # tensor overran its estimate: it is taken as nearly done, never as done
    assert progress.remaining() == 0.1 * 180 + 2 * 60


def test_expected_seconds_and_durations():
    assert expected_seconds("makemore", False, 1) < expected_seconds("makemore", False, 2)
    assert expected_seconds("scalar", True, 1) == expected_seconds("scalar", True, 2)
    assert expected_seconds("nn", False, 2, contended=True) > expected_seconds("nn", False, 2)
    assert format_duration(65) == "1:05" and format_duration(3725) == "1:02:05" and format_duration(-3) == "0:00"
