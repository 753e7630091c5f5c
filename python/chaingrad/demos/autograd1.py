"""The notes' autograd1.py: f = x*x + y*y in one line.

With `import chaingrad as torch` in place of `import torch`.
"""

import chaingrad as torch


def main() -> None:
    """Prints tensor(2.), tensor(6.) and 10.0 as the notes do."""
    x = torch.tensor(1.0, requires_grad=True)
    y = torch.tensor(3.0, requires_grad=True)
    f = x*x+y*y
    f.backward()     # automatically calculates the gradient
    print(x.grad)    # df/dx = 2
    print(y.grad)    # df/dy = 6
    print(f.item())


if __name__ == "__main__":
    main()
