"""The notes' autograd2.py: the gradient of |x|^2.

With `import chaingrad as torch` in place of `import torch`.
"""

import chaingrad as torch


def main() -> None:
    """Prints f= 10.0 and x.grad= tensor([2., 6.]) as the notes do."""
    x = torch.tensor([1.0,3.0], requires_grad=True)
    n = x.norm()
    f = n*n
    f.backward()
    print('f=', f.item())
    print('x.grad=', x.grad)


if __name__ == "__main__":
    main()
