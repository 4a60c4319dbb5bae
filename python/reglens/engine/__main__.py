"""`python -m reglens.engine`: the PyTorch engine process (docs/torch-engine.md).

    python -m reglens.engine [--device D]         engine: imports torch and self-checks
                                                  at once, sends {"type": "hello",
                                                  "selfCheck": ...} first, then commands
                                                  in, events out over NODE_CHANNEL_FD,
                                                  else stdin / stdout
    python -m reglens.engine --self-check [--device auto|cuda|mps|cpu]
                                                  one JSON line; exit 0 usable, 3 not
    python -m reglens.engine --command FILE       train the start command in FILE,
                                                  events on stdout (Ctrl+C cancels)

stdout and stderr are otherwise for humans (the run's log), never protocol, except that
without NODE_CHANNEL_FD stdout carries the events.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any, Dict, List, Optional

from reglens.engine.channel import Channel, now
from reglens.engine.jsonschema_lite import SchemaValidationError
from reglens.engine.schemas import COMMAND, load_validator

EXIT_FAILED = 1
EXIT_UNUSABLE = 3


def check_start(command: Any) -> Optional[str]:
    """None when the command is a valid start command, else why not."""
    try:
        validator = load_validator(COMMAND)
    except (OSError, ValueError) as e:
        return str(e)
    try:
        validator.validate(command)
    except SchemaValidationError as e:
        return f"the start command does not match engine-command.schema.json: {e} (engine.js and this Python engine must come from the same RegLens)"
    if command.get("type") != "start":
        return f'expected a start command, got "{command.get("type")}"'
    return None


def _fail(channel: Channel, message: str) -> int:
    channel.send({"type": "failed", "time": now(), "message": message})
    return EXIT_FAILED


def hello(device: str) -> Dict[str, Any]:
    """The engine's first message: its own self-check (which imports torch and the training
    loop), so engine.js needs no second Python and the import overlaps its dataset hand-over."""
    from reglens.engine.selfcheck import self_check

    return {"type": "hello", "selfCheck": self_check(device)}


def run_engine(channel: Channel, command: Optional[Dict[str, Any]], device: str = "auto") -> int:
    """Waits for the start command (unless given: no hello then), validates and trains it."""
    if command is None:
        # Reading first: a parent that goes away during the import is seen when it is done.
        channel.start_reader()
        greeting = hello(device)
        channel.send(greeting)
        if not greeting["selfCheck"]["ok"]:
            return EXIT_UNUSABLE  # engine.js falls back or fails the run with the reason
        while True:
            command = channel.next_command()
            if command is None or command.get("type") == "cancel":
                return 0  # the parent went away or cancelled before the start: nothing to wind down
            if command.get("type") == "start":
                break
            channel.send({"type": "log", "level": "error", "message": f"malformed command ignored: unknown type {command.get('type')!r}"})
    problem = check_start(command)
    if problem:
        return _fail(channel, problem)
    try:
        from reglens.engine.train import train
    except ImportError as e:  # torch (or numpy) missing in this interpreter
        from reglens.engine.selfcheck import self_check

        return _fail(channel, self_check().get("reason") or f"cannot import the engine: {e}")
    return train(command, channel.send, channel.cancelled)


def _inspect_model(file: str, class_name: str) -> int:
    try:
        import torch  # noqa: F401 - the class's file imports it; say why not first
    except Exception:  # noqa: BLE001 - any import failure means torch is not usable here
        from reglens.engine.selfcheck import self_check

        reason = self_check().get("reason") or "torch does not import"
        print(json.dumps({"ok": False, "file": file, "class": class_name, "parameters": [], "reason": reason}), flush=True)
        return EXIT_UNUSABLE
    from reglens.engine.user_model import describe_constructor

    result = describe_constructor(file, class_name)
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else EXIT_UNUSABLE


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m reglens.engine", description="RegLens PyTorch engine")
    ap.add_argument("--self-check", action="store_true", help="print whether torch is usable here (one JSON line) and exit 0 / 3")
    ap.add_argument("--device", default="auto", choices=["auto", "cuda", "mps", "cpu"], help="device for --self-check and the hello")
    ap.add_argument("--command", metavar="FILE", help="train the start command in FILE; events go to stdout")
    ap.add_argument("--inspect-model", nargs=2, metavar=("FILE", "CLASS"), help="print the constructor parameters of an nn.Module subclass (one JSON line) and exit 0 / 3")
    args = ap.parse_args(argv)
    if args.inspect_model:
        return _inspect_model(*args.inspect_model)
    if args.self_check:
        from reglens.engine.selfcheck import self_check

        result = self_check(args.device)
        print(json.dumps(result), flush=True)
        return 0 if result["ok"] else EXIT_UNUSABLE
    if args.command:
        channel = Channel.from_streams(sys.stdin.fileno(), sys.stdout.buffer)
        signal.signal(signal.SIGINT, lambda *_: channel.cancelled.set())
        try:
            with open(args.command, encoding="utf-8") as f:
                command = json.load(f)
        except (OSError, ValueError) as e:
            return _fail(channel, f"cannot read the start command from {args.command}: {e}")
        return run_engine(channel, command)
    channel = Channel.from_environment()
    channel.on_malformed = lambda message: channel.send({"type": "log", "level": "error", "message": message})
    if os.environ.get("NODE_CHANNEL_FD"):
        # Ctrl+C reaches the whole process group; the parent owns cancellation and sends cancel.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.environ.get("REGLENS_ENGINE_IGNORE_SIGTERM") == "1":
        # A Slurm task's SIGTERM (scancel, time limit, requeue) reaches every process of the
        # task: the CLI turns it into a cancel, which arrives here through the channel.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return run_engine(channel, None, args.device)


if __name__ == "__main__":
    sys.exit(main())
