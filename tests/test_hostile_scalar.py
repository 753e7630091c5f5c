"""Hostile programs against the scalar engine (Value, the fused neurons): callbacks and lists
that change under it must never crash the interpreter."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

from chaingrad import Value, _core


def test_weakref_callback_reaching_a_dying_value():
    leak = []
    a = Value(1.0)
    b = a + 1
    r = weakref.ref(a, lambda _: leak.append(b._prev[0]))
    del a
    assert r() is None and leak[0].data == 1.0


def test_list_mutated_while_neuron_reads_it():
    class Sneaky:
        @property
        def __class__(self):
            xs.clear()
            return np.float64

    xs = [Sneaky(), Value(2.0), Value(3.0)]
    with pytest.raises(TypeError):
        _core.neuron([1.0, 1.0, 1.0], 0.0, xs, False)
