"""The notes' backpropagation notebook: loss = (w*x - y)^2.

With `import chaingrad as torch` in place of `import torch`.
"""

import chaingrad as torch


def forward(x, y, w):
    """The squared error of the prediction w * x."""
    y_predicted = w * x
    loss = (y_predicted - y)**2
    return loss


def main() -> None:
    """Prints the notebook's outputs: the loss, the gradient tensor(-2.), then tensor(0.)."""
    x = torch.tensor(1.0)
    y = torch.tensor(2.0)
    w = torch.tensor(1.0, requires_grad=True)
    print(forward(x, y, w))  # (2-1)^2 = 1

    loss = forward(x, y, w)
    loss.backward()
    print("loss w.r.t. w:", w.grad)
    print(w.grad.zero_())


if __name__ == "__main__":
    main()
