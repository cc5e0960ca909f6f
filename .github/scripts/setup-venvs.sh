#!/usr/bin/env bash
# Creates the virtual environments the Pulumi CLI runs with: the program's (`venv/`, because Pulumi.yaml says
# `virtualenv: venv`) and one per policy pack (`policies/<pack>/venv`, from each PulumiPolicy.yaml).
# pulumi/actions drives the Automation API, which expects all of them to exist already.
#
# usage: setup-venvs.sh [REQUIREMENTS]   (default requirements-dev.txt; deploy jobs pass requirements.txt)
# Run from the project directory. Writes `pulumi-version` (the SDK pin) to $GITHUB_OUTPUT when set, so the
# CLI that CI installs matches the SDK the program was tested with.
set -euo pipefail

requirements="${1:-requirements-dev.txt}"
python="${PYTHON:-python3}"
pip_flags=(--disable-pip-version-check --quiet)

"$python" -m venv venv
venv/bin/pip install "${pip_flags[@]}" -r "$requirements"

packs=0
for manifest in policies/*/PulumiPolicy.yaml; do
  [ -e "$manifest" ] || continue
  pack="$(dirname "$manifest")"
  "$python" -m venv "$pack/venv"
  "$pack/venv/bin/pip" install "${pip_flags[@]}" -r "$pack/requirements.txt"
  echo "policy pack venv ready: $pack/venv"
  packs=$((packs + 1))
done
if [ "$packs" -lt 2 ]; then
  echo "::error::expected the compatibility_gate and baseline packs under policies/, found $packs" >&2
  exit 1
fi

version="$(sed -n 's/^pulumi==\([0-9][0-9.]*\).*/\1/p' requirements.txt)"
if [ -z "$version" ]; then
  echo "::error::requirements.txt does not pin pulumi==X.Y.Z" >&2
  exit 1
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "pulumi-version=$version" >> "$GITHUB_OUTPUT"
fi
