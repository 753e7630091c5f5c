"""The notes' net2.py: 100 steps of gradient descent on f = x*x + y*y with the gate Net."""

from chaingrad.net import Net


def main() -> None:
    """Prints the output of net2.py in the notes."""
    net = Net()
    x = net.variable(1)
    y = net.variable(3)
    x2 = net.mul(x, x)
    y2 = net.mul(y, y)
    net.add(x2, y2)

    net.gradient_descendent()
    print('x=', x.v, 'y=', y.v)


if __name__ == "__main__":
    main()
