"""The PixelCNN, FastGAN, scale, errors and precision pages and CONTRIBUTING.md run as written, at tiny sizes (see
tests/docs_runner.py; the `reader_folder` fixture is in conftest.py)."""

import pytest
from docs_runner import check_page

PAGES = ["CONTRIBUTING.md", "docs/pixelcnn.md", "docs/fastgan.md", "docs/scale.md", "docs/errors.md",
         "docs/precision.md"]


@pytest.mark.parametrize("page", PAGES)
def test_page_runs(page, reader_folder, tmp_path):
    check_page(page, reader_folder, tmp_path)
