"""Data pipeline steps (datasets are mmdet's CocoDataset)."""
from .transforms import MarkAnnotated, PackPeopleSegInputs, PeopleSegTargets

__all__ = ['MarkAnnotated', 'PackPeopleSegInputs', 'PeopleSegTargets']
