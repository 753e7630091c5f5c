"""The notes' regression1train.py: fit y = 1x + 2x^2 + 3x^3 with RMSprop and torch.save the model.

With `import chaingrad as torch`: nn.Sequential trained by RMSprop, then the whole model saved.
"""

import math
import sys

import chaingrad as torch

# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000)
y = 0+1*x+2*x**2+3*x**3 # torch.sin(x)

# Prepare the input tensor (x, x^2, x^3).
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)


def loss_fn(output, target):
    """Mean squared error."""
    loss = torch.mean((output - target)**2)
    return loss


def GD(inputs, outputs, model, loss_fn, loop_max = 10000, learning_rate = 1e-3):
    """RMSprop on the model's parameters, printing the loss every 100 steps."""
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    for t in range(loop_max):
        predicats = model(inputs)
        loss = loss_fn(predicats, outputs)
        if t % 100 == 99:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main(path: str = "model.ckpt") -> None:
    """Trains, prints the recovered coefficients and saves the model to path."""
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1)
    )
    GD(inputs=xx, outputs=y, model=model, loss_fn=loss_fn)
    linear_layer = model[0]
    print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
    torch.save(model, path)


if __name__ == "__main__":
    main(*sys.argv[1:2])
