import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from rhis_plugin.data.coco import encode_mask, instance_annotation, write_coco


def test_encode_round_trip():
    mask = np.zeros((7, 9), dtype=bool)
    mask[2:5, 3:8] = True
    rle = encode_mask(mask)
    json.dumps(rle)
    assert np.array_equal(mask_utils.decode({**rle, 'counts': rle['counts'].encode()}), mask)


def test_annotation_box_and_area():
    mask = np.zeros((10, 10), dtype=bool)
    mask[1:4, 5:9] = True
    ann = instance_annotation(3, 2, mask)
    assert ann['bbox'] == [5.0, 1.0, 4.0, 3.0] and ann['area'] == 12.0
    assert (ann['id'], ann['image_id'], ann['category_id'], ann['iscrowd']) == (3, 2, 1, 0)


def test_encode_rejects_non_2d():
    with pytest.raises(ValueError, match='2-D'):
        encode_mask(np.zeros((2, 3, 4), dtype=bool))


def test_write_coco(tmp_path):
    path = write_coco(tmp_path / 'sub' / 'a.json', [{'id': 1, 'file_name': 'x.jpg', 'height': 4, 'width': 4}], [])
    payload = json.loads(path.read_text())
    assert payload['categories'][0]['name'] == 'person' and payload['images'][0]['id'] == 1
