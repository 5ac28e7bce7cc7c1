"""Practice 2: the Polygraphy data loader that feeds INT8 calibration.

Check your work:  pytest assignments/practice2
On the Jetson (course text):
    polygraphy convert lab_classifier.onnx --int8 --data-loader-script ./data_loader.py \
        --calibration-cache calib.cache -o lab_classifier_int8.engine
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image  # noqa: F401  (you will need it)

# TODO 0: 這兩個設定在 load_data() 被呼叫時才讀取，評分程式會直接改它們。
# CALIB_DIR 要從「這個檔案的位置」找到專案根目錄的 calib_images/，不能依賴目前的工作目錄
# （Polygraphy 可能從任何目錄載入你的 script）。提示：Path(__file__).resolve().parents[...]
CALIB_DIR = Path("calib_images")
NUM_IMAGES = 100


def preprocess(image_path: str | Path) -> np.ndarray:
    """Return one image as the lab classifier expects it.

    ``image_path`` is a str or a Path.
    Contract: shape 1x3x224x224 (NCHW), dtype float32, RGB channel order, values in [0, 1],
    C-contiguous, whatever the file's mode (grayscale "L", "RGBA", palette "P", any size).
    Resize the whole image to 224x224 (no crop). Do NOT subtract a mean or divide by a std:
    the model normalizes inside its graph.
    """
    # TODO 1: Image.open(image_path).convert("RGB")  ← 灰階、RGBA、調色盤 (P) 圖片都要轉成 RGB
    # TODO 2: .resize((224, 224))，轉成 np.float32 並除以 255.0（數值範圍 [0, 1]）
    # TODO 3: HWC -> CHW（transpose(2, 0, 1)），再加上 batch 維度 -> (1, 3, 224, 224)
    # TODO 4: np.ascontiguousarray(...) 後回傳
    raise NotImplementedError


def load_data() -> Iterator[dict[str, np.ndarray]]:
    """Polygraphy data loader: yield ``{"input": batch}`` for NUM_IMAGES images of CALIB_DIR.

    - the key is the ONNX model's input name (``input``);
    - images in sorted file-name order; files that are not images (README.txt ...) are skipped,
      every image counts whatever its extension;
    - exactly NUM_IMAGES batches (100 by default), each from ``preprocess``;
    - CALIB_DIR and NUM_IMAGES are read in here, at each call (not as parameter defaults, which
      Python evaluates once, at import).
    """
    # TODO 1: 依檔名排序列出 CALIB_DIR 裡的檔案（sorted(...)），跳過不是圖片的檔案
    #         （例如用 PIL 開啟失敗的檔案、README.txt）。
    # TODO 2: 對前 NUM_IMAGES 張圖片呼叫 preprocess()，並 yield {"input": 影像張量}
    raise NotImplementedError
