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


def test_merge_coco_folders(tmp_path):
    """Several folders (a split of one included) become one; crowd images can be left out; name clashes are errors."""
    from rhis_plugin.data import CocoPersonDataset, merge_coco_folders
    from rhis_plugin.data.synthetic import SceneConfig, generate_dataset

    scene = SceneConfig(height=48, width=64, min_persons=1, max_persons=2)
    generate_dataset(tmp_path / 'a', 5, seed=0, cfg=scene)
    generate_dataset(tmp_path / 'b', 3, seed=1, cfg=scene)
    ann = json.loads((tmp_path / 'b' / 'annotations.json').read_text())
    for info in ann['images']:
        info['file_name'] = 'b_' + info['file_name']
        (tmp_path / 'b' / 'images' / info['file_name'][2:]).rename(tmp_path / 'b' / 'images' / info['file_name'])
    crowd = dict(ann['annotations'][0], id=999, iscrowd=1)
    ann['annotations'].append(crowd)
    (tmp_path / 'b' / 'annotations.json').write_text(json.dumps(ann))
    counts = merge_coco_folders([f"{tmp_path / 'a'}:train", tmp_path / 'b'], tmp_path / 'm', drop_crowd_images=True)
    merged = CocoPersonDataset(tmp_path / 'm')
    assert counts == {'images': 4 + 2, 'persons': sum(len(merged[i]['masks']) for i in range(len(merged))),
                      'dropped_images': 1}
    assert len(merged) == 6 and all((tmp_path / 'm' / 'images' / i['file_name']).is_file()
                                    for i in merged.coco.loadImgs(merged.image_ids))
    kept = merge_coco_folders([tmp_path / 'b'], tmp_path / 'k')
    assert kept['images'] == 3 and len(CocoPersonDataset(tmp_path / 'k')[0]['masks']) >= 1
    with pytest.raises(ValueError, match='in both'):
        merge_coco_folders([tmp_path / 'a', tmp_path / 'a'], tmp_path / 'clash')
