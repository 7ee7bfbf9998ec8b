from pathlib import Path

import pytest

from bot.config import DEFAULT_CONFIG_PATH, ConfigError, load_settings, parse_settings


def test_shipped_config_is_the_seed_topic():
    settings = load_settings(DEFAULT_CONFIG_PATH)
    assert settings.arxiv.categories == ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO"]
    topic = settings.topics["MLLM"]
    assert topic.keyword_list == ["VLM", "MLM", "MLLM", "Multi-Modal Language Model",
                                  "Multimodal Language Model", "Vision Language Model"]
    assert topic.types == ["new", "cross", "replace"]
    assert topic.markdown == "digests"


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"arxiv": {"categories": ["cs.AI", "cs.XX"]}}, "arxiv.categories[1]: unknown arXiv category 'cs.XX'"),
        ({"arxiv": {"bogus": 1}}, "arxiv.bogus: unknown key"),
        ({"arxiv": {"min_interval_seconds": -1}}, "arxiv.min_interval_seconds: Input should be greater than or equal to 0"),
        ({"arxiv": {"listing_url": "ftp://x"}}, "arxiv.listing_url: not an http(s) URL: 'ftp://x'"),
        ({"schedule": {"timezone": "Mars/Base"}}, "schedule.timezone: unknown time zone 'Mars/Base'"),
        ({"schedule": {"post_time": "7am"}}, "schedule.post_time: expected HH:MM, got '7am'"),
        ({"topics": {"x": {"keywords": ["a"], "types": ["new", "weird"]}}}, "topics.x.types[1]: unknown announce type 'weird'"),
        ({"topics": {"x": {"filters": ["a"]}}}, "topics.x: a topic needs `query` or `keywords`"),
        ({"topics": [{"keywords": ["a"]}]}, "topics[0] needs a `topic:` name"),
        ({"sluck": {}}, "sluck: unknown key"),
    ],
)
def test_every_mistake_names_its_key(data, expected):
    with pytest.raises(ConfigError) as info:
        parse_settings(data)
    assert any(p.startswith(expected) or expected in p for p in info.value.problems), info.value.problems


def test_categories_are_canonicalised():
    settings = parse_settings({"arxiv": {"categories": ["CS.ai", "quant-ph", "hep-th"]}})
    assert settings.arxiv.categories == ["cs.AI", "quant-ph", "hep-th"]


def test_seed_list_form_of_topics(tmp_path: Path):
    path = tmp_path / "c.yml"
    path.write_text("topics:\n  - topic: MLLM\n    keywords: [VLM, [diffusion, video]]\n    filters: robot\n")
    topic = load_settings(path).topics["MLLM"]
    assert topic.keyword_list == ["VLM", ["diffusion", "video"]]
    assert topic.filter_list == ["robot"]


def test_missing_file_and_bad_yaml(tmp_path: Path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("arxiv: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+: invalid YAML"):
        load_settings(bad)
