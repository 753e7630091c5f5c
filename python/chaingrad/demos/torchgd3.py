"""The notes' torchGd3.py: descend |x| to its minimum at 0.

With `import chaingrad as torch` in place of `import torch`.
"""

import chaingrad as torch


def main() -> None:
    """Prints x= tensor([-0.0018, -0.0035], requires_grad=True) as the notes do."""
    x = torch.tensor([1.0,2.0], requires_grad=True)

    step = 0.01
    for i in range(500):
        z = x.norm()
        z.backward()
        with torch.no_grad():
            x -= step * x.grad
            x.grad.zero_()
    print('x=', x)


if __name__ == "__main__":
    main()
