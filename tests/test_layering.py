"""Which part of paperbot may import which (DESIGN.md §1), checked on every module's source.

`MAY_IMPORT` is the layering as a table: each unit (a package or a top-level module of `bot`)
and the units it may import besides itself. A module belongs to the longest unit name that
prefixes it, so `bot.platforms.slack.app` is in `bot.platforms.slack`. Every import counts, also
one inside a function or under `if TYPE_CHECKING:`. A new package is one new line here; a module
that belongs to no unit fails the test, so the table cannot silently fall behind.

Also: no import cycles between modules, the table itself is acyclic (so units cannot form a
cycle either), and the core never imports the chat libraries.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
PLATFORM_LIBRARIES = ("slack_bolt", "slack_sdk", "discord")

# The leaves: plain data and small utilities that import nothing of ours.
LEAVES = {"bot.models", "bot.taxonomy", "bot.clock", "bot.metrics", "bot.logs", "bot.collector"}
# What the chat adapters may use: the command layer, and the neutral model they render.
ADAPTER = {"bot.commands", "bot.config", "bot.delivery", "bot.destinations", "bot.digest", "bot.models"}

MAY_IMPORT: dict[str, set[str]] = {
    **{leaf: set() for leaf in LEAVES},
    "bot": set(),                                   # the package's __init__: the version only
    "bot.config": {"bot.models", "bot.taxonomy"},
    "bot.arxiv": {"bot.models", "bot.config", "bot.metrics"},
    "bot.matching": {"bot.models", "bot.taxonomy"},
    "bot.store": {"bot.models"},
    "bot.digest": {"bot.matching", "bot.models"},  # matching: LaTeX shown as readable text
    "bot.ingest": {"bot.arxiv", "bot.models", "bot.store"},
    # Who receives what: configured topics, chat channels, people.
    "bot.destinations": {"bot.collector", "bot.config", "bot.matching", "bot.models", "bot.store"},
    # Learned ranking: relevance models from votes (people: a direct message's person).
    "bot.ranking": {"bot.destinations", "bot.matching", "bot.models", "bot.store"},
    # Posting only: the sink seam and the runner (pacing, retries, the ledger).
    "bot.delivery": {"bot.clock", "bot.destinations", "bot.digest", "bot.metrics", "bot.models",
                     "bot.store"},
    # One announcement day: one matcher pass, enrichment, the digests.
    "bot.daily": {"bot.arxiv", "bot.collector", "bot.destinations", "bot.digest", "bot.ingest", "bot.matching",
                  "bot.metrics", "bot.models", "bot.ranking", "bot.store"},
    # (bot.ranking: `today` and `me list` show a day in the learned order its thread has.)
    "bot.commands": {"bot.config", "bot.delivery", "bot.destinations", "bot.digest", "bot.matching", "bot.models",
                     "bot.ranking", "bot.store"},
    "bot.platforms.markdown": {"bot.delivery", "bot.destinations", "bot.digest", "bot.models"},
    "bot.platforms.slack": ADAPTER,
    "bot.platforms.discord": ADAPTER,
    "bot.scheduler": {"bot.collector", "bot.daily", "bot.destinations", "bot.arxiv", "bot.clock", "bot.config", "bot.delivery", "bot.ingest",
                      "bot.matching", "bot.metrics", "bot.models", "bot.ranking", "bot.store",
                      "bot.weekly"},
    # The weekly best-of: votes and delivered papers read from the store, posted by the runner.
    "bot.weekly": {"bot.delivery", "bot.destinations", "bot.digest", "bot.models", "bot.store"},
    # The early edition: the scheduler reading arXiv's listing pages from 20:00 ET.
    "bot.early_edition": {"bot.arxiv", "bot.delivery", "bot.ingest", "bot.metrics", "bot.models",
                          "bot.scheduler", "bot.store"},
    "bot.ops": {"bot.metrics", "bot.store"},
    "bot.oneshot": {"bot.daily", "bot.destinations", "bot.arxiv", "bot.config", "bot.delivery", "bot.ingest", "bot.matching",
                        "bot.platforms.markdown", "bot.ranking", "bot.store"},
    # The composition root: opens the store, builds the command layer, starts the platforms
    # (Slack and Discord by module name, only when their token is set).
    "bot.service": {"bot.weekly", "bot.ranking", "bot.early_edition", "bot.daily", "bot.destinations", "bot.arxiv", "bot.clock", "bot.commands", "bot.config", "bot.delivery", "bot.ops",
                "bot.platforms.markdown", "bot.scheduler", "bot.store"},
    "bot.cli": {"bot", "bot.service", "bot.arxiv", "bot.config", "bot.oneshot", "bot.ingest",
                "bot.logs", "bot.matching", "bot.models", "bot.platforms.discord", "bot.preflight", "bot.store",
                "bot.taxonomy"},
    # What `run` needs, checked before it starts (check-config shows the same problems).
    "bot.preflight": {"bot.config", "bot.destinations", "bot.matching", "bot.store"},
}

# Promises the table keeps, said outright (the table could be edited to break them).
NEVER = [
    ("bot.platforms.slack", "bot.store"),
    ("bot.platforms.discord", "bot.store"),
    ("bot.platforms.markdown", "bot.store"),
    ("bot.commands", "bot.platforms.slack"),
    ("bot.commands", "bot.platforms.discord"),
    ("bot.matching", "bot.store"),
    ("bot.store", "bot.matching"),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def unit_of(module: str) -> str | None:
    candidates = [unit for unit in MAY_IMPORT if module == unit or module.startswith(unit + ".")]
    return max(candidates, key=len) if candidates else None


def _resolve(name: str) -> str:
    """The module `name` refers to: itself, or the package that holds the name."""
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every module of ours `module` imports (`from pkg import sub` counts as `pkg.sub` when it
    is a module, else as `pkg`)."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "bot")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "bot":
                continue
            for alias in node.names:
                target = f"{source}.{alias.name}"
                found.add(target if target in modules() else source)
    return frozenset(_resolve(name) for name in found) - {module}


def test_every_module_belongs_to_a_unit_of_the_table():
    assert [m for m in modules() if unit_of(m) is None] == []
    unknown = {name for allowed in MAY_IMPORT.values() for name in allowed} - set(MAY_IMPORT)
    assert unknown == set()


def test_every_import_is_allowed_by_the_table():
    offenders = []
    for module in modules():
        unit = unit_of(module)
        for imported in sorted(imports_of(module)):
            target = unit_of(imported)
            if target != unit and target not in MAY_IMPORT[unit]:
                offenders.append(f"{module} ({unit}) imports {imported} ({target})")
    assert offenders == []


@pytest.mark.parametrize("importer, imported", NEVER)
def test_the_table_keeps_its_promises(importer, imported):
    assert imported not in MAY_IMPORT[importer]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_modules():
    graph = {module: set(imports_of(module)) for module in modules()}
    assert _cycles(graph) == []


def test_the_table_is_acyclic_so_units_cannot_form_a_cycle():
    assert _cycles({unit: set(allowed) for unit, allowed in MAY_IMPORT.items()}) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_does_not_import_platform_libraries():
    offenders = []
    for path in BOT.rglob("*.py"):
        if "platforms" in path.relative_to(BOT).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in PLATFORM_LIBRARIES:
                    offenders.append(f"{path.relative_to(BOT.parent)}: {name}")
    assert not offenders, offenders
