"""A person on a served page without a browser: logs in over HTTP, opens the page, and speaks
Bokeh's websocket protocol to it as BokehJS does (pull the document, send a widget's request
as the browser's ``send_msg`` event, read the answers the server patches in). Shared by the
tests and ``bench/served_load.py``; one process can run many of these at once.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect


def encode(value: Any) -> Any:
    """``value`` as BokehJS serialises it (objects as maps: an ``id`` key is not a reference;
    a model reference is ``{"id": ...}`` alone)."""
    if isinstance(value, dict) and list(value) != ["id"]:
        return {"type": "map", "entries": [[k, encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


async def log_in(base: str, name: str, password: str) -> httpx.Cookies:
    """The session cookies of ``name``, logged in through the login form."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        form = await http.get("/login")
        found = re.search(r'name="_xsrf" value="([^"]*)"', form.text)
        answer = await http.post(
            "/login",
            data={
                "username": name,
                "password": password,
                "next": "/",
                "_xsrf": found.group(1) if found else "",
            },
        )
        if answer.status_code >= 400 or "annotation_kit" not in http.cookies:
            raise RuntimeError(f"{name} could not log in: HTTP {answer.status_code}")
        return http.cookies


DIAGNOSES: list[Callable[[], str]] = []
"""What a test's servers can tell when a page waited in vain (their log, their database's
waits): added to the error, read at that moment rather than after the test cleaned up."""


class Page:
    """One open page (one Bokeh session) of one logged-in person."""

    def __init__(self, socket: WebSocketClientConnection, models: dict[str, dict[str, Any]]):
        self.socket = socket
        self.models = models
        """Every model of the document by id: its attributes as last patched."""
        self.closed = False
        self.answered: dict[str, float] = {}
        """Write id → when its answer (``_done``) arrived (``time.perf_counter``)."""
        self.refused: dict[str, str] = {}
        """Write id → the refusal (``_error``) its answer carried."""
        self.ended = ""
        """Why the page stopped reading (the server closed it, or it was closed)."""
        self.problems: list[str] = []
        """Messages this client could not read (the page went on reading the next ones)."""
        self.received = 0
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, base: str, cookies: httpx.Cookies, path: str) -> Page:
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as http:
            html = (await http.get(path)).text
        found = re.search(r'"token":\s*"([^"]+)"', html)
        if found is None:
            raise RuntimeError(f"{path}: no Bokeh session in the page")
        header = "; ".join(f"{k}={v}" for k, v in cookies.items())
        url = base.replace("http", "ws", 1) + path.split("?")[0] + "/ws"
        socket = await websocket_connect(
            # a browser's websocket waits as long as the server takes (tornado's client: 20 s)
            HTTPRequest(url, headers={"Cookie": header}, connect_timeout=120, request_timeout=120),
            subprotocols=["bokeh", found.group(1)],
            max_message_size=200 * 1024 * 1024,
        )
        if socket.protocol is not None:  # our frames go out at once, as a browser's do
            socket.protocol.set_nodelay(True)
        assert (await _receive(socket))[0]["msgtype"] == "ACK"
        await _send(socket, "PULL-DOC-REQ", {})
        early: list[dict[str, Any]] = []  # changes sent before the document: BokehJS keeps them
        while True:
            header_, content = await _receive(socket)
            if header_["msgtype"] == "PULL-DOC-REPLY":
                break
            assert header_["msgtype"] == "PATCH-DOC", header_
            early.append(content)
        models: dict[str, dict[str, Any]] = {}
        _collect(content["doc"], models)
        page = cls(socket, models)
        for patch in early:
            page._patch(patch)
        return page

    def widget(self, kind: str) -> tuple[str, str]:
        """The ids of the Panel component of the widget ``kind`` and of its synced state."""
        for model_id, attributes in self.models.items():
            data = attributes.get("data")
            if isinstance(data, dict) and self.models.get(data.get("id", ""), {}).get("_kind") == (
                kind
            ):
                return model_id, data["id"]
        raise LookupError(f"no {kind} on the page")

    def state(self, kind: str) -> dict[str, Any]:
        return self.models[self.widget(kind)[1]]

    async def request(self, kind: str, action: str, **fields: Any) -> str:
        """Send a write as the page does; returns its id (answered: in :attr:`answered`)."""
        write_id = f"w-{uuid.uuid4().hex}"
        await self.send(kind, {"id": write_id, "action": action, **fields})
        return write_id

    async def send(self, kind: str, message: dict[str, Any]) -> None:
        component, _data = self.widget(kind)
        event = {
            "type": "event",
            "name": "data_event",
            "values": encode({"model": {"id": component}, "data": message}),
        }
        await _send(
            self.socket,
            "PATCH-DOC",
            {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": event}]},
        )

    async def wait(self, condition: Any, timeout: float = 30) -> None:
        started = time.monotonic()
        received = self.received
        while not condition():
            if self.closed or time.monotonic() > started + timeout:
                raise TimeoutError(self._why(time.monotonic() - started, received))
            await asyncio.sleep(0.01)

    def _why(self, waited: float, received: int) -> str:
        lines = [
            f"the page did not get the awaited answer: waited {waited:.1f} s, "
            f"{self.received - received} message(s) came meanwhile, "
            + (f"the page had ended ({self.ended})" if self.closed else "the page was open")
        ]
        lines += [f"could not read a message: {p}" for p in self.problems[-3:]]
        for diagnose in list(DIAGNOSES):
            try:
                lines.append(diagnose())
            except Exception as exc:  # a diagnosis must not hide the failure
                lines.append(f"(diagnosis failed: {exc!r})")
        return "\n".join(lines)

    def close(self) -> None:
        """Close the connection at once, as a closed tab does (nothing waits for answers)."""
        self.closed = True
        self.ended = self.ended or "closed by the client"
        self._reader.cancel()
        self.socket.close()

    async def _read(self) -> None:
        try:
            while True:
                header, content = await _receive(self.socket)
                self.received += 1
                if header["msgtype"] != "PATCH-DOC":
                    continue
                try:
                    self._patch(content)
                except Exception:  # this client's bug: say so, and go on reading
                    self.problems.append(traceback.format_exc(limit=3))
        except (asyncio.CancelledError, ConnectionError) as exc:
            self.ended = self.ended or repr(exc)
        except Exception as exc:  # said in the error of whoever waits
            self.ended = self.ended or f"{exc!r}: {traceback.format_exc(limit=3)}"
        finally:
            self.closed = True

    def _patch(self, content: dict[str, Any]) -> None:
        now = time.perf_counter()
        events = content.get("events", [])
        error = next(
            (
                e["new"]
                for e in events
                if e.get("kind") == "ModelChanged" and e.get("attr") == "_error"
            ),
            "",
        )
        for event in events:
            if event.get("kind") == "ModelChanged":
                target = self.models.setdefault(event["model"]["id"], {})
                target[event["attr"]] = decode(event["new"])
                if event["attr"] == "_done":
                    for done in event["new"]:
                        if done not in self.answered:
                            self.answered[done] = now
                            if error:
                                self.refused[done] = error
            elif event.get("kind") == "RootAdded":
                _collect({"roots": [event["model"]]}, self.models)
            for found in _objects(event):
                _collect({"roots": [found]}, self.models)


def decode(value: Any) -> Any:
    """A value as Bokeh sent it, as plain Python (maps as dicts)."""
    if isinstance(value, dict):
        if value.get("type") == "map":
            entries = [(decode(k), decode(v)) for k, v in value.get("entries", [])]
            if all(isinstance(k, str | int | float | bool) for k, _ in entries):
                return dict(entries)
            return entries  # keys that are not plain values: kept as pairs
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _objects(value: Any) -> list[dict[str, Any]]:
    """Whole models inside a patch (new widgets added to the page)."""
    if isinstance(value, dict):
        if value.get("type") == "object" and "id" in value and "attributes" in value:
            return [value]
        return [o for v in value.values() for o in _objects(v)]
    if isinstance(value, list):
        return [o for v in value for o in _objects(v)]
    return []


def _collect(doc: dict[str, Any], models: dict[str, dict[str, Any]]) -> None:
    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "object" and "id" in value:
                attributes = value.get("attributes", {})
                models.setdefault(value["id"], {}).update(
                    {k: decode(v) for k, v in attributes.items()}
                )
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(doc.get("roots", doc))


async def _send(socket: WebSocketClientConnection, kind: str, content: dict[str, Any]) -> None:
    header = {"msgid": uuid.uuid4().hex, "msgtype": kind}
    for part in (header, {}, content):
        await socket.write_message(json.dumps(part))


async def _receive(socket: WebSocketClientConnection) -> tuple[dict[str, Any], Any]:
    frames = []
    for _ in range(3):
        frame = await socket.read_message()
        if frame is None:
            raise ConnectionError("the server closed the connection")
        frames.append(frame)
    header = json.loads(frames[0])
    for _ in range(2 * header.get("num_buffers", 0)):  # buffer header + payload: not needed
        if await socket.read_message() is None:
            raise ConnectionError("the server closed the connection")
    return header, json.loads(frames[2])
