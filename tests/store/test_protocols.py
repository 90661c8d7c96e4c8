"""The store's seams (monitor/store/__init__.py): ``SQLStore`` is each consumer's Protocol,
and each method is declared in one Protocol only. (mypy checks the signatures where
``open_store`` returns an ``SQLStore`` as a ``Store``, which is all of them together.)"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from monitor import store as seams
from monitor.store.sql import SQLStore

PROTOCOLS = [
    seams.RunnerStore,
    seams.LeaseStore,
    seams.NodeList,
    seams.ClaimStore,
    seams.AlertLog,
    seams.OutboxStore,
    seams.ArchiveStore,
    seams.CheckStore,
    seams.ReportStore,
    seams.SearchStore,
    seams.WebStore,
    seams.DaemonStore,
    seams.EvidenceStore,
    seams.Store,
]


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda protocol: protocol.__name__)
def test_the_sql_store_is_every_consumers_store(tmp_path: Path, protocol: type) -> None:
    # One class serves both databases: SQLite is enough to look at its methods.
    with SQLStore.open(f"sqlite:///{tmp_path / 'monitor.db'}") as store:
        assert isinstance(store, protocol)
    for name in _declared(protocol):
        if isinstance(vars(protocol)[name], property):
            assert isinstance(getattr(SQLStore, name), property), name
            continue
        declared = inspect.signature(getattr(protocol, name)).parameters.values()
        implemented = inspect.signature(getattr(SQLStore, name)).parameters.values()
        assert [(p.name, p.kind, p.default) for p in implemented] == [
            (p.name, p.kind, p.default) for p in declared
        ], name


def test_each_method_is_declared_once() -> None:
    owners: dict[str, list[str]] = {}
    for protocol in PROTOCOLS:
        for name in _declared(protocol):
            owners.setdefault(name, []).append(protocol.__name__)
    assert {name: where for name, where in owners.items() if len(where) > 1} == {}


def test_the_whole_store_is_all_the_protocols_together() -> None:
    every = {name for protocol in PROTOCOLS for name in _declared(protocol)}
    assert every == {name for name in dir(seams.Store) if not name.startswith("_")}


def _declared(protocol: type) -> list[str]:
    """The members ``protocol`` declares itself (not those of the Protocols it extends)."""
    return [
        name
        for name, value in vars(protocol).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    ]
