#!/bin/sh
# The DfE's Child in Need census validation rules (the open-source csc-validator-be-cin), in
# their own virtual environment: they pin Python 3.11 and numpy<2, which cinflow does not need.
# Usage: scripts/cin-validator.sh            install (once) into .venv-cin-validator
set -eu
cd "$(dirname "$0")/.."
VENV=.venv-cin-validator
STAMP=$VENV/.installed-0.1.13
[ -f "$STAMP" ] && exit 0
PY=${CIN_VALIDATOR_PYTHON:-python3.11}
command -v "$PY" >/dev/null || { echo "cin-validator: needs $PY (Python 3.11)" >&2; exit 1; }
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q "csc-validator-be-cin==0.1.13" "numpy<2" pytest
touch "$STAMP"
