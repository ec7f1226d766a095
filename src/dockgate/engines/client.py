"""The one module that talks to engines for the CLI and the dashboard.

It wraps aiodocker (connection handling, hijacked exec streams) and adds what aiodocker lacks or does
differently: our error hierarchy, demultiplexed logs kept per stream, the raw API call, and engine
calls aiodocker has no method for. Nothing above this module builds HTTP requests to an engine.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiodocker
import aiohttp

from dockgate.engines.container_query import BadParameter, ContainerListQuery
from dockgate.engines.discovery import http_headers
from dockgate.engines.endpoint import Endpoint, EndpointError
from dockgate.engines.errors import (
    EngineAPIError,
    EngineError,
    EngineTLSError,
    ImageNotFound,
    NotFound,
    from_aiodocker,
    from_connection_error,
)
from dockgate.engines.frames import Chunk, FrameDecoder
from dockgate.engines.wire import EngineWire
from dockgate.net.streams import ByteStream

CONNECT_TIMEOUT = 10.0

# aiodocker logs connection failures that our errors already report; without a handler of the
# application's, Python would print them to stderr next to our one-line message.
logging.getLogger("aiodocker").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class LogOptions:
    """``GET /containers/{id}/logs``; ``since``/``until`` are unix timestamps or RFC 3339 strings."""

    follow: bool = False
    stdout: bool = True
    stderr: bool = True
    timestamps: bool = False
    tail: str = "all"
    since: str | None = None
    until: str | None = None

    def params(self) -> dict[str, str]:
        params = {
            "follow": _flag(self.follow), "stdout": _flag(self.stdout),
            "stderr": _flag(self.stderr), "timestamps": _flag(self.timestamps), "tail": self.tail,
        }
        if self.since:
            params["since"] = self.since
        if self.until:
            params["until"] = self.until
        return params


@dataclass(frozen=True)
class ExecOptions:
    cmd: list[str]
    tty: bool = False
    stdin: bool = False
    env: list[str] = field(default_factory=list)
    user: str | None = None
    workdir: str | None = None
    privileged: bool = False

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Cmd": self.cmd, "Tty": self.tty, "AttachStdin": self.stdin, "AttachStdout": True,
            "AttachStderr": True, "Privileged": self.privileged,
        }
        if self.env:
            body["Env"] = self.env
        if self.user:
            body["User"] = self.user
        if self.workdir:
            body["WorkingDir"] = self.workdir
        return body


@dataclass
class RawResponse:
    """An engine answer to :meth:`EngineClient.raw`: status, headers, and the body as it streams."""

    status: int
    reason: str
    headers: Mapping[str, str]
    _response: aiohttp.ClientResponse

    async def iter_body(self) -> AsyncIterator[bytes]:
        async for data in self._response.content.iter_any():
            yield data


class ExecSession:
    """A running ``docker exec`` with its stdin/stdout/stderr, over a hijacked connection.

    The connection comes from :mod:`dockgate.engines.wire`, whose streams half-close properly over
    TLS (asyncio's own TLS transport cannot), so stdin EOF reaches the engine and output still flows.
    """

    def __init__(self, client: EngineClient, exec_id: str, wire: EngineWire, stream: ByteStream,
                 pending: bytes, *, tty: bool) -> None:
        self._client = client
        self._wire = wire
        self.exec_id = exec_id
        self._stream = stream
        self._decoder = FrameDecoder(tty=tty)
        self._chunks: list[Chunk] = self._decoder.feed(pending) if pending else []

    async def read(self) -> Chunk | None:
        """The next piece of output, or None at the end of the stream."""
        while not self._chunks:
            data = await self._stream.read()
            if not data:
                return None
            self._chunks = self._decoder.feed(data)
        return self._chunks.pop(0)

    async def write(self, data: bytes) -> None:
        with self._client._errors():
            self._stream.write(data)
            await self._stream.drain()

    def close_stdin(self) -> None:
        """Half-close: the process sees EOF on stdin and its output keeps flowing."""
        self._stream.write_eof()

    async def resize(self, rows: int, cols: int) -> None:
        await self._client.call("POST", f"exec/{self.exec_id}/resize", params={"h": rows, "w": cols})

    async def exit_code(self) -> int | None:
        info = await self._client.call("GET", f"exec/{self.exec_id}/json")
        return info.get("ExitCode")

    async def close(self) -> None:
        self._stream.close()
        self._wire.close()


class EngineClient:
    """A connection to one engine. Use as ``async with EngineClient(endpoint) as engine:``."""

    def __init__(self, endpoint: Endpoint, *, connect_timeout: float = CONNECT_TIMEOUT,
                 headers: Mapping[str, str] | None = None, api_version: str | None = None) -> None:
        """``headers`` go with every request; by default those of the docker CLI's configuration.
        ``api_version`` ("v1.41") spares the ``GET /version`` that otherwise starts each client."""
        self.endpoint = endpoint
        self._api_version = api_version or "auto"
        self._connect_timeout = connect_timeout
        self._headers = dict(http_headers() if headers is None else headers)
        self._docker: aiodocker.Docker | None = None
        self._connector: aiohttp.BaseConnector | None = None

    # -- connection -------------------------------------------------------------------------
    async def __aenter__(self) -> EngineClient:
        with self._errors():  # the SSH connector checks known_hosts as it is made
            self._connector = self._make_connector()
        timeout = aiohttp.ClientTimeout(connect=self._connect_timeout,
                                        sock_connect=self._connect_timeout)
        # With a connector of ours, aiodocker composes request URLs from ``url`` as given, so
        # socket-based transports get the placeholder host aiodocker itself uses for them.
        url = self.endpoint.client_url() if self.endpoint.scheme not in ("unix", "ssh") \
            else "unix://localhost" + self.endpoint.path_prefix
        session = aiohttp.ClientSession(connector=self._connector, timeout=timeout, connector_owner=False,
                                        headers=self._headers)
        self._docker = aiodocker.Docker(url=url, connector=self._connector, session=session,
                                        api_version=self._api_version)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self._docker is not None:
            await self._docker.close()
            self._docker = None
        if self._connector is not None:
            await self._connector.close()
            self._connector = None

    def _make_connector(self) -> aiohttp.BaseConnector:
        scheme = self.endpoint.scheme
        if scheme == "unix":
            # No connection limit: `logs -f` on many containers holds one stream each.
            return aiohttp.UnixConnector(path=self.endpoint.url[len("unix://"):], limit=0)
        if scheme == "ssh":
            from aiodocker.ssh import SSHConnector

            return SSHConnector(self.endpoint.url)
        ctx: ssl.SSLContext | bool = False
        if self.endpoint.uses_tls:
            tls = self.endpoint.tls
            ctx = tls.ssl_context() if tls else ssl.create_default_context()
        return aiohttp.TCPConnector(ssl=ctx, limit=0)

    @property
    def api_version(self) -> str | None:
        """The API version in use ("v1.41"), once known."""
        version = self._docker.api_version if self._docker is not None else self._api_version
        return None if version == "auto" else version

    @property
    def docker(self) -> aiodocker.Docker:
        if self._docker is None:
            raise RuntimeError("EngineClient used outside 'async with'")
        return self._docker

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Translate every failure into an :class:`EngineError` naming this host."""
        name, url = self.endpoint.name, self.endpoint.url
        try:
            yield
        except EngineError:
            raise
        except aiodocker.DockerError as exc:
            raise from_aiodocker(exc, host=name, url=url) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise from_connection_error(exc, host=name, url=url) from exc
        except EndpointError as exc:  # e.g. a TLS file gone since the host was added: this host only
            raise EngineTLSError(str(exc), host=name) from exc

    async def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                   body: Any = None, versioned: bool = True) -> Any:
        """One JSON request/response. Used for calls aiodocker has no method for."""
        with self._errors():
            return await self.docker._query_json(path, method, params=_strings(params), data=body,
                                                 versioned_api=versioned)

    @asynccontextmanager
    async def _stream(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      body: Any = None) -> AsyncIterator[aiohttp.ClientResponse]:
        data = json.dumps(body) if body is not None else None
        with self._errors():
            async with self.docker._query(path, method, params=_strings(params), data=data,
                                          timeout=aiohttp.ClientTimeout()) as response:
                try:
                    yield response
                finally:  # aiodocker hands the response over unclosed: a stream cut short must end here
                    response.close()

    async def _json_lines(self, method: str, path: str, *,
                          params: Mapping[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
        """A streamed sequence of JSON objects (stats, events, pull progress)."""
        async with self._stream(method, path, params=params) as response:
            decoder = json.JSONDecoder()
            buf = ""
            with self._errors():
                async for data in response.content.iter_any():
                    buf += data.decode("utf-8", "replace")
                    while True:
                        buf = buf.lstrip()
                        if not buf:
                            break
                        try:
                            obj, end = decoder.raw_decode(buf)
                        except json.JSONDecodeError:
                            break
                        buf = buf[end:]
                        yield obj

    # -- system -------------------------------------------------------------------------------
    async def ping(self) -> None:
        with self._errors():
            async with self.docker._query("_ping", versioned_api=False) as response:
                await response.read()

    async def version(self) -> dict[str, Any]:
        return await self.call("GET", "version", versioned=False)

    async def info(self) -> dict[str, Any]:
        return await self.call("GET", "info")

    def events(self, *, since: str | None = None, until: str | None = None,
               filters: Mapping[str, list[str]] | None = None) -> AsyncIterator[dict[str, Any]]:
        params: dict[str, str] = {}
        if since:
            params["since"] = since
        if until:
            params["until"] = until
        if filters:
            params["filters"] = json.dumps(filters)
        return self._json_lines("GET", "events", params=params)

    # -- containers ---------------------------------------------------------------------------
    async def containers(self, query: ContainerListQuery | None = None) -> list[dict[str, Any]]:
        query = await self.resolve_list_references(query or ContainerListQuery())
        return await self.call("GET", "containers/json", params=query.engine_params())

    async def resolve_list_references(self, query: ContainerListQuery) -> ContainerListQuery:
        """Turn since/before id prefixes into full ids: the engine answers 500 "no such container"
        for a prefix there (the seed's own example uses a 12-character id)."""
        ids = {}
        for ref, param in query.reference_params().items():
            try:
                ids[ref] = (await self.inspect_container(ref))["Id"]
            except NotFound:
                raise BadParameter(param, f"no such container: {ref}") from None
        return query.resolved(ids) if ids else query

    async def create_container(self, body: Mapping[str, Any],
                               name: str | None = None) -> dict[str, Any]:
        params = {"name": name} if name else None
        try:
            return await self.call("POST", "containers/create", params=params, body=dict(body))
        except ImageNotFound as exc:
            exc.image = str(body.get("Image", ""))
            raise

    async def inspect_container(self, ref: str, *, size: bool = False) -> dict[str, Any]:
        params = {"size": "1"} if size else None
        return await self.call("GET", f"containers/{_ref(ref)}/json", params=params)

    async def container_action(self, ref: str, action: str,
                               params: Mapping[str, Any] | None = None) -> Any:
        """start, stop, restart, kill, pause, unpause, rename, wait: ``POST /containers/{id}/{action}``."""
        with self._errors():
            async with self.docker._query(f"containers/{_ref(ref)}/{action}", "POST",
                                          params=_strings(params),
                                          timeout=aiohttp.ClientTimeout()) as response:
                text = await response.text()
        return json.loads(text) if text.strip() else None

    async def remove_container(self, ref: str, *, force: bool = False,
                               volumes: bool = False) -> None:
        with self._errors():
            async with self.docker._query(f"containers/{_ref(ref)}", "DELETE",
                                          params={"force": _flag(force), "v": _flag(volumes)}):
                pass

    async def top(self, ref: str, ps_args: str | None = None) -> dict[str, Any]:
        params = {"ps_args": ps_args} if ps_args else None
        return await self.call("GET", f"containers/{_ref(ref)}/top", params=params)

    async def logs(self, ref: str, options: LogOptions) -> AsyncIterator[Chunk]:
        """Log output with stdout and stderr kept apart (TTY containers have only stdout)."""
        info = await self.inspect_container(ref)
        decoder = FrameDecoder(tty=bool(info.get("Config", {}).get("Tty")))
        async with self._stream("GET", f"containers/{_ref(ref)}/logs",
                                params=options.params()) as response:
            with self._errors():
                async for data in response.content.iter_any():
                    for chunk in decoder.feed(data):
                        yield chunk

    def stats(self, ref: str, *, stream: bool = True) -> AsyncIterator[dict[str, Any]]:
        return self._json_lines("GET", f"containers/{_ref(ref)}/stats",
                                params={"stream": _flag(stream)})

    # -- exec ---------------------------------------------------------------------------------
    async def exec(self, ref: str, options: ExecOptions) -> ExecSession:
        created = await self.call("POST", f"containers/{_ref(ref)}/exec", body=options.body())
        exec_id = created["Id"]
        body = json.dumps({"Detach": False, "Tty": options.tty}).encode()
        wire = EngineWire(self.endpoint, headers=self._headers)
        stream, pending = await wire.hijack(f"/{self.docker.api_version}/exec/{exec_id}/start", body)
        return ExecSession(self, exec_id, wire, stream, pending, tty=options.tty)

    async def exec_detached(self, ref: str, options: ExecOptions) -> str:
        """``docker exec -d``: start the process in the background and return its exec id."""
        created = await self.call("POST", f"containers/{_ref(ref)}/exec", body=options.body())
        with self._errors():
            await aiodocker.execs.Exec(self.docker, created["Id"], options.tty).start(detach=True)
        return created["Id"]

    # -- images, networks, volumes ------------------------------------------------------------
    def pull(self, image: str) -> AsyncIterator[dict[str, Any]]:
        """Progress messages of ``POST /images/create``; an error message in the stream raises."""
        name, tag = split_image(image)
        return self._progress("POST", "images/create", params={"fromImage": name, "tag": tag})

    async def _progress(self, method: str, path: str, *,
                        params: Mapping[str, Any]) -> AsyncIterator[dict[str, Any]]:
        async for message in self._json_lines(method, path, params=params):
            if "error" in message or "errorDetail" in message:
                detail = message.get("errorDetail") or {}
                text = detail.get("message") or message.get("error") or "failed"
                if "not found" in text or "manifest unknown" in text:
                    raise ImageNotFound(404, text, host=self.endpoint.name)
                raise EngineAPIError(500, text, host=self.endpoint.name)
            yield message

    async def images(self, *, all: bool = False,
                     filters: Mapping[str, list[str]] | None = None) -> list[dict[str, Any]]:
        params = {"all": _flag(all)}
        if filters:
            params["filters"] = json.dumps(filters)
        return await self.call("GET", "images/json", params=params)

    async def networks(self, filters: Mapping[str, list[str]] | None = None) -> list[dict[str, Any]]:
        params = {"filters": json.dumps(filters)} if filters else None
        return await self.call("GET", "networks", params=params)

    async def volumes(self, filters: Mapping[str, list[str]] | None = None) -> list[dict[str, Any]]:
        params = {"filters": json.dumps(filters)} if filters else None
        result = await self.call("GET", "volumes", params=params)
        return result.get("Volumes") or []

    # -- raw ----------------------------------------------------------------------------------
    @asynccontextmanager
    async def raw(self, method: str, path: str, *, body: bytes | None = None,
                  headers: Mapping[str, str] | None = None) -> AsyncIterator[RawResponse]:
        """Any request, answered whatever its status (the seed's telnet session, modernised).

        ``path`` is sent as given, query string included, so that versioned and unversioned
        routes can both be reached.
        """
        if not path.startswith("/"):
            path = "/" + path
        url = self.docker._canonicalize_url(path.lstrip("/"), versioned_api=False)
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        with self._errors():
            async with self.docker.session.request(
                method.upper(), url.with_query(None), data=body, headers=hdrs,
                params=url.query if url.query_string else None,
                timeout=aiohttp.ClientTimeout(connect=self._connect_timeout),
            ) as response:
                yield RawResponse(response.status, response.reason or "",
                                  dict(response.headers), response)


def split_image(image: str) -> tuple[str, str]:
    """``name[:tag]`` with a registry port kept in the name; digests stay whole; tag defaults to latest."""
    if "@" in image:
        return image, ""
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1:]
    return image, "latest"


def _ref(ref: str) -> str:
    return quote(ref, safe="")


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _strings(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if params is None:
        return None
    return {k: (_flag(v) if isinstance(v, bool) else str(v)) for k, v in params.items()
            if v is not None}
