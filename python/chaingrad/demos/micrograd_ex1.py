"""micrograd's README example (ex1.py in the notes): prints 24.7041, 138.8338, 645.5773."""

from typing import Any, Tuple

from chaingrad.micrograd.engine import Value


def expression(value: Any = Value) -> Tuple[Any, Any, Any]:
    """Builds the README's expression g(a, b) from the given Value type; returns (a, b, g)."""
    a = value(-4.0)
    b = value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return a, b, g


def main() -> None:
    """Evaluates the example expression and its gradients with respect to a and b."""
    a, b, g = expression()
    print(f'{g.data:.4f}')
    g.backward()
    print(f'{a.grad:.4f}')
    print(f'{b.grad:.4f}')


if __name__ == "__main__":
    main()
