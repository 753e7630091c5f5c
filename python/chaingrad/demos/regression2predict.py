"""The notes' regression2predict.py: load regression1train's model and predict for x = 2.

With `import chaingrad as torch`; the inputs are x, x^2 and x^3.
"""

import sys

import chaingrad as torch


def main(path: str = "model.ckpt") -> None:
    """Prints predict=tensor([...]) for the input [[2, 4, 8]] (about 34 = 2 + 2*4 + 3*8)."""
    model = torch.load(path)
    inputs = torch.tensor([[2, 4, 8]], dtype=torch.float)
    predict = model(inputs)
    print(f'predict={predict}')


if __name__ == "__main__":
    main(*sys.argv[1:2])
