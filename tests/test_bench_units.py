"""The bench's number formatting: SI prefixes, three significant digits, ratios and their ranges."""

import pytest

from chaingrad.bench.units import format_ratio, format_ratio_range, format_value


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (6.17e-4, "s", "617 µs"),
        (617, "us", "617 µs"),
        (24740, "steps/s", "24.7 k steps/s"),
        (69610, "samples/s", "69.6 k samples/s"),
        (5.8e-4, "s/step", "580 µs/step"),
        (115.3, "ns/node", "115 ns/node"),
        (1234.0, "ns/op", "1.23 µs/op"),
        (999.6, "ns/op", "1.00 µs/op"),  # rounding carries into the next prefix
        (0.9996, "ms", "1.00 ms"),
        (125.0, "s", "125 s"),  # seconds never become ks
        (101.2, "bytes/node", "101 B/node"),
        (199.4, "GFLOP/s", "199 GFLOP/s"),
        (1.2, "TFLOP/s", "1.20 TFLOP/s"),
        (2474.0, "GB/s", "2.47 TB/s"),
        (36, "calls", "36 calls"),
        (1500, "calls", "1.50 k calls"),
        (0.0, "ms", "0 s"),
        (None, "s", "-"),
        (float("nan"), "s", "-"),
    ],
)
def test_format_value_uses_si_prefixes(value, unit, text):
    assert format_value(value, unit) == text


def test_format_value_never_prints_exponents():
    for exponent in range(-12, 13):
        for unit in ("s", "ns/op", "steps/s", "GFLOP/s", "bytes/node"):
            assert "e" not in format_value(2.474 * 10.0**exponent, unit).split()[0]


@pytest.mark.parametrize(
    "ratio, text", [(0.812, "0.81x"), (3.04, "3.04x"), (40.23, "40.2x"), (1074.2, "1,074x"), (None, "-")]
)
def test_format_ratio(ratio, text):
    assert format_ratio(ratio) == text


def test_format_ratio_range_shows_min_and_max_unless_they_agree():
    assert format_ratio_range(1.49, 1.46, 1.55) == "1.49x (1.46–1.55)"
    assert format_ratio_range(5.8, 5.8, 5.8) == "5.80x"
    assert format_ratio_range(None, None, None) == "-"
