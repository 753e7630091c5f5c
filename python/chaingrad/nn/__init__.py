"""chaingrad.nn: PyTorch's Module, Parameter, layers, losses, init and utils on chaingrad tensors."""

from chaingrad.nn import functional, init, utils
from chaingrad.nn.layers import (
    ELU,
    GELU,
    BatchNorm1d,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Hardtanh,
    Identity,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    Unflatten,
)
from chaingrad.nn.module import Module
from chaingrad.nn.parameter import Parameter

__all__ = ["Module", "Parameter", "Linear", "Sequential", "Flatten", "ReLU", "Tanh", "Sigmoid",
           "Softmax", "LogSoftmax", "Dropout", "Identity", "MSELoss", "L1Loss", "CrossEntropyLoss",
           "NLLLoss", "BCEWithLogitsLoss", "GELU", "SiLU", "LeakyReLU", "ELU", "Softplus", "Hardtanh",
           "LogSigmoid", "Unflatten", "ModuleList", "ModuleDict", "Embedding", "BatchNorm1d", "LayerNorm",
           "functional", "init", "utils"]
