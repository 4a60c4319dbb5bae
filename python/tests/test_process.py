"""`python -m reglens.engine` as a real process: the hello (its self-check, sent before any
command), the NODE_CHANNEL_FD socket both ways, stdin / stdout, --command, parent gone, a
rejected command, and --self-check."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any, Dict, List

import pytest

from conftest import PYTHON_DIR, engine_env
from datasets import experiment, mlp, start_command, write_modular
from reglens.engine.schemas import HELLO, SELF_CHECK, load_validator

ENGINE = [sys.executable, "-m", "reglens.engine"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("data"))
    write_modular(d, p=11, train_fraction=0.6, noise=0.2)
    return d


class NodeParent:
    """The parent's side of Node's 'ipc' stdio slot: a socketpair, JSON lines both ways."""

    def __init__(self, extra_env: Dict[str, str] | None = None, args: List[str] | None = None) -> None:
        self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = engine_env(NODE_CHANNEL_FD=str(child.fileno()), **(extra_env or {}))
        self.proc = subprocess.Popen(ENGINE + (args or []), env=env, pass_fds=[child.fileno()], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PYTHON_DIR)
        child.close()
        self.lines = self.sock.makefile("rb")

    def send(self, message: Dict[str, Any]) -> None:
        self.sock.sendall((json.dumps(message) + "\n").encode())

    def next_event(self) -> Dict[str, Any] | None:
        line = self.lines.readline()
        return json.loads(line) if line else None

    def events_until(self, predicate) -> List[Dict[str, Any]]:
        out = []
        while True:
            e = self.next_event()
            assert e is not None, f"channel closed; stderr: {self.proc.stderr.read().decode()[-2000:]}"
            out.append(e)
            if predicate(e):
                return out

    def hello(self) -> Dict[str, Any]:
        """The engine's first message, checked against engine-hello.schema.json."""
        e = self.next_event()
        assert e is not None, f"channel closed before the hello; stderr: {self.proc.stderr.read().decode()[-2000:]}"
        load_validator(HELLO).validate(e)
        return e["selfCheck"]

    def finish(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout=timeout)
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.sock.close()
        return code


def test_hello_comes_first_without_any_command():
    import torch

    # Nothing sent yet: the engine imported torch and checked itself on its own.
    parent = NodeParent()
    check = parent.hello()
    assert check["ok"] is True and check["torch"] == torch.__version__ and check["device"] == "cpu" and check["reason"] is None
    parent.send({"type": "cancel"})
    assert parent.next_event() is None and parent.finish() == 0


def test_hello_without_torch_says_why_and_exits_3(tmp_path):
    broken = tmp_path / "torch"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('libtorch_cpu.so: cannot open shared object file')\n")
    parent = NodeParent({"PYTHONPATH": f"{tmp_path}{os.pathsep}{PYTHON_DIR}"})
    check = parent.hello()
    assert check["ok"] is False and check["torch"] is None and "torch is not installed for this Python" in check["reason"]
    # It does not wait for a start command that cannot train.
    assert parent.next_event() is None and parent.finish() == 3


def test_hello_on_the_device_asked_for():
    import torch

    parent = NodeParent(args=["--device", "cuda"])
    check = parent.hello()
    if torch.cuda.is_available():
        assert check["ok"] is True and check["device"] == "cuda"
        parent.send({"type": "cancel"})
        assert parent.finish() == 0
    else:
        assert check["ok"] is False and "cuda" in check["reason"]
        assert parent.finish() == 3


def test_parent_gone_during_the_import_stops_the_engine():
    parent = NodeParent()
    parent.lines.close()
    parent.sock.close()  # engine.js killed before the hello
    assert parent.proc.wait(timeout=60) == 0
    parent.proc.stdout.close()
    parent.proc.stderr.close()


def test_node_channel_round_trip(data_dir, event_validator):
    parent = NodeParent()
    parent.send(start_command(experiment(mlp(), epochs=3, batchSize=16), data_dir))
    assert parent.hello()["ok"] is True
    events = parent.events_until(lambda e: e["type"] in ("finished", "failed"))
    for e in events:
        event_validator.validate(e)
    assert [e["type"] for e in events] == ["started", "epoch", "epoch", "epoch", "finished"]
    assert parent.next_event() is None  # the engine closed its end
    assert parent.finish() == 0


def test_cancel_over_the_channel_keeps_epochs(data_dir):
    parent = NodeParent()
    parent.send(start_command(experiment(mlp(), epochs=100000, batchSize=8), data_dir))
    parent.hello()
    first = parent.events_until(lambda e: e["type"] == "epoch")
    parent.send({"type": "cancel"})
    rest = parent.events_until(lambda e: e["type"] == "log" and e["message"].startswith("Cancelled after"))
    epochs = [e["epoch"] for e in first + rest if e["type"] == "epoch"]
    assert epochs == list(range(1, len(epochs) + 1))
    assert rest[-1]["message"] == f"Cancelled after {epochs[-1]} epochs."
    assert parent.next_event() is None and parent.finish() == 0


def test_parent_gone_stops_the_engine(data_dir):
    parent = NodeParent()
    parent.send(start_command(experiment(mlp(), epochs=100000, batchSize=8), data_dir))
    parent.events_until(lambda e: e["type"] == "epoch")
    parent.lines.close()
    parent.sock.close()  # what a SIGKILLed engine.js leaves: EOF on the channel
    assert parent.proc.wait(timeout=30) == 0
    parent.proc.stdout.close()
    parent.proc.stderr.close()


def test_an_invalid_command_fails_naming_the_field(data_dir):
    parent = NodeParent()
    cmd = start_command(experiment(mlp(), epochs=0), data_dir)
    parent.send(cmd)
    parent.hello()
    e = parent.next_event()
    assert e["type"] == "failed"
    assert "experiment.training.epochs: must be > 0 (got 0)" in e["message"]
    assert parent.finish() == 1


def test_stdin_stdout_and_command_file(data_dir, tmp_path):
    cmd = start_command(experiment(mlp(), epochs=2, batchSize=16), data_dir)
    # Without NODE_CHANNEL_FD: commands on stdin, the hello and events on stdout; stdin kept open meanwhile.
    proc = subprocess.Popen(ENGINE, env=engine_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PYTHON_DIR)
    proc.stdin.write((json.dumps(cmd) + "\n").encode())
    proc.stdin.flush()
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["type"] == "finished":
            break
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0 and [e["type"] for e in events] == ["hello", "started", "epoch", "epoch", "finished"]
    proc.stdout.close()
    proc.stderr.close()
    path = tmp_path / "start.json"
    path.write_text(json.dumps(cmd))
    done = subprocess.run(ENGINE + ["--command", str(path)], env=engine_env(), capture_output=True, timeout=60, cwd=PYTHON_DIR)
    assert done.returncode == 0, done.stderr.decode()
    # A command given up front: no hello, only events.
    assert [json.loads(l)["type"] for l in done.stdout.decode().splitlines()] == ["started", "epoch", "epoch", "finished"]


def self_check(*args: str, **env: str):
    done = subprocess.run(ENGINE + ["--self-check", *args], env=engine_env(**env), capture_output=True, timeout=60, cwd=PYTHON_DIR)
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 1, done.stdout + done.stderr
    out = json.loads(lines[0])
    load_validator(SELF_CHECK).validate(out)
    return done.returncode, out


def test_self_check_on_this_machine():
    import torch

    code, out = self_check("--device", "cpu")
    assert code == 0 and out["ok"] is True and out["device"] == "cpu" and out["torch"] == torch.__version__ and out["reason"] is None
    assert set(out) == {"ok", "python", "torch", "device", "deviceName", "reason"} and out["python"].startswith(sys.executable)
    code, out = self_check("--device", "cuda")
    if torch.cuda.is_available():
        assert code == 0 and out["device"] == "cuda" and out["deviceName"]
    else:
        assert code == 3 and out["ok"] is False and "cuda" in out["reason"] and '"device": "cpu"' in out["reason"]


def test_self_check_without_a_usable_torch(tmp_path):
    # A torch that fails to import and one that is too old, placed ahead of the real one.
    broken = tmp_path / "broken" / "torch"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('libtorch_cpu.so: cannot open shared object file')\n")
    old = tmp_path / "old" / "torch"
    old.mkdir(parents=True)
    (old / "__init__.py").write_text("__version__ = '1.12.1+cpu'\n")
    code, out = self_check(PYTHONPATH=f"{broken.parent}{os.pathsep}{PYTHON_DIR}")
    assert code == 3 and out["torch"] is None and "torch is not installed for this Python" in out["reason"] and "pip install torch" in out["reason"]
    code, out = self_check(PYTHONPATH=f"{old.parent}{os.pathsep}{PYTHON_DIR}")
    assert code == 3 and out["torch"] == "1.12.1+cpu" and "needs torch >= 1.13" in out["reason"]


def test_self_check_fails_when_the_engine_cannot_import_numpy(tmp_path):
    # torch imports without numpy (it only warns), the training loop does not: the check says so.
    fake = tmp_path / "numpy"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'numpy'\", name='numpy')\n")
    code, out = self_check("--device", "cpu", PYTHONPATH=f"{tmp_path}{os.pathsep}{PYTHON_DIR}")
    assert code == 3 and out["ok"] is False and out["torch"] is not None
    assert "cannot import numpy" in out["reason"] and "pip install numpy" in out["reason"]
