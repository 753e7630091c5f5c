"""The notes' torchGd2.py: the same descent over a parameter list.

With `import chaingrad as torch` in place of `import torch`.
"""

import chaingrad as torch

dtype = torch.float


def loss_fn(parameters):
    """(x - 2)^2 of the first parameter."""
    x = parameters[0]
    loss = x*x-4*x+4
    return loss


def GD(parameters, loss_fn, loop_max = 10000, learning_rate = 1e-3):
    """Gradient descent on every parameter, printing every 100 steps."""
    for t in range(loop_max):
        loss = loss_fn(parameters)
        if t % 100 == 99:
            print(t, 'parameters=', parameters, 'loss=', loss.item())
        loss.backward()
        with torch.no_grad():
            for x in parameters:
                x -= learning_rate * x.grad
                x.grad = None


def main() -> None:
    """Starts from a random x and converges to [tensor(1.9999, requires_grad=True)], loss 0."""
    x = torch.randn((), dtype=dtype, requires_grad=True)
    params = [x]
    GD(params, loss_fn, loop_max = 5000)
    print(f'Result: parameters = {params} loss={loss_fn(params)}')


if __name__ == "__main__":
    main()
