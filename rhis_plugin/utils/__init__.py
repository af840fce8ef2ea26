"""Utilities shared by tools and benchmarks: timing, memory, model complexity and checkpoint reading."""
from .benchmark import current_rss_mb, median_latency, peak_rss_mb, write_json
from .checkpoint import checkpoint_safe_globals, load_checkpoint_file
from .complexity import count_macs, measure_complexity

__all__ = ['current_rss_mb', 'median_latency', 'peak_rss_mb', 'write_json', 'checkpoint_safe_globals',
           'load_checkpoint_file', 'count_macs', 'measure_complexity']
