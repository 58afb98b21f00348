"""Training compact emotion CNNs with Keras (host side).

config.py   TrainConfig: every option of `edgeemo train`, its checks, config.json of a run
split.py    which images train and validate, and the checks that nothing learned from validation
trainer.py  train(): data, model, optimizer, fit; checkpoint.py saves each epoch
finish.py   after the last epoch: smoothing, BatchNorm re-estimation, weight average, refit
augment.py, distill.py, batchnorm.py, weight_average.py, sharpness.py, precision.py: the techniques
"""

from __future__ import annotations

from edgeemo.training.config import TrainConfig
from edgeemo.training.trainer import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "train"]
