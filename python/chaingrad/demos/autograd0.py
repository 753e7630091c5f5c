"""The notes' autograd0.py: gradients of x*x + y*y.

With `import chaingrad as torch` in place of `import torch`.
"""

import chaingrad as torch


def main() -> None:
    """Prints tensor(2.), tensor(6.) and 10.0 as the notes do."""
    x = torch.tensor(1., requires_grad=True)
    y = torch.tensor(3., requires_grad=True)
    x2 = x*x
    y2 = y*y
    f = x2+y2

    f.backward()

    print(x.grad)    # x.grad = 2
    print(y.grad)    # y.grad = 6
    print(f.item())  # f.value = 10


if __name__ == "__main__":
    main()
