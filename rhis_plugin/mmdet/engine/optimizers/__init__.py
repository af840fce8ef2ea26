"""Optimizer wrapper constructors."""
from .frozen_params_optim_wrapper_constructor import FrozenParamsOptimWrapperConstructor

__all__ = ['FrozenParamsOptimWrapperConstructor']
