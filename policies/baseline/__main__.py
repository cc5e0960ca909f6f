"""Entry point the Pulumi CLI runs (``python -m pulumi.policy <engine> <this dir>``).

Only the pack directory is on sys.path then; the repo root is added so ``policies.baseline`` imports as a
package.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from policies.baseline.pack import build_pack

build_pack()
