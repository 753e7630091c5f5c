"""The notes' torchRegression6custom: a Module of four Parameters.

With `import chaingrad as torch` in place of `import torch`.
"""

import math

import chaingrad as torch


class Polynomial3(torch.nn.Module):
    """a + b x + c x^2 + d x^3 with four scalar parameters."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        """The fitted polynomial as text."""
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3'


def main() -> None:
    """Fits y = 1x + 2x^2 + 3x^3 with SGD in 2000 steps and prints the polynomial."""
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = 0+1*x+2*x**2+3*x**3

    model = Polynomial3()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    for t in range(2000):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 100 == 99:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    print(f'Result: {model.string()}')


if __name__ == "__main__":
    main()
