"""The neutral Digest: ordering, merging of several subscriptions, counts, labels, truncation."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.digest.model import (
    AnnounceCounts,
    Digest,
    DigestError,
    build_digest,
    merge_spans,
    paper_labels,
)
from bot.models import Hit
from tests.digest.helpers import hits_for, make_match, make_paper

DAY = date(2025, 4, 20)


def test_items_are_ordered_by_score_then_paper_id():
    matches = [
        make_match(make_paper("2504.00003"), score=1.0),
        make_match(make_paper("2504.00002"), score=5.0),
        make_match(make_paper("2504.00001"), score=1.0),
        make_match(make_paper("2406.06462"), score=2.5),
    ]
    digest = build_digest("md:MLLM", "MLLM", DAY, matches)
    assert digest.paper_ids == ("2504.00002", "2406.06462", "2504.00001", "2504.00003")
    assert [item.score for item in digest.items] == [5.0, 2.5, 1.0, 1.0]


def test_two_subscriptions_matching_one_paper_give_one_item_with_merged_hits():
    paper = make_paper("2504.13365",
                       title="VLLFL: A Vision-Language Model Based Lightweight Federated Learning",
                       abstract="the vision-language model (VLM) and the VLM deployed")
    vlm_hits = hits_for(paper, "VLM", "VLM", "abstract")
    phrase_title = hits_for(paper, "vision language model", r"vision-language model", "title")
    phrase_abs = hits_for(paper, "vision language model", r"vision-language model", "abstract")
    assert len(vlm_hits) == 2 and len(phrase_title) == 1 and len(phrase_abs) == 1
    other = make_paper("2504.00009")
    matches = [
        make_match(paper, "sub-vlm", score=2.0, hits=vlm_hits),
        make_match(other, "sub-vlm", score=3.0),
        make_match(paper, "sub-phrase", score=4.0, hits=phrase_title + phrase_abs + vlm_hits[:1]),
    ]
    digest = build_digest("slack:C1", "MLLM", DAY, matches,
                          subscriptions_text=["VLM", '"vision language model"'])

    assert digest.paper_ids == ("2504.13365", "2504.00009")
    merged = digest.items[0]
    assert merged.score == 4.0  # the best reason, not the sum
    assert merged.hit_terms == ("VLM", "vision language model")
    assert merged.subscription_ids == ("sub-vlm", "sub-phrase")
    # The duplicate VLM hit from the second match is not counted twice.
    assert len(merged.hits) == 4
    assert merged.title_spans == ((9, 30),)
    assert paper.title[9:30] == "Vision-Language Model"
    assert merged.abstract_spans == tuple(sorted(
        (h.start, h.end) for h in vlm_hits + phrase_abs))
    assert digest.subscriptions == ("VLM", '"vision language model"')
    assert digest.counts == AnnounceCounts(new=2)


def test_overlapping_title_hits_become_one_span():
    paper = make_paper(title="Multimodal Language Model for Video")
    hits = (Hit("multimodal language model", "title", 0, 25), Hit("language model", "title", 11, 25),
            Hit("model", "title", 20, 25), Hit("video", "title", 30, 35))
    item = build_digest("d", "T", DAY, [make_match(paper, hits=hits)]).items[0]
    assert item.title_spans == ((0, 25), (30, 35))


def test_out_of_range_hit_spans_are_dropped_not_fatal(caplog):
    paper = make_paper(title="Short")
    hits = (Hit("x", "title", 3, 99), Hit("short", "title", 0, 5))
    item = build_digest("d", "T", DAY, [make_match(paper, hits=hits)]).items[0]
    assert item.title_spans == ((0, 5),)
    assert "out-of-range title hit" in caplog.text


def test_counts_group_replace_cross_with_updates_and_add_up_to_total():
    papers = [
        make_paper("1", announce_type="new"),
        make_paper("2", announce_type="new"),
        make_paper("3", announce_type="cross"),
        make_paper("4", announce_type="replace", version=2),
        make_paper("5", announce_type="replace-cross", version=3),
    ]
    digest = build_digest("d", "T", DAY, [make_match(p) for p in papers])
    assert digest.counts == AnnounceCounts(new=2, cross=1, replace=2)
    assert digest.total == 5 == len(digest.items)


@pytest.mark.parametrize("announce_type, version, labels", [
    ("new", 1, ()),
    ("cross", 1, ("cross-list",)),
    ("replace", 2, ("updated v2",)),
    ("replace", None, ("updated",)),
    ("replace-cross", 4, ("updated v4", "cross-list")),
])
def test_labels_are_computed_from_the_paper(announce_type, version, labels):
    paper = make_paper(announce_type=announce_type, version=version)
    assert paper_labels(paper) == labels
    assert build_digest("d", "T", DAY, [make_match(paper)]).items[0].labels == labels


def test_max_items_cuts_the_lowest_scores_and_counts_what_it_cut():
    matches = [make_match(make_paper(f"2504.0000{i}", announce_type=kind), score=float(i))
               for i, kind in enumerate(["new", "cross", "new", "replace", "new"])]
    digest = build_digest("d", "T", DAY, matches, max_items=2)
    assert digest.paper_ids == ("2504.00004", "2504.00003")
    assert digest.truncated == 3
    # Counts describe every matched paper, not only the listed ones.
    assert digest.counts == AnnounceCounts(new=3, cross=1, replace=1)
    assert digest.total == len(digest.items) + digest.truncated

    assert build_digest("d", "T", DAY, matches, max_items=5).truncated == 0
    none_listed = build_digest("d", "T", DAY, matches, max_items=0)
    assert none_listed.items == () and none_listed.truncated == 5 and not none_listed.is_empty


def test_the_papers_cut_are_kept_in_order_for_the_fold_message():
    matches = [make_match(make_paper(f"2504.0000{i}"), score=float(i)) for i in range(5)]
    digest = build_digest("d", "T", DAY, matches, max_items=2)
    assert [p.id for p in digest.folded] == ["2504.00002", "2504.00001", "2504.00000"]
    assert len(digest.folded) == digest.truncated
    assert build_digest("d", "T", DAY, matches).folded == ()


def test_an_empty_day_is_a_valid_digest():
    digest = build_digest("md:MLLM", "MLLM", DAY, [], subscriptions_text="VLM")
    assert digest.is_empty and digest.items == () and digest.total == 0
    assert digest.counts == AnnounceCounts()
    assert digest.subscriptions == ("VLM",)  # one string is one subscription, not 3 letters
    assert dict(digest.mentions) == {}


def test_mentions_are_kept_read_only():
    source = {"U1": ["2504.00001"]}
    digest = build_digest("d", "T", DAY, [make_match(make_paper("2504.00001"))], mentions=source)
    source["U2"] = ["x"]
    assert dict(digest.mentions) == {"U1": ("2504.00001",)}
    with pytest.raises(TypeError):
        digest.mentions["U3"] = ("y",)  # type: ignore[index]
    # A digest built directly gets the same protection.
    direct = Digest("d", "T", DAY, mentions={"U1": ["a"]})
    assert direct.mentions["U1"] == ("a",)
    hash(direct)  # frozen digests stay hashable although mentions is a mapping


@pytest.mark.parametrize("kwargs, message", [
    ({"destination": " "}, "destination"),
    ({"day": datetime(2025, 4, 20, 12, 0)}, "must be a date"),
    ({"day": "2025-04-20"}, "must be a date"),
    ({"max_items": -1}, "max_items"),
    ({"max_items": 2.5}, "max_items"),
    ({"matches": ["not a match"]}, "takes Match records, got str"),
])
def test_bad_input_gets_a_clear_error(kwargs, message):
    arguments = {"destination": "d", "title": "T", "day": DAY, "matches": []} | kwargs
    with pytest.raises(DigestError, match=message):
        build_digest(**arguments)


def test_merge_spans():
    assert merge_spans([(5, 6), (0, 3), (2, 5)]) == ((0, 6),)
    assert merge_spans([(0, 2), (3, 4)]) == ((0, 2), (3, 4))
    assert merge_spans([(3, 3), (4, 1)]) == ()
    assert merge_spans([(0, 10), (2, 3)]) == ((0, 10),)
