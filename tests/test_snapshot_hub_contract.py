"""One contract for everything that speaks to the Snapshot hub: the hub's own schema.

The stand-in hub serves `tests/fakes/published/snapshot-hub-schema.gql`, a verbatim copy
of snapshot-hub's `src/graphql/schema.gql`. These tests fail when the stand-in, any query
document Steward sends, or the pydantic models that read the answers drift from it:

- the stand-in serves exactly that schema (introspected over HTTP);
- every document validates against it and is the only kind of document Steward sends;
- for every document, answers built from the schema's declared types alone (every field
  queried, each scalar as the hub serialises it, each nullable field null in turn, floats
  that JSON writes as integers, empty lists, Int at its limits) are read by the models and
  carried into the domain models; a null Steward cannot do without is refused by name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from eth_utils import to_checksum_address
from graphql import (
    FieldNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationDefinitionNode,
    SelectionSetNode,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    parse,
    print_schema,
    validate,
)
from pydantic import BaseModel

from agent.errors import MalformedResponse
from agent.models import Space
from agent.store.records import ProposalRef
from connectors.snapshot import queries
from connectors.snapshot.reconcile import fetch_cast_vote
from connectors.snapshot.schema import REQUIRED_WHERE_NULLABLE, ROOT_MODELS, RawProposal, RawVote
from connectors.snapshot.schema import parse as read_answer
from connectors.snapshot.source import to_proposal
from connectors.snapshot.vote_pass import to_vote
from tests.conftest import PROJECT
from tests.fakes.snapshot_hub import SCHEMA, SCHEMA_PATH, FakeHub
from tests.pipeline import Pipeline

PUBLISHED = PROJECT / "tests" / "fakes" / "published" / "snapshot-hub-schema.gql"
SHARED_COPY = PROJECT.parent / "shared" / "data" / "snapshot-hub-schema.gql"
PUBLISHED_SHA256 = "73f65421d6f97d37cc1fa7243b5ee71cb270e8b418b4d5431681b4a1b4c3d483"
"""snapshot-hub@de4c4ff8 `src/graphql/schema.gql`; replacing the file is a deliberate act."""

DOCUMENTS: dict[str, str] = {
    name: value
    for name, value in vars(queries).items()
    if name.isupper() and not name.startswith("_") and isinstance(value, str)
}

# How the hub serialises each scalar (graphql-js); `Any` is the vote's choice below.
SCALARS: dict[str, Any] = {
    "Int": 21_430_000,
    "Float": 2.5,
    "String": "0x2B3f9a",
    "Boolean": True,
    "Any": 1,
}
DOMAINS: dict[str, list[Any]] = {
    "Proposal.state": ["pending", "active", "closed"],
    # single-choice/basic, approval/ranked-choice, weighted/quadratic, shutter-encrypted
    "Vote.choice": [1, [1, 3], {"1": 2, "2": 1.5}, "0x04a1encrypted"],
}
"""Values the hub gives a field beyond its scalar type (what the hub's code writes there).
A model that narrows a field further than its scalar must say so here, or the test fails."""

Choose = Callable[[str, GraphQLOutputType], Any]
_DEFAULT = object()


def _operations(document: str) -> list[OperationDefinitionNode]:
    return [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]


def _typed(gtype: GraphQLOutputType, node: FieldNode, choose: Choose) -> Any:
    if isinstance(gtype, GraphQLNonNull):
        return _typed(gtype.of_type, node, choose)
    if isinstance(gtype, GraphQLList):
        return [_typed(gtype.of_type, node, choose)]
    if isinstance(gtype, GraphQLObjectType):
        assert node.selection_set is not None
        return _object(gtype, node.selection_set, choose)
    return SCALARS[get_named_type(gtype).name]


def _object(gtype: GraphQLObjectType, selections: SelectionSetNode, choose: Choose) -> Any:
    out: dict[str, Any] = {}
    for node in selections.selections:
        assert isinstance(node, FieldNode), "documents use plain fields only"
        field_type = gtype.fields[node.name.value].type
        chosen = choose(f"{gtype.name}.{node.name.value}", field_type)
        key = node.alias.value if node.alias else node.name.value
        out[key] = _typed(field_type, node, choose) if chosen is _DEFAULT else chosen
    return out


def _answer(operation: OperationDefinitionNode, choose: Choose) -> dict[str, Any]:
    """The `data` of an answer to `operation`, every field built from its declared type."""
    return _object(SCHEMA.query_type, operation.selection_set, choose)  # type: ignore[arg-type]


def _fields(operation: OperationDefinitionNode) -> Iterator[tuple[str, GraphQLOutputType]]:
    """(`Type.field`, declared type) of every field the operation selects, roots excluded."""

    def walk(gtype: GraphQLObjectType, selections: SelectionSetNode) -> Iterator[Any]:
        for node in selections.selections:
            assert isinstance(node, FieldNode)
            field_type = gtype.fields[node.name.value].type
            yield f"{gtype.name}.{node.name.value}", field_type
            named = get_named_type(field_type)
            if isinstance(named, GraphQLObjectType) and node.selection_set:
                yield from walk(named, node.selection_set)

    for root in operation.selection_set.selections:
        assert isinstance(root, FieldNode) and root.selection_set is not None
        named = get_named_type(SCHEMA.query_type.fields[root.name.value].type)  # type: ignore[union-attr]
        assert isinstance(named, GraphQLObjectType)
        yield from walk(named, root.selection_set)


def _read(operation: OperationDefinitionNode, data: dict[str, Any]) -> dict[str, Any]:
    """Read each root of an answer the way Steward does (`connectors.snapshot.schema`)."""
    out = {}
    for root in operation.selection_set.selections:
        assert isinstance(root, FieldNode)
        name = root.name.value
        many = isinstance(SCHEMA.query_type.fields[name].type, GraphQLList)  # type: ignore[union-attr]
        out[name] = read_answer(data, name, ROOT_MODELS[name], many=many)
    return out


def _variants(operation: OperationDefinitionNode) -> Iterator[tuple[str, Choose, str | None]]:
    """(label, choose, the field a refusal must name or None) for every answer shape."""
    fields = list(_fields(operation))

    def domain_first(key: str, _t: GraphQLOutputType) -> Any:
        return DOMAINS[key][0] if key in DOMAINS else _DEFAULT

    yield "every field", domain_first, None
    for key in DOMAINS:
        for value in DOMAINS[key][1:]:
            if any(k == key for k, _ in fields):
                yield (
                    f"{key}={value!r}",
                    lambda k, t, key=key, value=value: value if k == key else domain_first(k, t),
                    None,
                )
    for key, gtype in fields:
        if not isinstance(gtype, GraphQLNonNull):
            refused = key if key in REQUIRED_WHERE_NULLABLE else None
            yield (
                f"{key}=null",
                lambda k, t, key=key: None if k == key else domain_first(k, t),
                refused,
            )
        if _is_list(gtype):
            yield (
                f"{key}=[]",
                lambda k, t, key=key: [] if k == key else domain_first(k, t),
                None,
            )

    def whole_floats(key: str, gtype: GraphQLOutputType) -> Any:
        if get_named_type(gtype).name == "Float" and not _is_list(gtype):
            return 3  # JSON.stringify(3.0) === "3"
        return domain_first(key, gtype)

    yield "floats written as integers", whole_floats, None
    for label, edge in (("Int=0", 0), ("Int=2^31-1", 2**31 - 1)):
        yield (
            label,
            lambda k, t, edge=edge: (
                edge if get_named_type(t).name == "Int" and not _is_list(t) else domain_first(k, t)
            ),
            None,
        )


def _is_list(gtype: GraphQLOutputType) -> bool:
    inner = gtype.of_type if isinstance(gtype, GraphQLNonNull) else gtype
    return isinstance(inner, GraphQLList)


CASES = [
    pytest.param(name, op, label, choose, refused, id=f"{name}:{label}")
    for name, document in DOCUMENTS.items()
    for op in _operations(document)
    for label, choose, refused in _variants(op)
]


# ---------------------------------------------------------------- the schema itself
def test_the_shipped_schema_is_the_published_one() -> None:
    assert SCHEMA_PATH == PUBLISHED
    raw = PUBLISHED.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == PUBLISHED_SHA256
    if SHARED_COPY.exists():  # the copy in the shared data, where a checkout has it
        assert raw == SHARED_COPY.read_bytes()
    licence = PUBLISHED.with_name("LICENSE-snapshot-hub").read_text(encoding="utf-8")
    assert "MIT" in licence and "de4c4ff81035a5ac64f65161922abf8d1470e0ae" in licence


def test_the_stand_in_serves_the_published_schema_over_http() -> None:
    with FakeHub() as hub:
        answer = httpx.post(hub.url, json={"query": get_introspection_query()}, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    served = build_client_schema(answer.json()["data"])
    assert print_schema(served) == print_schema(SCHEMA)
    assert str(SCHEMA.get_type("Proposal").fields["snapshot"].type) == "Int"  # type: ignore[union-attr]


# ------------------------------------------------------------------- the documents
@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_query_document_validates_against_the_published_schema(name: str) -> None:
    document = parse(DOCUMENTS[name])
    assert not validate(SCHEMA, document), [e.message for e in validate(SCHEMA, document)]
    assert _operations(DOCUMENTS[name]), f"{name} holds no operation"
    with FakeHub() as hub:  # and within the hub's depth and size limits
        variables = {"first": 1, "skip": 0, "since": 0, "ids": ["x"], "id": "x"}
        variables |= {"space": "x", "proposal": "x", "voter": "x"}
        status, payload = hub.execute(DOCUMENTS[name], variables)
    assert status == 200, payload


def test_steward_sends_only_these_documents(tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    with FakeHub() as hub:
        hub.add_space("ens.eth", name="ENS")
        prop = hub.add_proposal("ens.eth", title="Fund docs", end=2_000_000_000)
        voter = to_checksum_address("0x" + "ab" * 20)
        hub.add_vote(prop["id"], voter=voter)
        pipe = Pipeline(hub.url, tmp_path, embedder)
        pipe.run(["ens.eth"])
        pipe.run(["ens.eth"], full=True)
        client = pipe.source(["ens.eth"]).client
        assert fetch_cast_vote(client, proposal=prop["id"], voter=voter) is not None
        sent = {r["query"] for r in hub.requests if "query" in r}
    assert sent and sent <= set(DOCUMENTS.values())


# --------------------------------------------------------------------- the models
@pytest.mark.parametrize(("name", "op", "label", "choose", "refused"), CASES)
def test_the_models_read_every_answer_the_schema_allows(
    name: str,
    op: OperationDefinitionNode,
    label: str,
    choose: Choose,
    refused: str | None,
) -> None:
    data = _answer(op, choose)
    if refused is not None:
        field = refused.split(".")[1]
        with pytest.raises(MalformedResponse, match=rf"\.{field}\b.*nothing from it was stored"):
            _read(op, data)
        return
    read = _read(op, data)
    space = Space(source="snapshot", id="ens.eth")
    for value in read.values():
        for raw in value if isinstance(value, list) else [value]:
            if isinstance(raw, RawProposal):  # ...and carried into the stored proposal
                proposal = to_proposal(raw, space)
                assert proposal.snapshot_block == raw.snapshot
                assert proposal.snapshot_block is None or isinstance(proposal.snapshot_block, int)
            if isinstance(raw, RawVote):
                ref = ProposalRef(
                    uid="snapshot:p", id="p", state="closed", end_ts=None, scores_final=True,
                    votes_complete=False, deleted=False,
                )  # fmt: skip
                assert to_vote(raw, ref, "ens.eth").choice == raw.choice


def test_an_integer_snapshot_block_is_carried_into_the_model() -> None:
    op = _operations(queries.PROPOSALS_BY_ID)[0]
    data = _answer(op, lambda k, t: DOMAINS[k][0] if k in DOMAINS else _DEFAULT)
    data["proposals"][0]["snapshot"] = 21_430_000
    raw = _read(op, data)["proposals"][0]
    assert to_proposal(raw, Space(source="snapshot", id="x")).snapshot_block == 21_430_000
    data["proposals"][0]["snapshot"] = "21430000"  # what hubs before snapshot-hub #937 sent
    assert _read(op, data)["proposals"][0].snapshot == 21_430_000


def test_no_model_field_is_left_unasked_and_none_is_unknown_to_the_schema() -> None:
    """A model field no document selects would always hold its default: a silent gap."""
    asked: dict[type[BaseModel], set[str]] = {}

    def collect(model: type[BaseModel], selections: SelectionSetNode) -> None:
        for node in selections.selections:
            assert isinstance(node, FieldNode)
            asked.setdefault(model, set()).add(node.name.value)
            annotation = model.model_fields[node.name.value].annotation
            if node.selection_set is not None and isinstance(annotation, type):
                collect(annotation, node.selection_set)

    for document in DOCUMENTS.values():
        for op in _operations(document):
            for root in op.selection_set.selections:
                assert isinstance(root, FieldNode) and root.selection_set is not None
                model = ROOT_MODELS[root.name.value]
                collect(model, root.selection_set)
    for model, names in asked.items():
        assert set(model.model_fields) <= names, (model.__name__, set(model.model_fields) - names)
    for key in REQUIRED_WHERE_NULLABLE:
        type_name, field = key.split(".")
        declared = SCHEMA.get_type(type_name).fields[field].type  # type: ignore[union-attr]
        assert not isinstance(declared, GraphQLNonNull), f"{key} is non-null: drop it"


# ------------------------------------------------------------------ end to end
def test_ingest_from_a_hub_serving_the_published_schema_stores_the_block(
    tmp_path,  # type: ignore[no-untyped-def]
    embedder,
) -> None:
    with FakeHub() as hub:
        hub.add_space("ens.eth", name="ENS")
        hub.add_proposal("ens.eth", id="0x" + "1" * 64, title="Fund docs", snapshot=21_430_000)
        hub.add_proposal("ens.eth", id="0x" + "2" * 64, title="No block yet", snapshot=None)
        pipe = Pipeline(hub.url, tmp_path, embedder)
        counts, _ = pipe.run(["ens.eth"])
        answers = [r for r in hub.requests if "proposals" in r.get("query", "")]
    assert counts.new == 2
    blocks = {p.id[:4]: p.snapshot_block for p in pipe.store.proposals(source="snapshot")}
    assert blocks == {"0x11": 21_430_000, "0x22": None}
    assert answers, "the proposals came through the hub's GraphQL endpoint"
