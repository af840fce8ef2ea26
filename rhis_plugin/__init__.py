"""rhis_plugin: give any object detector per-person instance masks."""
from .version import __version__

__all__ = ['__version__']
