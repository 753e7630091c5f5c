"""The notes' LinearModel: nn.Linear(1, 1) trained by SGD on MSELoss with gradient clipping.

The notes' chapter "backpropagation", with `import chaingrad as torch` and its nn/optim.
"""

import chaingrad as torch
import chaingrad.nn as nn
import chaingrad.optim as optim


class LinearModel(nn.Module):
    """y = w x + b."""

    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


def main() -> None:
    """Prints 'Epoch [k/100], Loss: ...' with the loss falling, as the notes do."""
    model = LinearModel()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.MSELoss()

    x_train = torch.Tensor([[1.0], [2.0], [3.0], [4.0]])
    y_train = torch.Tensor([[2.0], [4.0], [6.0], [8.0]])

    for epoch in range(100):
        y_pred = model(x_train)
        loss = criterion(y_pred, y_train)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        print('Epoch [{}/{}], Loss: {:.4f}'.format(epoch+1, 100, loss.item()))


if __name__ == "__main__":
    main()
