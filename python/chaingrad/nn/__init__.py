"""chaingrad.nn: PyTorch's Module, Parameter, layers, losses, init and utils on chaingrad tensors."""

from chaingrad.nn import functional, init, utils
from chaingrad.nn.layers import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Identity,
    L1Loss,
    Linear,
    LogSoftmax,
    MSELoss,
    NLLLoss,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from chaingrad.nn.module import Module
from chaingrad.nn.parameter import Parameter

__all__ = ["Module", "Parameter", "Linear", "Sequential", "Flatten", "ReLU", "Tanh", "Sigmoid",
           "Softmax", "LogSoftmax", "Dropout", "Identity", "MSELoss", "L1Loss", "CrossEntropyLoss",
           "NLLLoss", "BCEWithLogitsLoss", "functional", "init", "utils"]
