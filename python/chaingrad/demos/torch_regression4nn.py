"""The notes' torchRegression4nn: nn.Linear trained by manual SGD.

With `import chaingrad as torch` in place of `import torch`.
"""

import math

import chaingrad as torch


def main() -> None:
    """Fits y = 1x + 2x^2 + 3x^3 in 2000 steps and prints the learned coefficients."""
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = 0+1*x+2*x**2+3*x**3

    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)

    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1)
    )
    loss_fn = torch.nn.MSELoss(reduction='sum')

    learning_rate = 1e-6
    for t in range(2000):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            print(t, loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad

    linear_layer = model[0]
    print(f'linear_layer.weight={linear_layer.weight}')
    print(f'linear_layer.weight[:]={linear_layer.weight[:]}')
    print(f'linear_layer.weight[:,0]={linear_layer.weight[:,0]}')
    print(f'linear_layer.weight[:,1]={linear_layer.weight[:,1]}')
    print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')


if __name__ == "__main__":
    main()
