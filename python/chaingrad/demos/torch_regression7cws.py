"""The notes' torchRegression7cws: dynamic control flow in forward and SGD with momentum.

With `import chaingrad as torch`; forward reuses a parameter.
"""

import math
import random

import chaingrad as torch


class DynamicNet(torch.nn.Module):
    """A cubic plus a randomly chosen number of x^4, x^5 terms sharing the parameter e."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))
        self.e = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x ** exp
        return y

    def string(self):
        """The fitted polynomial as text."""
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?'


def main() -> None:
    """Trains for 30000 steps with SGD(lr=1e-8, momentum=0.9) and prints the polynomial."""
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = 0+1*x+2*x**2+3*x**3

    model = DynamicNet()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    for t in range(30000):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 2000 == 1999:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    print(f'Result: {model.string()}')


if __name__ == "__main__":
    main()
