"""Command arguments are checked against the shapes the contract declares: every declared
field is accepted, a missing required field or a value of the wrong type is InvalidParams."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from codesearch import contract
from codesearch.contract import ENTITY_KINDS, MAX_LIMIT, Field
from codesearch.lsp import command_args

URI = Path("/work/project/a.py").as_uri()
VALID: dict[str, Any] = {
    "query": "retry failed uploads",
    "limit": 5,
    "language": "python",
    "kind": "function",
    "path": "src/**",
    "uri": URI,
    "position": {"line": 3, "character": 0},
    "force": True,
}
WRONG_TYPE: dict[str, Any] = {
    "string": 42,
    "number": "ten",
    "boolean": "yes",
    "EntityKind": "no-such-kind",
    "Position": {"line": "x"},
}
PARSERS: dict[str, Callable[[tuple[Any, ...]], object]] = {
    contract.SEARCH.id: command_args.search_args,
    contract.FIND_SIMILAR.id: command_args.similar_args,
    contract.REINDEX.id: command_args.reindex_force,
}
WITH_ARGUMENTS = [c for c in contract.COMMANDS if c.arguments]


def full(command: contract.Command) -> dict[str, Any]:
    return {f.name: VALID[f.name] for f in command.arguments}


def test_every_command_with_arguments_has_a_checker() -> None:
    assert {c.id for c in WITH_ARGUMENTS} == set(PARSERS)


@pytest.mark.parametrize("command", WITH_ARGUMENTS, ids=lambda c: c.id)
def test_every_declared_field_is_accepted(command: contract.Command) -> None:
    PARSERS[command.id]((full(command),))
    required = {f.name: VALID[f.name] for f in command.arguments if not f.optional}
    PARSERS[command.id]((required,))


@pytest.mark.parametrize(
    ("command", "field"),
    [(c, f) for c in WITH_ARGUMENTS for f in c.arguments],
    ids=lambda v: v.id if isinstance(v, contract.Command) else v.name,
)
def test_wrong_types_and_missing_required_fields_are_invalid(
    command: contract.Command, field: Field
) -> None:
    parse = PARSERS[command.id]
    bad = {**full(command), field.name: WRONG_TYPE[field.type]}
    with pytest.raises(JsonRpcInvalidParams):
        parse((bad,))
    if not field.optional:
        missing = {k: v for k, v in full(command).items() if k != field.name}
        with pytest.raises(JsonRpcInvalidParams):
            parse((missing,))


def test_an_argument_object_is_required_only_where_a_field_is() -> None:
    for command in WITH_ARGUMENTS:
        if command.argument_required:
            with pytest.raises(JsonRpcInvalidParams):
                PARSERS[command.id](())
        else:
            PARSERS[command.id](())


def test_every_entity_kind_filters_and_limits_hold() -> None:
    for kind in ENTITY_KINDS:
        assert command_args.search_args(({"query": "q", "kind": kind},)).filters.kind == kind
    assert command_args.search_args(({"query": "q"},)).limit == contract.DEFAULT_LIMIT
    command_args.search_args(({"query": "q", "limit": MAX_LIMIT},))
    for limit in (0, MAX_LIMIT + 1, True, 2.5):
        with pytest.raises(JsonRpcInvalidParams):
            command_args.search_args(({"query": "q", "limit": limit},))
