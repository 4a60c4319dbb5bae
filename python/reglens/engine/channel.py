"""The engine's channel to its parent: one JSON object per line in both directions.

With NODE_CHANNEL_FD set (engine.js spawned us with an 'ipc' stdio slot) that fd is a
socket carrying Node's `serialization: 'json'` IPC; without it, commands come on stdin and
events go to stdout. A reader thread turns incoming lines into commands; end of input
means the parent is gone, which cancels the run (docs/torch-engine.md "Parent gone").
"""
from __future__ import annotations

import json
import os
import queue
import socket
import sys
import threading
from datetime import datetime, timezone
from typing import Any, BinaryIO, Callable, Dict, Iterator, Optional

Command = Dict[str, Any]


def now() -> str:
    """An event's time: ISO 8601 with milliseconds and Z, as JavaScript's toISOString."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Channel:
    """Line-delimited JSON over a socket or a pair of byte streams."""

    def __init__(self, read_chunk: Callable[[], bytes], writer: Callable[[bytes], None], closer: Callable[[], None]) -> None:
        # Unbuffered reads (recv / os.read): a daemon thread blocked in a buffered reader
        # makes the interpreter abort at exit (it cannot take the buffer's lock).
        self._read_chunk = read_chunk
        self._write = writer
        self._close = closer
        self._lock = threading.Lock()
        self._broken = False
        self.cancelled = threading.Event()
        self._commands: "queue.Queue[Optional[Command]]" = queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self.on_malformed: Callable[[str], None] = lambda message: None

    @classmethod
    def from_environment(cls) -> "Channel":
        fd = os.environ.get("NODE_CHANNEL_FD")
        if fd:
            return cls.from_socket_fd(int(fd))
        return cls.from_streams(sys.stdin.fileno(), sys.stdout.buffer)

    @classmethod
    def from_socket_fd(cls, fd: int) -> "Channel":
        sock = socket.socket(fileno=fd)
        return cls(lambda: sock.recv(65536), sock.sendall, sock.close)

    @classmethod
    def from_streams(cls, read_fd: int, writer: BinaryIO) -> "Channel":
        def write(data: bytes) -> None:
            writer.write(data)
            writer.flush()

        return cls(lambda: os.read(read_fd, 65536), write, lambda: None)

    def _lines(self) -> Iterator[bytes]:
        pending = b""
        while True:
            chunk = self._read_chunk()
            if not chunk:
                if pending.strip():
                    yield pending
                return
            pending += chunk
            *complete, pending = pending.split(b"\n")
            yield from complete

    def start_reader(self) -> None:
        """Reads commands on a daemon thread: a cancel is seen while the main thread trains."""
        self._thread = threading.Thread(target=self._read_loop, name="reglens-channel", daemon=True)
        self._thread.start()

    def _read_loop(self) -> None:
        try:
            for raw in self._lines():
                line = raw.strip()
                if not line:
                    continue
                try:
                    message = json.loads(line)
                except ValueError as e:
                    self.on_malformed(f"malformed command ignored: not JSON ({e})")
                    continue
                if not isinstance(message, dict):
                    self.on_malformed("malformed command ignored: not a JSON object")
                    continue
                # Node's own IPC messages (handle passing) are not ours.
                if str(message.get("cmd", "")).startswith("NODE_"):
                    continue
                if message.get("type") == "cancel":
                    self.cancelled.set()
                self._commands.put(message)
        except (OSError, ValueError):
            pass  # the channel broke: same as the parent going away
        finally:
            self.cancelled.set()
            self._commands.put(None)

    def next_command(self, timeout: Optional[float] = None) -> Optional[Command]:
        """The next command, or None once the channel has ended."""
        try:
            return self._commands.get(timeout=timeout)
        except queue.Empty:
            return None

    def send(self, event: Dict[str, Any]) -> bool:
        """Writes one event line; False (and the run cancelled) when the parent is gone."""
        line = (json.dumps(event, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            if self._broken:
                return False
            try:
                self._write(line)
                return True
            except (OSError, ValueError):
                self._broken = True
                self.cancelled.set()
                return False

    def close(self) -> None:
        try:
            self._close()
        except OSError:
            pass
