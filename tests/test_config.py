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


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path):
    # Formerly 34 KB of nested aliases passed check-config, then took 84 s and 1.2 GB.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match="aliases expand to more than 100,000 values"):
        load_settings(path)


def test_modest_aliases_still_work(tmp_path: Path):
    path = tmp_path / "ok.yaml"
    path.write_text("x-cats: &cats [cs.CV, cs.CL]\narxiv:\n  categories: *cats\n")
    with pytest.raises(ConfigError, match="x-cats: unknown key"):  # the alias itself is fine
        load_settings(path)
    path.write_text("arxiv:\n  categories: &cats [cs.CV, cs.CL]\ntopics:\n  A:\n    keywords: [VLM]\n"
                    "    categories: *cats\n")
    assert load_settings(path).topics["A"].categories == ["cs.CV", "cs.CL"]


def test_an_oversized_config_file_is_refused(tmp_path: Path):
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * (2 * 1024 * 1024) + "\n")
    with pytest.raises(ConfigError, match="larger than 1024 KB"):
        load_settings(path)


def test_an_unquoted_post_time_says_to_quote_it(tmp_path: Path):
    path = tmp_path / "time.yaml"
    path.write_text("schedule:\n  post_time: 10:30\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == ['schedule.post_time: write the time in quotes: post_time: "10:30" '
                                     '(YAML reads an unquoted 10:30 as the number 630)']
    path.write_text('schedule:\n  post_time: "10:30"\n')
    assert load_settings(path).schedule.post_time == "10:30"


def test_query_depth_is_capped_and_the_cap_parses_without_recursion_errors():
    with pytest.raises(ConfigError, match="limits.query_depth"):
        parse_settings({"limits": {"query_depth": 10_000}})
    from bot.matching.query import QueryLimits, QuerySyntaxError, parse_query
    settings = parse_settings({"limits": {"query_depth": 50, "query_length": 100_000}})
    limits = QueryLimits.from_settings(settings.limits)
    assert parse_query("(" * 50 + "VLM" + ")" * 50, limits=limits) is not None
    with pytest.raises(QuerySyntaxError, match="nested too deeply"):
        parse_query("(" * 5000 + "VLM" + ")" * 5000, limits=limits)


def test_the_packaged_default_config_is_the_shipped_one():
    from bot.config import PACKAGED_CONFIG_PATH
    assert PACKAGED_CONFIG_PATH.read_text() == DEFAULT_CONFIG_PATH.read_text()


def test_without_a_source_tree_the_packaged_config_is_found(tmp_path: Path, monkeypatch):
    # A wheel install: the source tree's config/ path points into site-packages and is missing.
    from bot.config import PACKAGED_CONFIG_PATH, resolve_config_path
    monkeypatch.delenv("PAPERBOT_CONFIG", raising=False)
    missing = tmp_path / "site-packages" / "config" / "paperbot.yaml"
    assert resolve_config_path(source_default=missing, cwd=tmp_path) == PACKAGED_CONFIG_PATH
    assert load_settings(PACKAGED_CONFIG_PATH).topics
    local = tmp_path / "config" / "paperbot.yaml"
    local.parent.mkdir()
    local.write_text("topics: {}\n")
    assert resolve_config_path(source_default=missing, cwd=tmp_path) == local
    assert resolve_config_path("given.yaml", source_default=missing, cwd=tmp_path) == Path("given.yaml")


def test_the_weekly_and_order_defaults():
    schedule = parse_settings({}).schedule
    assert (schedule.paper_order, schedule.weekly_day, schedule.weekly_time) == ("relevance", "friday", "16:00")
    chosen = parse_settings({"schedule": {"weekly_day": "Mon", "weekly_time": "08:30", "paper_order": "listing"}})
    assert chosen.schedule.weekly_day == "monday" and chosen.schedule.weekly_day_index == 0
    for bad, problem in (({"weekly_day": "funday"}, "schedule.weekly_day: expected a day of the week such as friday or fri"),
                         ({"weekly_day": "t"}, "schedule.weekly_day"),
                         ({"weekly_time": "25:00"}, "schedule.weekly_time: expected HH:MM"),
                         ({"paper_order": "random"}, "schedule.paper_order")):
        with pytest.raises(ConfigError) as caught:
            parse_settings({"schedule": bad})
        assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_an_unquoted_weekly_time_says_to_quote_it(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("schedule:\n  weekly_time: 16:30\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert 'write the time in quotes: weekly_time: "16:30"' in caught.value.problems[0]
