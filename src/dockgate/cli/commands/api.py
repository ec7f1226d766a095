"""``dockgate api``: any Engine API request, answered as the engine answers (the seed's telnet
session, modernised): status on stderr, body streamed to stdout as it arrives, so that
``follow=1`` logs and ``/events`` flow live.
"""

from __future__ import annotations

import codecs
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from dockgate.cli import output, session
from dockgate.engines.client import EngineClient, RawResponse
from dockgate.engines.container_query import BadParameter

METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD")


def register(app: typer.Typer) -> None:
    app.command("api")(api)


def api(
    method: Annotated[str, typer.Argument(help="GET, POST, PUT, DELETE or HEAD.", show_default=False)],
    path: Annotated[str, typer.Argument(help="Path with query string, e.g. '/containers/json?all=1' "
                                        "or '/v1.41/version'.", show_default=False)],
    data: Annotated[str | None, typer.Option("--data", "-d", help="JSON request body.")] = None,
    data_file: Annotated[Path | None, typer.Option(
        "--data-file", help="Request body from a file (- for stdin); checked as JSON unless a "
        "non-JSON Content-Type header is given.")] = None,
    header: Annotated[list[str] | None, typer.Option(
        "--header", "-H", help="Extra request header 'Name: value' (repeatable).")] = None,
    include: Annotated[bool, typer.Option(
        "--include", "-i", help="Print the status line and response headers on stdout, like curl -i.")
    ] = False,
    host: Annotated[str | None, typer.Option(
        "--host", help="Engine to ask, by name. Default: the default host.", envvar="DOCKGATE_HOST")
    ] = None,
) -> None:
    """Send one raw Engine API request; exit 0 for 2xx/3xx answers, 1 otherwise."""
    verb = method.upper()
    if verb not in METHODS:
        raise BadParameter("METHOD", f"{method!r} is not one of {', '.join(METHODS)}")
    if not path or any(c.isspace() for c in path):
        raise BadParameter("PATH", f"{path!r} is not a request path (no spaces; quote the query string)")
    headers = dict(parse_header(h) for h in header or [])
    body = request_body(data, data_file, headers)
    endpoint = session.endpoints([host] if host else None)[0]

    async def exchange(engine: EngineClient) -> int:
        async with engine.raw(verb, path, body=body, headers=headers) as response:
            if include:
                _write(_head(response))
            else:
                output.err_console.print(f"HTTP {response.status} {response.reason}", markup=False)
            pretty = (sys.stdout.isatty() and not include
                      and "json" in response.headers.get("Content-Type", "").lower())
            printer = JSONPrinter() if pretty else None
            try:
                async for chunk in response.iter_body():
                    _write(printer.feed(chunk) if printer else chunk)
                if printer:
                    _write(printer.rest())
            except BrokenPipeError:
                # The reader went away (`| head`): stop quietly, as curl does, and keep Python from
                # failing again when it flushes stdout at exit.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return response.status

    status = session.run(session.with_engine(endpoint, exchange))
    if status >= 400:
        raise typer.Exit(1)


def parse_header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip() or any(c.isspace() for c in name.strip()):
        raise BadParameter("--header", f"{text!r} is not 'Name: value'")
    return name.strip(), value.strip()


def request_body(data: str | None, data_file: Path | None, headers: dict[str, str]) -> bytes | None:
    """The body to send, refused (exit 2) when it claims to be JSON and is not, or is given twice."""
    if data is not None and data_file is not None:
        raise BadParameter("--data", "give --data or --data-file, not both")
    if data is not None:
        _check_json(data.encode(), "--data")
        return data.encode()
    if data_file is None:
        return None
    try:
        raw = sys.stdin.buffer.read() if str(data_file) == "-" else data_file.read_bytes()
    except OSError as exc:
        raise BadParameter("--data-file", f"cannot read {data_file}: {exc.strerror}") from None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "json")
    if "json" in content_type.lower():
        _check_json(raw, "--data-file")
    return raw


def _check_json(raw: bytes, param: str) -> None:
    try:
        json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reason = f"{exc.msg} at line {exc.lineno} column {exc.colno}" \
            if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise BadParameter(param, f"not valid JSON ({reason})") from None


class JSONPrinter:
    """Indents each JSON value of a body as soon as it is complete: a whole document once, or every
    message of a stream (events, stats) as it comes. Bytes that never parse are passed on as they are.
    """

    def __init__(self) -> None:
        self._buf = ""
        self._text = codecs.getincrementaldecoder("utf-8")("replace")
        self._decoder = json.JSONDecoder()

    def feed(self, data: bytes) -> bytes:
        self._buf += self._text.decode(data)
        out = []
        while True:
            text = self._buf.lstrip()
            if not text:
                self._buf = ""
                break
            try:
                value, end = self._decoder.raw_decode(text)
            except json.JSONDecodeError:
                break  # incomplete so far (or not JSON: shown as is at the end)
            out.append(json.dumps(value, indent=2) + "\n")
            self._buf = text[end:]
        return "".join(out).encode()

    def rest(self) -> bytes:
        rest, self._buf = self._buf + self._text.decode(b"", final=True), ""
        return rest.encode()


def _head(response: RawResponse) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {response.reason}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _write(data: bytes) -> None:
    if data:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
