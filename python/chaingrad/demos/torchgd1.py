"""The notes' torchGd1.py: gradient descent on x*x - 4x + 4.

With `import chaingrad as torch` in place of `import torch`.
"""

import chaingrad as torch

dtype = torch.float


def loss_fn(x):
    """(x - 2)^2, expanded."""
    loss = x*x-4*x+4
    return loss


def GD(x, loss_fn, loop_max = 10000, learning_rate = 1e-3):
    """Plain gradient descent on one parameter, printing every 100 steps."""
    for t in range(loop_max):
        loss = loss_fn(x)
        if t % 100 == 99:
            print(t, 'x=', x.item(), 'loss=', loss.item())
        loss.backward()
        with torch.no_grad():
            x -= learning_rate * x.grad
            x.grad = None


def main() -> None:
    """Starts from a random x and converges to x = 2, loss 0."""
    x = torch.randn((), dtype=dtype, requires_grad=True)
    GD(x, loss_fn, loop_max = 5000)
    print(f'Result: x = {x.item()} loss={loss_fn(x)}')


if __name__ == "__main__":
    main()
