"""Pipeline steps: the people-seg stage's targets and packing, and the annotated-sample marker."""
from .mark_annotated import MarkAnnotated
from .pack_peopleseg_inputs import PackPeopleSegInputs
from .peopleseg_targets import PeopleSegTargets

__all__ = ['MarkAnnotated', 'PackPeopleSegInputs', 'PeopleSegTargets']
