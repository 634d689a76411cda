"""A small client of the Docker Engine API over its unix socket (standard library, asyncio).

Only what running a script in a container needs: list and inspect containers, create an exec,
start it with a hijacked connection whose stdout/stderr arrive multiplexed in frames (8-byte
header: stream, 3 zero bytes, big-endian length), and inspect the exec for its pid and exit code.
Every failure to reach the engine raises ``EngineUnreachable``; an answer that is not 2xx raises
``EngineError`` with the engine's own message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from openassist.agent.settings import DEFAULT_DOCKER_SOCKET, DOCKER_SOCKET_ENV

DEFAULT_SOCKET = DEFAULT_DOCKER_SOCKET
SOCKET_ENV = DOCKER_SOCKET_ENV  # the settings resolve it (AgentEnvironment.docker_socket)
API_VERSION = "v1.24"  # old enough for every engine still in use, new enough for exec
REQUEST_TIMEOUT_S = 10.0
HEAD_LIMIT = 64 * 1024


class EngineUnreachable(Exception):
    """The engine's socket is missing or refuses connections."""


class EngineError(Exception):
    """The engine answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
        raise EngineUnreachable(f"the engine closed the connection: {error}") from error
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                return bytes(body)
            body += await reader.readexactly(size)
            await reader.readline()
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read()


class Engine:
    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(
                asyncio.open_unix_connection(self.socket_path, limit=HEAD_LIMIT),
                REQUEST_TIMEOUT_S,
            )
        except (OSError, TimeoutError) as error:
            raise EngineUnreachable(f"cannot connect to {self.socket_path}: {error}") from error

    async def _send(
        self, writer: asyncio.StreamWriter, method: str, path: str, body: Any, upgrade: bool
    ) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        lines = [
            f"{method} /{API_VERSION}{path} HTTP/1.1",
            "Host: docker",
            f"Content-Length: {len(payload)}",
        ]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines += ["Connection: Upgrade", "Upgrade: tcp"] if upgrade else ["Connection: close"]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        await writer.drain()

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request; the decoded JSON answer (None for an empty one)."""
        reader, writer = await self._open()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                await self._send(writer, method, path, body, upgrade=False)
                status, headers = await _read_head(reader)
                data = await _read_body(reader, headers)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            raise EngineUnreachable(
                f"{self.socket_path}: {error or type(error).__name__}"
            ) from error
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        answer = json.loads(data) if data.strip() else None
        if status >= 300:
            message = answer.get("message", "") if isinstance(answer, dict) else str(answer)
            raise EngineError(status, message)
        return answer

    async def containers(self) -> list[dict[str, Any]]:
        found = await self.call("GET", "/containers/json?all=1")
        return found if isinstance(found, list) else []

    async def create_exec(self, container_id: str, argv: list[str], stdin: bool = False) -> str:
        config = {
            "AttachStdin": stdin,
            "AttachStdout": True,
            "AttachStderr": True,
            "Tty": False,
            "Cmd": argv,
        }
        created = await self.call("POST", f"/containers/{container_id}/exec", config)
        return str(created["Id"])

    async def inspect_exec(self, exec_id: str) -> dict[str, Any]:
        found = await self.call("GET", f"/exec/{exec_id}/json")
        return found if isinstance(found, dict) else {}

    async def start_exec(self, exec_id: str) -> ExecStream:
        """Start the exec; its output arrives through the returned stream."""
        reader, writer = await self._open()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                await self._send(
                    writer, "POST", f"/exec/{exec_id}/start", {"Detach": False, "Tty": False}, True
                )
                status, headers = await _read_head(reader)
                if status >= 300:
                    data = await _read_body(reader, headers)
                    raise EngineError(status, data.decode("utf-8", "replace").strip())
        except BaseException:
            writer.close()
            raise
        return ExecStream(reader, writer)


class ExecStream:
    """The hijacked connection of a started exec: stdout and stderr frames, in arrival order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    async def chunks(self) -> AsyncIterator[bytes]:
        """The output, frame by frame, until the exec's streams close."""
        while True:
            try:
                header = await self._reader.readexactly(8)
                size = int.from_bytes(header[4:8], "big")
                data = await self._reader.readexactly(size) if size else b""
            except (asyncio.IncompleteReadError, OSError):
                return
            if header[0] in (1, 2) and data:  # stdout, stderr: the script's combined output
                yield data

    async def send_stdin(self, data: bytes) -> None:
        """Write ``data`` to the exec's stdin and close it (the engine then closes the
        process's stdin: what reads it sees the end)."""
        self._writer.write(data)
        await self._writer.drain()
        self._writer.write_eof()

    def close(self) -> None:
        self._writer.close()
