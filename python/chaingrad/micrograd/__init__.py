"""micrograd's module layout (`engine`, `nn`) on chaingrad's C++ engine.

A micrograd script runs unchanged once `micrograd.` becomes `chaingrad.micrograd.` in its imports.
"""
