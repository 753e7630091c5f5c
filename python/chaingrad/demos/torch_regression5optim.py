"""The notes' torchRegression5optim: the same fit with RMSprop.

With `import chaingrad as torch` in place of `import torch`.
"""

import math

import chaingrad as torch


def main() -> None:
    """Fits y = 1x + 2x^2 + 3x^3 in 10000 RMSprop steps and prints the learned coefficients."""
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = 0+1*x+2*x**2+3*x**3

    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)

    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1)
    )
    loss_fn = torch.nn.MSELoss(reduction='sum')

    learning_rate = 1e-3
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    for t in range(10000):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    linear_layer = model[0]
    print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')


if __name__ == "__main__":
    main()
