"""Entry point the Pulumi CLI runs (``python -m pulumi.policy <engine> <this dir>``).

Only the pack directory is on sys.path then; the repo root is added so ``gate`` and ``policies``
import as packages.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from policies.compatibility_gate.pack import build_pack

build_pack()
