#!/usr/bin/env bash
# Install what the browser tests (tests/browser) need, only when it is missing:
#   - Debian's Chromium at /usr/bin/chromium (Playwright cannot download its own browser
#     builds here, so the tests launch this one through executable_path),
#   - a metric-compatible Arial (fonts-liberation) so pages render as they would for users,
#   - the Python `playwright` package in the project's virtualenv (it ships its own driver).
# Safe to run again: it does nothing when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PLAYWRIGHT_SPEC=${PLAYWRIGHT_SPEC:-"playwright>=1.50,<2"}
APT_PACKAGES=(chromium fonts-liberation)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser-deps.sh: apt-get not found; install ${missing[*]} yourself" >&2
    exit 1
  fi
  # Refresh the package lists only when apt does not know one of the packages yet.
  for pkg in "${missing[@]}"; do
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
      "${SUDO[@]}" apt-get update -qq
      break
    fi
  done
  echo "browser-deps.sh: installing ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "browser-deps.sh: /usr/bin/chromium is still missing" >&2
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "browser-deps.sh: no virtualenv at $VENV (run 'make install' first)" >&2
  exit 1
fi
if ! "$VENV/bin/python" -c "import playwright.sync_api" >/dev/null 2>&1; then
  echo "browser-deps.sh: installing $PLAYWRIGHT_SPEC into $VENV"
  "$VENV/bin/pip" install -q "$PLAYWRIGHT_SPEC"
fi
