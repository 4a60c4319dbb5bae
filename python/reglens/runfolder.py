"""A run folder written from Python: the format of src/runs/runFolder.ts.

<runs>/<id>/spec.json, events.jsonl, summary.json. events.jsonl is the record: one event
per line, each flushed and fsync'd before the call returns, so a script killed at any
point leaves every event it logged. summary.json is a cache the TS side rebuilds from the
events; it carries this process's pid, so a run whose writer is gone is listed as died.
Imports neither torch nor numpy.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from datetime import datetime, timezone
from typing import Any, Dict, Optional

SPEC_FILE = "spec.json"
EVENTS_FILE = "events.jsonl"
SUMMARY_FILE = "summary.json"

Event = Dict[str, Any]


def runs_dir_default() -> str:
    """REGLENS_RUNS_DIR (the extension sets it for scripts it starts), else ./.reglens/runs."""
    return os.environ.get("REGLENS_RUNS_DIR") or os.path.join(os.getcwd(), ".reglens", "runs")


def iso_now() -> str:
    """UTC time as JavaScript's toISOString() writes it (milliseconds, Z)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def new_run_id(now: Optional[float] = None) -> str:
    """20261128-124501-ab12 as newRunId: UTC start time, then randomness from the OS (not
    Python's `random`, which the user's script may have seeded)."""
    t = time.gmtime(time.time() if now is None else now)
    return time.strftime("%Y%m%d-%H%M%S", t) + "-" + secrets.token_hex(2)


def _dumps(value: Any, indent: Optional[int] = None) -> str:
    # NaN / Infinity are not JSON: the TS side would reject the line.
    return json.dumps(value, allow_nan=False, indent=indent)


def write_json_atomic(path: str, value: Any) -> None:
    """Replace-by-rename, so a reader never sees a half-written file."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(_dumps(value, 2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class RunFolderWriter:
    """Creates a run folder and appends events to it, durably, one at a time."""

    def __init__(self, runs_dir: str, spec: Dict[str, Any], summary: Dict[str, Any]) -> None:
        os.makedirs(runs_dir, exist_ok=True)
        for attempt in range(21):
            run_id = new_run_id()
            path = os.path.join(runs_dir, run_id)
            try:
                os.mkdir(path)  # fails on an existing folder: a same-second collision retries
                break
            except FileExistsError:
                if attempt == 20:
                    raise
        self.id = run_id
        self.dir = path
        self.summary: Dict[str, Any] = {"id": run_id, **summary, "pid": os.getpid()}
        # summary.json first: a lister that sees the folder sees it as running, not broken.
        self.write_summary()
        write_json_atomic(os.path.join(path, SPEC_FILE), spec)
        self._events = open(os.path.join(path, EVENTS_FILE), "a", encoding="utf-8")
        self._events.flush()
        os.fsync(self._events.fileno())

    @property
    def closed(self) -> bool:
        return self._events.closed

    def append(self, event: Event) -> None:
        """One line, on disk (write, flush, fsync) when this returns."""
        if self._events.closed:
            raise RuntimeError(f"reglens: run {self.id} is finished; event {event.get('type')} not recorded")
        self._events.write(_dumps(event) + "\n")
        self._events.flush()
        os.fsync(self._events.fileno())

    def write_summary(self) -> None:
        write_json_atomic(os.path.join(self.dir, SUMMARY_FILE), self.summary)

    def close(self) -> None:
        if not self._events.closed:
            self._events.close()
