from rhis_plugin.models import build_rhis
from rhis_plugin.utils.complexity import measure_complexity


def test_counts_scale_with_roi_size():
    small = measure_complexity(build_rhis('rhis_b0_64x48'), (64, 64))
    large = measure_complexity(build_rhis('rhis_b0_128x96'), (64, 64))
    assert small.params_total == large.params_total and small.params_head < small.params_total
    assert 3.5 < large.macs_per_roi / small.macs_per_roi < 4.5     # 4x the pixels
    assert small.macs_per_image == large.macs_per_image > 0
