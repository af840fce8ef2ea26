import numpy as np

from rhis_plugin.data.occlusion import others_in_box


def test_others_in_box():
    a = np.zeros((10, 10), bool)
    b = np.zeros((10, 10), bool)
    c = np.zeros((10, 10), bool)
    a[0:6, 0:6] = True          # big box
    b[4:8, 4:8] = True          # 4 of its 16 pixels inside a's box
    c[9, 9] = True              # far away
    fractions = others_in_box([a, b, c, np.zeros((10, 10), bool)])
    assert np.allclose(fractions, [4 / 16, 4 / 36, 0.0, 0.0])
