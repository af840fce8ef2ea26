"""Small helpers shared by the training hooks."""
from __future__ import annotations

from typing import Callable

import torch.nn as nn
from mmengine.model import is_model_wrapper

__all__ = ['find_modules']


def find_modules(model: nn.Module, predicate: Callable[[nn.Module], bool], what: str) -> list[nn.Module]:
    """Submodules of ``model`` (unwrapped from DDP and the like) that satisfy ``predicate``; at least one."""
    if is_model_wrapper(model):
        model = model.module
    found = [module for module in model.modules() if predicate(module)]
    if not found:
        raise ValueError(f'the model ({type(model).__name__}) has no {what}')
    return found
