"""Pipeline steps: the people-seg stage's targets and packing, the annotated-sample marker, and copy-paste of people."""
from .mark_annotated import MarkAnnotated
from .pack_peopleseg_inputs import PackPeopleSegInputs
from .peopleseg_targets import PeopleSegTargets
from .rhis_copy_paste import RHISCopyPaste

__all__ = ['MarkAnnotated', 'PackPeopleSegInputs', 'PeopleSegTargets', 'RHISCopyPaste']
