"""The notes' net1.py: forward and backward through f = x*x + y*y with the gate Net."""

from chaingrad.net import Net


def main() -> None:
    """Prints the output of net1.py in the notes."""
    net = Net()
    x = net.variable(1)
    y = net.variable(3)
    x2 = net.mul(x, x)
    y2 = net.mul(y, y)
    o = net.add(x2, y2)

    print('net.forward()=', net.forward())
    print('net.backwward()')
    net.backward()
    print('x=', x, 'y=', y, 'o=', o)
    print('gfx = x.g/o.g = ', x.g/o.g, 'gfy = y.g/o.g=', y.g/o.g)


if __name__ == "__main__":
    main()
