"""The super-resolution pages of the documentation run as written, at tiny sizes (see tests/docs_runner.py; the
`reader_folder` fixture is in conftest.py); the other pages run in tests/test_docs_generators.py, so the two halves
go to different test processes."""

import pytest
from docs_runner import NOT_RUN, REPLACE, blocks, check_page, pages, run_page

PAGES = ["README.md", "docs/super-resolution.md", "docs/inference.md", "docs/degradations.md", "docs/deploy.md",
         "docs/real-world.md"]


@pytest.mark.parametrize("page", PAGES)
def test_page_runs(page, reader_folder, tmp_path):
    check_page(page, reader_folder, tmp_path)


def test_every_page_with_code_is_run_by_a_docs_test():
    from test_docs_generators import PAGES as OTHERS

    with_code = {page for page in pages() if blocks(page)}
    assert with_code <= set(PAGES) | set(OTHERS), with_code - set(PAGES) - set(OTHERS)


def test_the_lists_of_exceptions_match_blocks_that_exist():
    """NOT_RUN and REPLACE entries that match no block would hide nothing and go stale: each must match one."""
    for page, text in NOT_RUN:
        assert any(text in code for _, code, _ in blocks(page)), (page, text)
    for page, old, new in REPLACE:
        assert any(new in code for _, code, _ in blocks(page)), (page, old)


def test_a_failing_block_fails_the_page(tmp_path, monkeypatch):
    page = tmp_path / "bad.md"
    page.write_text("```python\nraise ValueError('this block is broken')\n```\n")
    monkeypatch.setattr("docs_runner.REPO", str(tmp_path))
    with pytest.raises(ValueError, match="broken"):
        run_page("bad.md", str(tmp_path))
    page.write_text("```bash\npython -m sr_tf.resolve --weights missing.keras photo.png -o out/\n```\n")
    with pytest.raises(AssertionError, match="missing.keras"):
        run_page("bad.md", str(tmp_path))
