"""ONNX Runtime backend for any ONNX file with the RHIS contract (ours or the reference implementation's)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

from ..data.images import rgb_to_tensor
from ..models.weights_origin import ORIGIN_KEY
from ..models.working_size import working_to_frame
from ..postprocess import PastedMasks, PostprocessConfig, RoIMasks, mask_quality
from .onnx_session import onnx_session, read_metadata

__all__ = ['OnnxRHIS']


class OnnxRHIS:
    """Runs an RHIS ONNX graph: ``images`` [B,3,H,W] + ``rois`` [N,5] -> ``masks`` [N,3,mh,mw] (+ ``binary_masks``).

    Graphs with dynamic H and W (this package's default) take each frame as it is: the graph letterboxes it to its
    working size itself, exactly as the PyTorch model does. Fixed-size graphs (``--image-size``, the reference's
    released files) get each frame resized to their size first. ``binary_masks`` comes out at the graph's working
    size (from the file's metadata; the input size for graphs without one) and :meth:`person_probability` maps it back.

    Args:
        path: the ONNX file.
        providers: onnxruntime execution providers (default: TensorRT, CUDA, then CPU, whichever exist).
        roi_chunk: ROIs per run, to bound memory with many people.
        num_threads: intra-op threads for the CPU provider (``None``: onnxruntime's default).

    Example:
        >>> import numpy as np
        >>> rhis = OnnxRHIS('rhis_b0.onnx')
        >>> image = np.zeros((240, 320, 3), np.uint8)
        >>> pasted = rhis.predict([image], [np.array([[10, 20, 110, 220]], np.float32)])[0]
        >>> pasted.masks.shape
        torch.Size([1, 240, 320])
    """

    def __init__(self, path: str | Path, providers: Sequence[str] | None = None, roi_chunk: int = 64,
                 num_threads: int | None = None) -> None:
        path = Path(path)
        self.session = onnx_session(path, providers, num_threads)
        inputs = {i.name: i for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        if set(inputs) != {'images', 'rois'} or 'masks' not in outputs:
            raise ValueError(f'{path} does not follow the RHIS contract: it needs inputs images and rois and an '
                             f'output masks; it has inputs {sorted(inputs)} and outputs {outputs}')
        self.path = path
        self.outputs = outputs
        self.roi_chunk = roi_chunk
        shape = inputs['images'].shape
        self.image_size = (shape[2], shape[3]) if all(isinstance(v, int) for v in shape[2:]) else None
        self.mask_shape = self.session.get_outputs()[outputs.index('masks')].shape[2:]
        self.metadata = read_metadata(self.session, path)
        self.working_size = self.metadata.get('working_size')
        # The UNet's origin record; None when the file has none (another tool's export, or metadata stripped).
        self.peopleseg_weights = self.metadata.get(ORIGIN_KEY)

    def run(self, images: np.ndarray, rois: np.ndarray) -> dict[str, np.ndarray]:
        """Raw outputs for images [B,3,H,W] in [0,1] at the graph's size and normalised rois [N,5].

        Returns:
            ``masks`` [N, 3, mh, mw] logits, and ``binary_masks`` when the graph has that output.
        """
        images = np.ascontiguousarray(images, dtype=np.float32)
        rois = np.ascontiguousarray(rois, dtype=np.float32).reshape(-1, 5)
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f'images must be [B, 3, H, W], got {list(images.shape)}')
        if self.image_size is not None and tuple(images.shape[2:]) != tuple(self.image_size):
            raise ValueError(f'this graph takes {self.image_size[0]}x{self.image_size[1]} images, got '
                             f'{images.shape[2]}x{images.shape[3]} (OnnxRHIS.predict resizes for you)')
        chunks, binary = [], None
        for start in range(0, max(len(rois), 1), self.roi_chunk):
            out = dict(zip(self.outputs, self.session.run(None, {'images': images,
                                                                  'rois': rois[start:start + self.roi_chunk]})))
            chunks.append(out['masks'])
            binary = out.get('binary_masks', binary)
        result = {'masks': np.concatenate(chunks)[:len(rois)]}
        if binary is not None:
            result['binary_masks'] = binary
        return result

    def _graph_input(self, image: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(the image as a [1, 3, H, W] tensor, the graph's input: the same, resized to a fixed-size graph's size)."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'images must be RGB arrays (H, W, 3), got shape {image.shape}')
        tensor = rgb_to_tensor(image)[None]
        if self.image_size is None or tuple(image.shape[:2]) == tuple(self.image_size):
            return tensor, tensor
        return tensor, F.interpolate(tensor, size=tuple(self.image_size), mode='bilinear', align_corners=False,
                                     antialias=True)

    def predict_rois(self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray],
                     scores: Sequence[np.ndarray] | None = None) -> list[RoIMasks]:
        """ROI-space masks for RGB uint8 images (H, W, 3) of any size and pixel boxes [Ni, 4] per image, as
        :meth:`rhis_plugin.models.RHIS.predict_rois` gives them: paste with :meth:`RoIMasks.paste` or
        :meth:`RoIMasks.iter_paste`.

        Returns:
            One :class:`~rhis_plugin.postprocess.RoIMasks` per image.
        """
        if len(images) != len(boxes):
            raise ValueError(f'got {len(boxes)} box arrays for {len(images)} images')
        if scores is not None and len(scores) != len(boxes):
            raise ValueError(f'got {len(scores)} score arrays for {len(boxes)} box arrays')
        results = []
        for index, (image, image_boxes) in enumerate(zip(images, boxes)):
            tensor, model_input = self._graph_input(image)
            height, width = tensor.shape[-2:]
            image_boxes = torch.as_tensor(np.asarray(image_boxes, dtype=np.float32)).reshape(-1, 4)
            # Normalised coordinates are the same before and after a resize; clipped like the model clips.
            scale = torch.tensor([width, height, width, height], dtype=torch.float32)
            normalised = (image_boxes / scale).clamp(0, 1)
            rois = torch.cat([torch.zeros(len(normalised), 1), normalised], dim=1)
            out = self.run(model_input.numpy(), rois.numpy())
            target = torch.softmax(torch.from_numpy(out['masks']), dim=1)[:, 1]
            image_scores = None if scores is None else torch.as_tensor(np.asarray(scores[index], np.float32))
            quality = None
            if 'binary_masks' in out:      # the UNet's person probability in each box, as the PyTorch path has it
                person = self._frame_probability(torch.from_numpy(out['binary_masks']), model_input, tensor)
                boxes5 = torch.cat([torch.zeros(len(rois), 1), normalised * scale], dim=1)
                in_boxes = roi_align(person, boxes5, tuple(target.shape[-2:]), 1.0, 2, aligned=True)[:, 0]
                quality = mask_quality(target, in_boxes)
            results.append(RoIMasks(target, normalised * scale, (height, width), image_scores, quality))
        return results

    def predict(self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray],
                postprocess: PostprocessConfig = PostprocessConfig(),
                scores: Sequence[np.ndarray] | None = None) -> list[PastedMasks]:
        """Image-space masks for RGB uint8 images (H, W, 3) of any size and pixel boxes [Ni, 4] per image, pasted at
        each image's own size as the PyTorch path does. ``scores`` (one [Ni] array per image) rank instances for
        exclusive masks, as in :meth:`rhis_plugin.models.RHIS.predict`.

        Returns:
            One :class:`~rhis_plugin.postprocess.PastedMasks` per image (bool masks [Ni, H, W] in box order).
        """
        guided = postprocess.smoothing == 'guided'
        return [roi_masks.paste(postprocess, rgb_to_tensor(np.asarray(image)) if guided else None)
                for roi_masks, image in zip(self.predict_rois(images, boxes, scores), images)]

    def person_probability(self, image: np.ndarray) -> torch.Tensor:
        """The graph's ``binary_masks`` for one RGB image, mapped back to its size: [1, 1, H, W]."""
        if 'binary_masks' not in self.outputs:
            raise ValueError(f'{self.path} has no binary_masks output (binary mode needs it)')
        tensor, model_input = self._graph_input(image)
        binary = torch.from_numpy(self.run(model_input.numpy(), np.zeros((0, 5), np.float32))['binary_masks'])
        return self._frame_probability(binary, model_input, tensor)

    def _frame_probability(self, binary: torch.Tensor, model_input: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        """``binary_masks`` (working size) -> [1, 1, H, W] at the frame's size."""
        probs = working_to_frame(binary, tuple(model_input.shape[-2:]), self.working_size)
        if probs.shape[-2:] != frame.shape[-2:]:
            probs = F.interpolate(probs, size=tuple(frame.shape[-2:]), mode='bilinear', align_corners=False)
        return probs
