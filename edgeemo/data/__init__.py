"""Datasets as uint8 face arrays at the PreprocessSpec size, with integer labels.

Layouts: an image folder `ROOT/<split>/<class>/*.jpg|png` (FER-2013's image release), the
original `fer2013.csv` (emotion,pixels,Usage), and any folder-per-class dataset (CK+, JAFFE,
custom) whose folder names map onto the label set with `labels`.
"""

from __future__ import annotations

from edgeemo.data.dataset import (
    LabeledImages,
    balanced_sample,
    load_split,
    parse_label_mapping,
    stratified_folds,
    stratified_split,
)

__all__ = ["LabeledImages", "balanced_sample", "load_split", "parse_label_mapping", "stratified_folds", "stratified_split"]
