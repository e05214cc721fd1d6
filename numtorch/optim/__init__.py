"""Optimizers and learning-rate schedulers with torch's state format and numerics.

Every optimizer follows torch's single-tensor (``foreach=False``) reference arithmetic in the
parameter's dtype and writes torch's ``state_dict`` layout, so state dicts move between torch
and numtorch both ways. Updates run on the NumPy arrays in place: ``optimizer.py`` drives them,
each algorithm file holds only its math (``_kernel``), and ``_flat.py`` lets a group of small
parameters be updated with one NumPy call per stage instead of one per parameter.
"""
from . import lr_scheduler  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .adafactor import Adafactor  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
from .adamax import Adamax  # noqa: F401
from .asgd import ASGD  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from .nadam import NAdam  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .radam import RAdam  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .rprop import Rprop  # noqa: F401
from .sgd import SGD  # noqa: F401
from . import swa_utils  # noqa: F401,E402

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam",
           "RAdam", "Adadelta", "Rprop", "ASGD", "LBFGS", "Adafactor", "lr_scheduler",
           "swa_utils"]
