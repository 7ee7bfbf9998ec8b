"""Writes pair-2025-04-28.rss.xml and pair-2025-04-28.atom.xml: one synthetic quant-ph day in both
of rss.arxiv.org's forms (python tests/data/write_pair.py). Every paper is invented; the shapes are
arXiv's (compare ../shared/fixtures/arxiv-listing/quant-ph-2025-04-28.*). The properties the tests
rely on are listed in README.md; edit the entries here, not the XML, so escaping stays right.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

FEED = "quant-ph"
BUILT_RSS = "Mon, 28 Apr 2025 04:00:00 +0000"
ANNOUNCED_RSS = "Mon, 28 Apr 2025 00:00:00 -0400"
BUILT_ATOM = "2025-04-28T04:00:00+00:00"
ANNOUNCED_ATOM = "2025-04-28T00:00:00-04:00"
CC_BY = "http://creativecommons.org/licenses/by/4.0/"

ENTRIES = [
    dict(id="2504.90101v1", type="new", categories=["quant-ph"],
         title="A Self-Adjoint Clock Operator on an Invented Weighted Space",
         authors="Radka Kowal",
         abstract=r"We introduce a clock operator \(C_w = i\hbar\,\partial_E\) on a weighted space and prove "
         r"that it is essentially self-adjoint under mild conditions on the weight."),
    dict(id="2504.90102v1", type="new", categories=["quant-ph", "physics.comp-ph"],
         title="Noise Helps Invented Reservoirs",
         authors="Yusra Kora, Christophe Simonet",
         # written over several lines, as arXiv's feeds often do
         abstract="Reservoir computing with invented spin networks\nbenefits from statistical noise in"
         "\nsmall samples, which we show for\nthree model families."),
    dict(id="2504.90103v1", type="new", categories=["quant-ph", "cond-mat.str-el"],
         title="Six Authors Measure a Qubit",
         authors="Ana Abe, Bo Berg, Cem Çelik, Dörte Dahl, Émile Étienne, Fu Feng",
         abstract="Six invented authors measure one invented qubit many times."),
    dict(id="2504.90104v1", type="cross", categories=["cond-mat.mes-hall", "quant-ph"],
         title="Small Perturbations of Invented Dots",
         authors="Gil Gómez, Hanna Holm",
         abstract=r"For a small coupling ($0< \delta \ll 1$) the invented dot keeps its spectrum."),
    dict(id="2504.90105v1", type="cross", categories=["math-ph", "math.MP", "quant-ph"],
         title="Lattice Bounds & Invented Operators",
         authors="Ivo Ito",
         abstract="We bound invented operators on lattices & graphs."),
    dict(id="2411.90106v2", type="replace", categories=["quant-ph"],
         title="Revised: An Invented Entanglement Witness",
         authors="Jan Jansen, Kai Kim",
         abstract="An invented witness, revised\nover two lines."),
    dict(id="2409.90107v3", type="replace", categories=["quant-ph", "cs.IT"],
         title="A Third Version of an Invented Code",
         authors="Lea Lund",
         abstract="Codes, invented and revised twice."),
    dict(id="quant-ph/0612001v4", type="replace-cross", categories=["cs.CC", "quant-ph"],
         title="An Old-Style Id, Replaced Across Archives",
         authors="Mo Mehta, Nils Nyberg",
         abstract="An old paper with an old-style id, cross-listed and replaced."),
]


def rss_item(entry: dict) -> list[str]:
    versionless = entry["id"].rsplit("v", 1)[0]
    return [
        "    <item>",
        f"      <title>{escape(entry['title'])}</title>",
        f"      <link>https://arxiv.org/abs/{versionless}</link>",
        f"      <description>arXiv:{entry['id']} Announce Type: {entry['type']} \n"
        f"Abstract: {escape(entry['abstract'])}</description>",
        f'      <guid isPermaLink="false">oai:arXiv.org:{entry["id"]}</guid>',
        *(f"      <category>{category}</category>" for category in entry["categories"]),
        f"      <pubDate>{ANNOUNCED_RSS}</pubDate>",
        f"      <arxiv:announce_type>{entry['type']}</arxiv:announce_type>",
        f"      <dc:rights>{CC_BY}</dc:rights>",
        f"      <dc:creator>{escape(entry['authors'])}</dc:creator>",
        "    </item>",
    ]


def rss_xml() -> str:
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'version="2.0">',
        "  <channel>",
        f"    <title>{FEED} updates on arXiv.org</title>",
        f"    <link>http://rss.arxiv.org/rss/{FEED}</link>",
        f"    <description>{FEED} updates on the arXiv.org e-print archive.</description>",
        f'    <atom:link href="http://rss.arxiv.org/rss/{FEED}" rel="self" type="application/rss+xml"/>',
        "    <docs>http://www.rssboard.org/rss-specification</docs>",
        "    <language>en-us</language>",
        f"    <lastBuildDate>{BUILT_RSS}</lastBuildDate>",
        "    <managingEditor>rss-help@arxiv.org</managingEditor>",
        f"    <pubDate>{ANNOUNCED_RSS}</pubDate>",
        "    <skipDays>",
        "      <day>Saturday</day>",
        "      <day>Sunday</day>",
        "    </skipDays>",
    ]
    for entry in ENTRIES:
        lines += rss_item(entry)
    lines += ["  </channel>", "</rss>"]
    return "\n".join(lines) + "\n"


def atom_entry(entry: dict) -> list[str]:
    versionless = entry["id"].rsplit("v", 1)[0]
    return [
        "  <entry>",
        f"    <id>oai:arXiv.org:{entry['id']}</id>",
        f"    <title>{escape(entry['title'])}</title>",
        f"    <updated>{BUILT_ATOM}</updated>",
        f'    <link href="https://arxiv.org/abs/{versionless}" rel="alternate" type="text/html" />',
        f"    <summary>arXiv:{entry['id']} Announce Type: {entry['type']} \n"
        f"Abstract: {escape(entry['abstract'])}</summary>",
        *(f'    <category term="{category}" />' for category in entry["categories"]),
        f"    <published>{ANNOUNCED_ATOM}</published>",
        f"    <arxiv:announce_type>{entry['type']}</arxiv:announce_type>",
        f"    <dc:rights>{CC_BY}</dc:rights>",
        f"    <dc:creator>{escape(entry['authors'])}</dc:creator>",
        "  </entry>",
    ]


def atom_xml() -> str:
    lines = [
        "<?xml version='1.0' encoding='utf-8'?>",
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">',
        f"  <id>http://rss.arxiv.org/atom/{FEED}</id>",
        f"  <title>{FEED} updates on arXiv.org</title>",
        f"  <updated>{BUILT_ATOM}</updated>",
        f'  <link href="http://rss.arxiv.org/atom/{FEED}" rel="self" type="application/atom+xml" />',
        "  <subtitle>quant-ph updates on the arXiv.org e-print archive.</subtitle>",
    ]
    for entry in ENTRIES:
        lines += atom_entry(entry)
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    (here / "pair-2025-04-28.rss.xml").write_text(rss_xml(), encoding="utf-8")
    (here / "pair-2025-04-28.atom.xml").write_text(atom_xml(), encoding="utf-8")
