"""chaingrad.optim: SGD, RMSprop, Adam, AdamW and learning-rate schedules, as torch.optim."""

from chaingrad.optim import lr_scheduler
from chaingrad.optim.algorithms import SGD, Adam, AdamW, RMSprop
from chaingrad.optim.optimizer import Optimizer

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "lr_scheduler"]
