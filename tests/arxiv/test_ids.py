import pytest

from bot.arxiv.errors import ArxivError, InvalidArxivId
from bot.arxiv.ids import is_arxiv_id, split_versioned_id, versionless_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("oai:arXiv.org:2504.13365v2", ("2504.13365", 2)),
        ("http://arxiv.org/abs/2504.13365v2", ("2504.13365", 2)),
        ("https://arxiv.org/abs/2503.24379", ("2503.24379", None)),
        ("https://arxiv.org/pdf/2503.24379v3", ("2503.24379", 3)),
        ("arXiv:2504.13365v2", ("2504.13365", 2)),
        ("2504.13365", ("2504.13365", None)),
        ("0704.0001v1", ("0704.0001", 1)),
        ("  2504.13365v12\n", ("2504.13365", 12)),
        ("hep-th/9901001v1", ("hep-th/9901001", 1)),
        ("astro-ph/0601001", ("astro-ph/0601001", None)),
        ("quant-ph/0201082v1", ("quant-ph/0201082", 1)),
        ("http://arxiv.org/abs/astro-ph/0601001v1", ("astro-ph/0601001", 1)),
        ("math.GT/0309136", ("math.GT/0309136", None)),
        ("oai:arXiv.org:cond-mat/0603029v2", ("cond-mat/0603029", 2)),
    ],
)
def test_split_versioned_id_reads_every_form(raw, expected):
    assert split_versioned_id(raw) == expected


@pytest.mark.parametrize(
    "junk",
    ["", "abc", "2504.133", "2504.1336555", "2513.13365", "hep-th/99010", "HEP-TH/9901001",
     "2504.13365v", "2504.13365vx", "https://example.org/abs/2504.13365", "2504 13365", None, 2504.13365],
)
def test_junk_is_rejected_with_a_readable_message(junk):
    with pytest.raises(InvalidArxivId) as caught:
        split_versioned_id(junk)
    assert "not an arXiv id" in str(caught.value)
    assert repr(junk) in str(caught.value)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ArxivError)
    assert not is_arxiv_id(junk)


def test_versionless_id():
    assert versionless_id("arXiv:2504.13365v2") == "2504.13365"
    assert versionless_id("hep-th/9901001v1") == "hep-th/9901001"
