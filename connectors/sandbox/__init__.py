"""A simulated Alif Bank speaking OBP v5.1.0, for demos, tests and benchmarks.

It stands in for a remote bank: it talks only HTTP and imports nothing from the ledger,
the graph or the other connectors. See docs/sandbox.md.
"""

from connectors.sandbox.app import create_app
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.config import FaultConfig, SandboxConfig

__all__ = ["FaultConfig", "SandboxBank", "SandboxConfig", "create_app"]
