"""Helpers the models share: the distillers' frozen teacher and the batch images back in RGB [0, 1]."""
from .frozen_teacher import FrozenTeacherMixin
from .images import images_rgb01

__all__ = ['FrozenTeacherMixin', 'images_rgb01']
