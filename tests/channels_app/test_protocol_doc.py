"""docs/protocol.md says what contactcenter/kernel/protocol.py defines, no more, no less.

The document stays written for people: its tables give each frame's data as an informal field
list, ``{"name": str (a comment), "items": [{"id", "name"}], "agent": agent, ...}``. This test
reads those lists (keys, nested objects, the shapes they name, the values they enumerate, and
whether they say null) and compares them with the models, in both directions and per socket.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import pytest
from pydantic import BaseModel

from contactcenter.kernel import protocol

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


# --- reading the document ------------------------------------------------------------------


@dataclass
class FieldDoc:
    """What the document says of one field."""

    fields: dict[str, FieldDoc] | None = None  # an object spelled out, or a list of them
    shape: str | None = None  # a shape named by the document: `agent`, `[message]`
    values: list[str] = field(default_factory=list)  # "a" | "b"
    nullable: bool = False  # says null somewhere


@dataclass
class Table:
    socket: str | None  # a path, or None for the tables that hold on every socket
    direction: str  # "client" or "server"
    rows: dict[str, str]  # type -> its data cell


class FieldList:
    """A reader of the document's ``{...}`` field lists."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek().isspace():
            self.at += 1

    def quoted(self) -> str:
        assert self.peek() == '"', self.text[self.at :]
        end = self.text.index('"', self.at + 1)
        value = self.text[self.at + 1 : end]
        self.at = end + 1
        return value

    def comment(self) -> str:
        """A parenthesised remark, nested parentheses and all."""
        depth, start = 0, self.at
        while True:
            char = self.peek()
            assert char, f"unclosed ( in {self.text[start:]}"
            depth += {"(": 1, ")": -1}.get(char, 0)
            self.at += 1
            if depth == 0:
                return self.text[start : self.at]

    def object(self) -> dict[str, FieldDoc]:
        assert self.peek() == "{", self.text[self.at :]
        self.at += 1
        fields: dict[str, FieldDoc] = {}
        while True:
            self.skip_spaces()
            if self.peek() == "}":
                self.at += 1
                return fields
            name = self.quoted()
            assert name not in fields, f"{name} twice"
            fields[name] = self.value()
            if self.peek() == ",":
                self.at += 1

    def value(self) -> FieldDoc:
        """What follows a key up to the next comma or closing brace of its object."""
        doc, after_colon = FieldDoc(), False
        while (char := self.peek()) not in (",", "}", ""):
            if char == ":":
                after_colon = True
                self.at += 1
            elif char == "(":
                doc.nullable |= "null" in self.comment()
            elif char == '"':
                text = self.quoted()
                if after_colon:
                    doc.values.append(text)
            elif char == "{":
                doc.fields = self.object()
            elif char == "[":
                self.at += 1
                self.skip_spaces()
                if self.peek() == "{":
                    doc.fields = self.object()
                else:
                    word = self.word()
                    if word in protocol.SHAPES:
                        doc.shape = word
                self.skip_spaces()
                assert self.peek() == "]", self.text[self.at :]
                self.at += 1
            elif char.isalpha():
                word = self.word()
                if word == "null":
                    doc.nullable = True
                elif word in protocol.SHAPES:
                    doc.shape = word
            else:
                self.at += 1
        return doc

    def word(self) -> str:
        match = re.compile(r"\w+").match(self.text, self.at)
        assert match, self.text[self.at :]
        self.at = match.end()
        return match.group()


def data_of(cell: str) -> FieldDoc:
    """A table's data cell: a field list, or the name of a shape."""
    text = cell.replace("`", "").strip()
    if text.startswith("{"):
        return FieldDoc(fields=FieldList(text).object())
    shape = re.match(r"\w+", text)
    assert shape and shape.group() in protocol.SHAPES, f"neither fields nor a shape: {cell}"
    return FieldDoc(shape=shape.group())


def tables(text: str) -> list[Table]:
    found, socket, lines = [], None, text.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("## "):
            path = re.search(r"`(/ws/[^`]*)`", line)
            assert path, f"a section without its socket: {line}"
            socket = path.group(1)
        direction = (
            "client"
            if line.startswith("Client → server")
            else "server"
            if line.startswith("Server → client")
            else None
        )
        if direction is None:
            continue
        rows = {}
        for row in lines[number + 3 :]:
            if not row.startswith("|"):
                break
            cells = [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row)]
            frame_type = cells[1].strip("`")
            assert frame_type not in rows, f"{frame_type} twice in one table"
            rows[frame_type] = cells[2]
        found.append(Table(socket=socket, direction=direction, rows=rows))
    return found


def shapes(text: str) -> dict[str, FieldDoc]:
    """The Shapes list: ``- name: `{...}` (remarks)`` lines after a line ``Shapes``."""
    block = text.split("\nShapes\n", 1)[1].split("\n\n", 1)[0]
    listed = {}
    for line in block.splitlines():
        match = re.match(r"- (\w+): `(\{.*)", line)
        assert match, f"not a shape: {line}"
        listed[match.group(1)] = FieldDoc(fields=FieldList(match.group(2)).object())
    return listed


# --- reading the models --------------------------------------------------------------------


def leaves(annotation: Any) -> list[Any]:
    """The types a field may hold, through Annotated, unions and lists."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return leaves(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType, list):
        return [leaf for arg in typing.get_args(annotation) for leaf in leaves(arg)]
    if origin is Literal:
        return [("literal", value) for value in typing.get_args(annotation)]
    return [annotation]


# Values the document lists once, not at each field: channels, error codes.
LISTED_APART = (
    set(typing.get_args(protocol.ChannelKind)),
    set(typing.get_args(protocol.Error.model_fields["code"].annotation)),
)


def differences(
    doc: dict[str, FieldDoc], model: type[BaseModel], where: str, *, sent: bool
) -> list[str]:
    """How the document's fields differ from the model's. What the server ``sent`` says null
    exactly where it may be null; a client frame's optional fields may take null unsaid."""
    found = []
    documented, defined = set(doc), set(model.model_fields)
    if documented - defined:
        found.append(
            f"{where}: documented but not in {model.__name__}: {sorted(documented - defined)}"
        )
    if defined - documented:
        found.append(f"{where}: {model.__name__} has undocumented {sorted(defined - documented)}")
    for name in sorted(documented & defined):
        said, kinds = doc[name], leaves(model.model_fields[name].annotation)
        models = [kind for kind in kinds if isinstance(kind, type) and issubclass(kind, BaseModel)]
        values = {kind[1] for kind in kinds if isinstance(kind, tuple)}
        here = f"{where}.{name}"
        if said.shape is not None:
            if models != [protocol.SHAPES[said.shape]]:
                found.append(f"{here}: documented as {said.shape}, defined as {models or kinds}")
        elif said.fields is not None:
            if len(models) != 1:
                found.append(f"{here}: documented as an object, defined as {kinds}")
            else:
                found += differences(said.fields, models[0], here, sent=sent)
        elif models:
            found.append(f"{here}: {models[0].__name__}'s fields are not documented")
        if said.values and set(said.values) != values:
            found.append(f"{here}: documented as {said.values}, defined as {sorted(values)}")
        if values and not said.values and values not in LISTED_APART:
            found.append(f"{here}: one of {sorted(values)}, the document does not list them")
        if said.nullable and type(None) not in kinds:
            found.append(f"{here}: documented as nullable, defined as {kinds}")
        if sent and type(None) in kinds and not said.nullable:
            found.append(f"{here}: may be null, the document does not say so")
    return found


def compare(doc: FieldDoc, model: type[BaseModel], where: str, *, sent: bool) -> list[str]:
    if doc.shape is not None:
        if model is not protocol.SHAPES[doc.shape]:
            return [f"{where}: documented as {doc.shape}, defined as {model.__name__}"]
        return []
    assert doc.fields is not None
    return differences(doc.fields, model, where, sent=sent)


# --- the tests -----------------------------------------------------------------------------

TEXT = DOC.read_text()
TABLES = tables(TEXT)


def documented_types(socket: str, direction: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    for table in TABLES:
        if table.direction == direction and table.socket in (None, socket):
            assert not set(rows) & set(table.rows), f"{socket} {direction}: a type twice"
            rows.update(table.rows)
    return rows


def test_the_document_has_a_table_for_each_direction_of_each_socket() -> None:
    described = {(table.socket, table.direction) for table in TABLES}
    assert described == {
        (None, "server"),
        ("/ws/chat/", "client"),
        ("/ws/chat/", "server"),
        ("/ws/agent/", "client"),
        ("/ws/agent/", "server"),
        ("/ws/supervisor/", "client"),
        ("/ws/supervisor/", "server"),
    }
    assert {path for path, _ in described if path} == {s.path for s in protocol.SOCKETS}


@pytest.mark.parametrize("socket", protocol.SOCKETS, ids=lambda socket: socket.path)
def test_each_socket_documents_exactly_the_client_frames_it_defines(socket) -> None:
    assert set(documented_types(socket.path, "client")) == set(socket.client)


@pytest.mark.parametrize("socket", protocol.SOCKETS, ids=lambda socket: socket.path)
def test_each_socket_documents_exactly_the_events_it_sends(socket) -> None:
    assert set(documented_types(socket.path, "server")) == set(socket.server)


@pytest.mark.parametrize("socket", protocol.SOCKETS, ids=lambda socket: socket.path)
def test_each_documented_frame_has_the_fields_of_its_definition(socket) -> None:
    found = []
    for direction, defined in (("client", socket.client), ("server", socket.server)):
        for frame_type, cell in documented_types(socket.path, direction).items():
            if frame_type in defined:
                where = f"{socket.path} {direction} {frame_type}"
                found += compare(
                    data_of(cell), defined[frame_type], where, sent=direction == "server"
                )
    assert found == []


def test_each_shape_is_documented_with_the_fields_of_its_definition() -> None:
    documented = shapes(TEXT)
    assert set(documented) == set(protocol.SHAPES)
    found = []
    for name, model in protocol.SHAPES.items():
        found += compare(documented[name], model, f"shape {name}", sent=True)
    assert found == []


def test_the_documented_error_codes_are_those_an_error_frame_may_carry() -> None:
    block = TEXT.split("Error codes:\n", 1)[1].split("\n\n", 1)[0]
    documented = re.findall(r"^- `(\w+)`", block, flags=re.MULTILINE)
    assert documented == list(typing.get_args(protocol.Error.model_fields["code"].annotation))


def test_the_documented_channels_are_those_a_frame_may_name() -> None:
    sentence = re.search(r"A `channel` is one of ([^.]*)\.", " ".join(TEXT.split()))
    assert sentence, "the sentence that names the channels"
    documented = re.findall(r"`(\w+)`", sentence.group(1))
    assert documented == list(typing.get_args(protocol.ChannelKind))


def test_the_reader_sees_what_a_field_list_says() -> None:
    """The reader itself, on a list that uses every notation the document uses."""
    doc = FieldList(
        '{"id", "when": str (ISO, or null), "kind": "a" | "b", "who": agent, '
        '"rows": [{"x", "y" (a (nested) remark, with commas)}], "tags": [str], "seen": [message]}'
    ).object()
    assert list(doc) == ["id", "when", "kind", "who", "rows", "tags", "seen"]
    assert doc["when"].nullable and not doc["id"].nullable
    assert doc["kind"].values == ["a", "b"]
    assert doc["who"].shape == "agent" and doc["seen"].shape == "message"
    assert list(doc["rows"].fields or {}) == ["x", "y"]
    assert doc["tags"].fields is None and doc["tags"].shape is None
