import numpy as np
import pytest

from rhis_plugin.data import BinarySegAccumulator, signed_distance_map
from rhis_plugin.losses import signed_distance


def test_metrics_on_a_known_confusion():
    target = np.zeros((10, 10), bool)
    target[:, :5] = True                                 # 50 person pixels
    prob = np.zeros((10, 10))
    prob[:, :4] = 0.9                                    # 40 true positives
    prob[:, 9] = 0.8                                     # 10 false positives
    acc = BinarySegAccumulator()
    acc.add(prob, target)
    m = acc.evaluate()
    assert m['iou'] == pytest.approx(40 / 60)
    assert m['dice'] == pytest.approx(80 / 100)
    assert m['precision'] == pytest.approx(40 / 50)
    assert m['recall'] == pytest.approx(40 / 50)
    assert m['accuracy'] == pytest.approx(80 / 100)
    # Ranking: 40 positives at 0.9, 10 negatives at 0.8, then 10 positives and 40 negatives at 0.
    # ROC: (0, 0) -> (0, 0.8) -> (0.2, 0.8) -> (1, 1).
    assert m['auroc'] == pytest.approx(0.2 * 0.8 + 0.8 * (0.8 + 1.0) / 2)


def test_perfect_and_random_auroc_merge_and_valid():
    rng = np.random.default_rng(0)
    target = rng.random((64, 64)) > 0.5
    perfect = BinarySegAccumulator()
    perfect.add(target.astype(float), target)
    assert perfect.evaluate()['auroc'] == pytest.approx(1.0)
    assert perfect.evaluate()['iou'] == 1.0
    noise = BinarySegAccumulator()
    noise.add(rng.random((64, 64)), target)
    assert noise.evaluate()['auroc'] == pytest.approx(0.5, abs=0.05)
    total = BinarySegAccumulator().merge(perfect).merge(noise)
    assert total.evaluate()['num_images'] == 2
    valid = np.zeros((64, 64), bool)
    masked = BinarySegAccumulator()
    masked.add(1 - target.astype(float), target, valid | np.eye(64, dtype=bool))
    assert masked.counts.sum() == 64
    with pytest.raises(ValueError, match='probabilities'):
        BinarySegAccumulator().add(np.full((4, 4), 2.0), np.zeros((4, 4)))


def test_signed_distance_map_matches_the_exact_transform():
    mask = np.zeros((20, 30), np.uint8)
    mask[4:15, 6:20] = 1
    mask[10:18, 22:27] = 1
    expected = signed_distance(__import__('torch').from_numpy(mask).bool()).numpy()
    np.testing.assert_allclose(signed_distance_map(mask), expected, atol=1e-3)
    assert signed_distance_map(mask)[9, 12] == pytest.approx(6.0)       # middle row of the first box
    assert signed_distance_map(mask)[1, 12] == pytest.approx(-3.0)      # three rows above it
    assert (signed_distance_map(np.zeros((5, 5))) < 0).all()
