"""The PyTorch engine: `python -m reglens.engine` speaks the EngineCommand / EngineEvent
protocol of src/protocol/engineMessages.ts (docs/torch-engine.md is the contract)."""
