"""The benchmark helpers that are not timings: the call counter and the busy neighbour."""

from chaingrad.bench.common import busy_neighbour, python_calls


def _leaf() -> int:
    return 1


def _two_leaves_and_a_builtin() -> int:
    return _leaf() + _leaf() + len("ab")


def test_python_calls_counts_functions_and_builtins_inside_fn():
    assert python_calls(_two_leaves_and_a_builtin) == 4  # itself, _leaf twice, len
    assert python_calls(_leaf) == 1


def test_python_calls_removes_its_hook_even_when_fn_raises():
    import sys

    def boom() -> None:
        raise RuntimeError("boom")

    try:
        python_calls(boom)
    except RuntimeError:
        pass
    assert sys.getprofile() is None


def test_busy_neighbour_runs_inside_the_block_only():
    with busy_neighbour() as neighbour:
        assert neighbour.poll() is None
    assert neighbour.poll() is not None
