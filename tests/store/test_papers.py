"""Saving and reading listings, papers, enrichment and fetch state on a real SQLite file."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from bot.store import FetchState, SaveSummary, Store, StoreError

from .conftest import SteppingClock, make_paper

MONDAY = date(2025, 4, 21)
TUESDAY = date(2025, 4, 22)


def count(store: Store, table: str) -> int:
    return store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_round_trip_keeps_every_field_with_old_style_ids_and_accents(store: Store):
    papers = [
        make_paper(
            "hep-th/9901001",
            title="Déjà Vu: Multilingual LLM Evaluation in Zürich",
            abstract="We study the thecurrent glued words and ünïcödé text.",
            authors=("Jürgen Kästner", "Zoë Ångström", "李雷"),
            categories=("hep-th", "gr-qc"),
            version=3,
        ),
        make_paper(
            "2504.13365",
            categories=("cs.CL", "cs.CV", "cs.AI"),
            announce_type="cross",
            version=2,
            comment="Accepted at CVPR 2025",
            journal_ref="Proc. CVPR 2025",
            doi="10.1000/xyz",
        ),
        make_paper("math/0101001", categories=("math.AG",)),
    ]
    summary = store.papers.save_listing(MONDAY, papers)
    assert summary == SaveSummary(
        new_papers=3, updated_papers=0, listings_added=3, by_type={"new": 2, "cross": 1}
    )
    read = store.papers.for_day(MONDAY)
    assert read == [p.with_changes(announced=MONDAY) for p in papers]
    assert read[0].abs_url == "https://arxiv.org/abs/hep-th/9901001"
    assert read[1].primary_category == "cs.CL"


def test_saving_the_same_day_twice_changes_nothing(store: Store, clock: SteppingClock):
    papers = [make_paper(f"2504.{n:05d}") for n in (3, 1, 2)]
    store.papers.save_listing(MONDAY, papers)
    before = store.db.execute("SELECT * FROM papers ORDER BY id").fetchall()
    clock.advance(hours=2)
    assert store.papers.save_listing(MONDAY, papers) == SaveSummary()
    assert store.db.execute("SELECT * FROM papers ORDER BY id").fetchall() == before
    assert count(store, "listings") == 3
    read_order = [p.id for p in store.papers.for_day(MONDAY)]
    assert read_order == ["2504.00003", "2504.00001", "2504.00002"]


def test_saving_the_same_day_after_enrichment_keeps_the_enrichment(store: Store):
    listed = make_paper("2504.00001", categories=("cs.AI", "cs.CV"))
    store.papers.save_listing(MONDAY, [listed])
    store.papers.save_enrichment("2504.00001", comment="9 pages", journal_ref=None, doi=None,
                          categories=["cs.CV", "cs.AI"])
    assert store.papers.save_listing(MONDAY, [listed]) == SaveSummary()
    paper = store.papers.for_day(MONDAY)[0]
    assert (paper.categories, paper.comment) == (("cs.CV", "cs.AI"), "9 pages")


def test_a_replacement_on_a_later_day_updates_content_and_keeps_enrichment(
    store: Store, clock: SteppingClock
):
    store.papers.save_listing(MONDAY, [make_paper("2504.00001", title="Old title", version=1)])
    store.papers.save_enrichment(
        "2504.00001", comment="Accepted at ICLR", journal_ref=None, doi="10.1/abc"
    )
    clock.advance(days=1)
    replacement = make_paper(
        "2504.00001",
        title="New title",
        abstract="New abstract.",
        authors=("Ada Lovelace", "Grace Hopper"),
        categories=("cs.LG", "cs.CV"),
        announce_type="replace",
        version=2,
    )
    summary = store.papers.save_listing(TUESDAY, [replacement])
    assert summary == SaveSummary(
        new_papers=0, updated_papers=1, listings_added=1, by_type={"replace": 1}
    )

    paper = store.papers.get_many(["2504.00001"])["2504.00001"]
    assert (paper.title, paper.abstract) == ("New title", "New abstract.")
    assert paper.authors == ("Ada Lovelace", "Grace Hopper")
    assert paper.categories == ("cs.LG", "cs.CV")
    assert (paper.comment, paper.doi, paper.journal_ref) == ("Accepted at ICLR", "10.1/abc", None)
    assert (paper.announce_type, paper.announced, paper.version) == ("replace", TUESDAY, 2)
    assert paper.is_update

    # Monday's listing still says what was announced that day (v1, new), with current content.
    monday = store.papers.for_day(MONDAY)
    assert [(p.announce_type, p.version, p.title) for p in monday] == [("new", 1, "New title")]
    first_seen, updated_at = store.db.execute(
        "SELECT first_seen, updated_at FROM papers"
    ).fetchone()
    assert first_seen == "2025-04-21T00:05:00+00:00"
    assert updated_at == "2025-04-22T00:05:00+00:00"


def test_an_older_version_seen_later_does_not_overwrite_newer_content(store: Store):
    store.papers.save_listing(TUESDAY, [make_paper("2504.00001", title="Version two", version=2)])
    backfill = make_paper("2504.00001", title="Version one", version=1, comment="10 pages")
    summary = store.papers.save_listing(MONDAY, [backfill])
    assert summary.listings_added == 1
    assert summary.updated_papers == 1  # the comment is new information
    paper = store.papers.get_many(["2504.00001"])["2504.00001"]
    assert (paper.title, paper.version, paper.comment) == ("Version two", 2, "10 pages")
    assert paper.announced == TUESDAY  # the latest listing describes the paper


def test_listing_record_with_enrichment_fills_it_and_none_never_erases(store: Store):
    store.papers.save_listing(MONDAY, [make_paper("2504.00001", doi="10.1/first")])
    store.papers.save_listing(TUESDAY, [make_paper("2504.00001", announce_type="replace", version=2)])
    assert store.papers.get_many(["2504.00001"])["2504.00001"].doi == "10.1/first"


def test_save_enrichment_sets_api_fields_and_categories(store: Store):
    store.papers.save_listing(MONDAY, [make_paper("2504.00001", categories=("cs.AI", "cs.CV"))])
    store.papers.save_enrichment(
        "2504.00001",
        comment="Accepted at CVPR 2025",
        journal_ref="CVPR 2025",
        doi="10.1109/x",
        categories=["cs.CV", "cs.AI"],
    )
    paper = store.papers.for_day(MONDAY)[0]
    assert paper.categories == ("cs.CV", "cs.AI")
    assert (paper.comment, paper.journal_ref, paper.doi) == (
        "Accepted at CVPR 2025",
        "CVPR 2025",
        "10.1109/x",
    )
    # The API is authoritative: a withdrawn comment is cleared; categories untouched when omitted.
    store.papers.save_enrichment("2504.00001", comment=None, journal_ref="CVPR 2025", doi="10.1109/x")
    paper = store.papers.for_day(MONDAY)[0]
    assert paper.comment is None and paper.categories == ("cs.CV", "cs.AI")


def test_save_enrichment_of_an_unknown_paper_or_no_categories_is_a_clear_error(store: Store):
    with pytest.raises(StoreError, match="no paper '2504.99999' in the store") as caught:
        store.papers.save_enrichment("2504.99999", comment=None, journal_ref=None, doi=None)
    assert caught.value.reason == "unknown_paper"
    store.papers.save_listing(MONDAY, [make_paper("2504.00001")])
    with pytest.raises(StoreError, match="categories must not be empty"):
        store.papers.save_enrichment("2504.00001", comment=None, journal_ref=None, doi=None,
                              categories=[])


def test_papers_for_day_filters_types_and_keeps_feed_order(store: Store):
    kinds = ["replace", "new", "cross", "new", "replace-cross", "cross"]
    papers = [
        make_paper(f"2504.{90 - n:05d}", announce_type=kind) for n, kind in enumerate(kinds)
    ]
    summary = store.papers.save_listing(MONDAY, papers)
    assert summary.by_type == {"new": 2, "cross": 2, "replace": 1, "replace-cross": 1}
    feed_order = [p.id for p in papers]
    assert [p.id for p in store.papers.for_day(MONDAY)] == feed_order
    chosen = store.papers.for_day(MONDAY, types={"new", "cross"})
    assert [p.id for p in chosen] == [p.id for p in papers if p.announce_type in ("new", "cross")]
    assert all(p.announce_type in ("new", "cross") for p in chosen)
    assert [p.announce_type for p in store.papers.for_day(MONDAY, types=["replace"])] == [
        "replace"
    ]
    assert store.papers.for_day(MONDAY, types=[]) == []
    assert store.papers.for_day(TUESDAY) == []
    with pytest.raises(StoreError, match="unknown announce type.*updated") as caught:
        store.papers.for_day(MONDAY, types=["new", "updated"])
    assert caught.value.reason == "invalid"


def test_a_listing_saved_in_parts_keeps_order_and_first_occurrence(store: Store):
    first = [make_paper("2504.00005"), make_paper("2504.00002", announce_type="cross")]
    second = [
        make_paper("2504.00002", announce_type="new"),  # repeated by an overlapping request
        make_paper("2504.00001"),
        make_paper("2504.00001"),
    ]
    store.papers.save_listing(MONDAY, first)
    summary = store.papers.save_listing(MONDAY, second)
    assert summary == SaveSummary(new_papers=1, updated_papers=0, listings_added=1,
                                  by_type={"new": 1})
    read = store.papers.for_day(MONDAY)
    assert [(p.id, p.announce_type) for p in read] == [
        ("2504.00005", "new"),
        ("2504.00002", "cross"),
        ("2504.00001", "new"),
    ]


def test_listing_days_newest_first_and_latest_day(store: Store):
    assert store.papers.latest_day() is None
    assert store.papers.listing_days() == []
    for day in (date(2025, 4, 18), TUESDAY, MONDAY):
        store.papers.save_listing(day, [make_paper("2504.00001")])
    assert store.papers.listing_days() == [TUESDAY, MONDAY, date(2025, 4, 18)]
    assert store.papers.listing_days(limit=2) == [TUESDAY, MONDAY]
    assert store.papers.latest_day() == TUESDAY


def test_get_papers_returns_known_ids_in_request_order_across_chunks(store: Store):
    papers = [make_paper(f"2504.{n:05d}") for n in range(1200)]
    store.papers.save_listing(MONDAY, papers)
    wanted = [f"2504.{n:05d}" for n in range(1199, -1, -2)] + ["2504.99999", "hep-th/0000000"]
    found = store.papers.get_many(wanted)
    assert list(found) == wanted[:600]
    assert found["2504.00001"].announced == MONDAY
    assert store.papers.get_many([]) == {}


@pytest.mark.parametrize(
    ("paper", "message"),
    [
        (make_paper("2504.13365v2"), "carries a version"),
        (make_paper(""), "empty"),
        (make_paper("2504.00001", announce_type="updated"), "unknown announce type 'updated'"),
        (make_paper("2504.00001", version=0), "not a positive number"),
    ],
)
def test_bad_records_are_refused_whole_with_a_clear_message(store: Store, paper, message):
    with pytest.raises(StoreError, match=message) as caught:
        store.papers.save_listing(MONDAY, [make_paper("2504.00009"), paper])
    assert caught.value.reason == "invalid"
    assert caught.value.operation == "saving a listing"
    assert count(store, "papers") == 0 and count(store, "listings") == 0


def test_fetch_state_round_trip_and_overwrite(store: Store, clock: SteppingClock):
    url = "https://rss.arxiv.org/atom/cs.AI+cs.CV"
    assert store.papers.get_fetch_state(url) is None
    store.papers.save_fetch_state(url, '"abc"', "Mon, 21 Apr 2025 04:00:00 GMT", 200)
    assert store.papers.get_fetch_state(url) == FetchState(
        url=url,
        etag='"abc"',
        last_modified="Mon, 21 Apr 2025 04:00:00 GMT",
        fetched_at=datetime(2025, 4, 21, 0, 5, tzinfo=timezone.utc),
        last_status=200,
    )
    clock.advance(minutes=30)
    store.papers.save_fetch_state(url, None, None, 503)
    state = store.papers.get_fetch_state(url)
    assert state is not None
    assert (state.etag, state.last_modified, state.last_status) == (None, None, 503)
    assert state.fetched_at == datetime(2025, 4, 21, 0, 35, tzinfo=timezone.utc)
    assert count(store, "fetch_state") == 1


def test_listings_refer_to_stored_papers(store: Store):
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        store.db.execute(
            "INSERT INTO listings (day, paper_id, announce_type, position) VALUES (?, ?, ?, ?)",
            ["2025-04-21", "2504.00404", "new", 0],
        )


def test_using_the_store_from_another_thread_is_refused(store: Store):
    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(errors, store.papers.latest_day))
    worker.start()
    worker.join()
    assert len(errors) == 1 and isinstance(errors[0], StoreError)
    assert errors[0].reason == "wrong_thread"
    assert "AsyncStore.run" in str(errors[0])


def test_a_closed_store_says_so(db_path: Path):
    store = Store(db_path)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="is closed") as caught:
        store.papers.latest_day()
    assert caught.value.reason == "closed"


def test_a_locked_database_is_reported_with_the_operation(db_path: Path):
    store = Store(db_path, busy_timeout=0.05)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError) as caught:
            store.papers.save_listing(MONDAY, [make_paper("2504.00001")])
        assert caught.value.reason == "locked"
        assert caught.value.operation == "saving a listing"
        assert "database is locked" in str(caught.value)
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.papers.save_listing(MONDAY, [make_paper("2504.00001")]).new_papers == 1
    store.close()


def test_a_full_disk_is_reported_and_the_listing_is_not_half_saved(store: Store):
    store.papers.save_listing(MONDAY, [make_paper("2504.00001")])
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 2}")
    big = [make_paper(f"2504.{n:05d}", abstract="long words " * 200) for n in range(2, 400)]
    with pytest.raises(StoreError) as caught:
        store.papers.save_listing(TUESDAY, big)
    assert caught.value.reason == "disk_full"
    assert "full" in str(caught.value)
    assert count(store, "papers") == 1 and count(store, "listings") == 1
    assert store.papers.listing_days() == [MONDAY]


def _capture(errors: list[BaseException], fn) -> None:
    try:
        fn()
    except BaseException as exc:  # handed to the test thread
        errors.append(exc)


def test_affiliations_are_kept_beside_the_names_and_not_searched(store: Store):
    # as the feeds give them (bot.arxiv.feeds.split_affiliation): names alone, affiliations apart
    with_affiliations = make_paper(
        "2504.00101",
        authors=("Jane Doe", "Wei Zhang", "Ada Lovelace"),
        affiliations=("University of Somewhere, United Kingdom", "Tsinghua University, China", ""),
    )
    without = make_paper("2504.00102")
    store.papers.save_listing(MONDAY, [with_affiliations, without])
    by_id = {p.id: p for p in store.papers.for_day(MONDAY)}
    assert by_id["2504.00101"].affiliations == with_affiliations.affiliations
    assert by_id["2504.00101"].authors == ("Jane Doe", "Wei Zhang", "Ada Lovelace")
    assert by_id["2504.00102"].affiliations == ()
    assert store.papers.get_many(["2504.00101"])["2504.00101"].affiliations[1] == (
        "Tsinghua University, China")
    assert store.db.execute("SELECT affiliations FROM papers WHERE id = '2504.00102'").fetchone() == (None,)
    # the full-text search looks at names, never at affiliations
    assert [p.id for p in store.papers.search("Doe")] == ["2504.00101"]
    assert store.papers.search("China") == []


def test_a_newer_version_replaces_the_affiliations_and_a_repeat_fills_them_in(store: Store):
    store.papers.save_listing(MONDAY, [make_paper("2504.00103", version=1)])
    # the same version again, now from a feed that names affiliations
    store.papers.save_listing(TUESDAY, [make_paper(
        "2504.00103", version=1, affiliations=("Inria, France", ""))])
    assert store.papers.for_day(TUESDAY)[0].affiliations == ("Inria, France", "")
    store.papers.save_listing(date(2025, 4, 23), [make_paper(
        "2504.00103", version=2, affiliations=("ETH Zurich", "ETH Zurich"))])
    assert store.papers.get_many(["2504.00103"])["2504.00103"].affiliations == ("ETH Zurich", "ETH Zurich")


def test_papers_saved_before_affiliations_were_kept_read_back_without_them(tmp_path: Path):
    from bot.store import MIGRATIONS

    path = tmp_path / "old.db"
    clock = SteppingClock()
    before = [m for m in MIGRATIONS if m.apply.__name__ != "add_paper_affiliations"]
    with Store(path, clock=clock, migrations=before) as old:
        old.db.execute(
            "INSERT INTO papers (id, version, title, abstract, authors, categories, first_seen,"
            " updated_at) VALUES ('2504.00104', 1, 'T', 'A', '[\"Jane Doe\"]', '[\"cs.CV\"]', 'x', 'x')")
        old.db.execute("INSERT INTO listings (day, paper_id, announce_type, version, position)"
                       " VALUES ('2025-04-21', '2504.00104', 'new', 1, 0)")
    with Store(path, clock=clock) as store:
        [paper] = store.papers.for_day(MONDAY)
        assert (paper.authors, paper.affiliations) == (("Jane Doe",), ())


def test_au_matches_names_from_a_feed_never_their_affiliations(store: Store):
    # the whole way: an arXiv feed with affiliations, the store, the matcher
    from bot.arxiv.feeds import parse_listing
    from bot.matching import Subscription, compile_subscriptions, parse_query
    from tests.fakes.arxiv_server import atom_listing

    feed = atom_listing([{
        "id": "2504.00105v1", "title": "Sparse attention", "abstract": "We study attention.",
        "authors": ["Jane Doe (University of Somewhere, United Kingdom)", "Wei Zhang (Tsinghua, China)"],
        "categories": ["cs.LG"], "announce_type": "new",
    }])
    store.papers.save_listing(MONDAY, parse_listing(feed).papers)
    [paper] = store.papers.for_day(MONDAY)
    assert paper.affiliations == ("University of Somewhere, United Kingdom", "Tsinghua, China")

    def found(query: str) -> bool:
        return bool(compile_subscriptions([Subscription("s", parse_query(query))]).match([paper]))

    assert found("au:Doe") and found('au:"Jane Doe"') and found("au:Zhang")
    assert not found("au:China") and not found("au:Kingdom") and not found("au:Tsinghua")
