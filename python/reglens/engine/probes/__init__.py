"""The probes of the PyTorch engine: ports of src/engine/probes/*.ts with the same payloads.

Each probe is a pure function of (model, data, params) -> payload dict (see payloads.py,
mc_dropout.py, dynamics.py); runner.ProbeRunner schedules them during a run.
"""
