"""The people-seg stage (RHIS stage 1) as mmengine models, placed as mmseg places segmentors."""
from .people_segmentor import PeopleSegmentor
from .peopleseg_distiller import PeopleSegDistiller

__all__ = ['PeopleSegmentor', 'PeopleSegDistiller']
