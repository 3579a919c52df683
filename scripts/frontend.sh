#!/usr/bin/env bash
# Build the web UI's front-end assets from npm packages into webui/static/build/ (git-ignored):
#   - npm ci (npm install when there is no lock) when node_modules is missing or stale,
#   - webui/static/scss/app.scss -> webui/static/build/app.css with npm's `sass`,
#   - runtime files copied from node_modules: GOV.UK Frontend's JS bundle and images,
#     bpmn-js's viewer/modeler bundles with their CSS and fonts, diagram-js-minimap's bundle and CSS,
#     bpmn-js-bpmnlint's CSS,
#   - the practice manager's modeler (webui/static/js/modeler/*.mjs with bpmn-js, bpmnlint and
#     bpmn-js-bpmnlint) -> webui/static/build/modeler/modeler.js with npm's `esbuild`.
# Idempotent and quick when nothing changed. `scripts/frontend.sh --force` rebuilds everything.
set -euo pipefail
cd "$(dirname "$0")/.."

NM=node_modules
BUILD=webui/static/build
SCSS_DIR=webui/static/scss
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "frontend.sh: '$tool' not found; install Node.js >= 20.19 with npm" >&2
    exit 1
  }
done

# One build at a time (parallel make, two terminals).
mkdir -p "$BUILD"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BUILD/.lock"
  flock 9
fi

# --- 1. npm packages ---------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install; it is our "installed at" marker.
marker=$NM/.package-lock.json
if [ "$FORCE" = 1 ] || [ ! -f "$marker" ] \
  || { [ -f package-lock.json ] && [ package-lock.json -nt "$marker" ]; } \
  || [ package.json -nt "$marker" ]; then
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
  touch "$marker"
fi

# --- 2. runtime files copied from node_modules -------------------------------------------------
# Recopied whenever the installed packages (the lock) or this script change.
fingerprint=$(cat package-lock.json package.json "$0" 2>/dev/null | sha256sum | cut -d' ' -f1)
stamp=$BUILD/.vendor-stamp
if [ "$FORCE" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$fingerprint" ]; then
  rm -rf "$BUILD/govuk" "$BUILD/bpmn-js" "$BUILD/diagram-js-minimap" "$BUILD/app.css"

  govuk=$NM/govuk-frontend/dist/govuk
  mkdir -p "$BUILD/govuk/assets"
  cp "$govuk/govuk-frontend.min.js" "$govuk/govuk-frontend.min.js.map" "$BUILD/govuk/"
  # Images only: cinflow is not a GOV.UK service, so the GDS Transport fonts are not used
  # (and the templates do not use the crown, the crest or the GOV.UK favicons).
  cp -R "$govuk/assets/images" "$BUILD/govuk/assets/images"

  bpmn=$NM/bpmn-js/dist
  mkdir -p "$BUILD/bpmn-js"
  cp "$bpmn/bpmn-navigated-viewer.production.min.js" \
     "$bpmn/bpmn-viewer.production.min.js" \
     "$bpmn/bpmn-modeler.production.min.js" "$BUILD/bpmn-js/"
  cp -R "$bpmn/assets" "$BUILD/bpmn-js/assets"
  cp "$NM/bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css" "$BUILD/bpmn-js/assets/"

  # the overview map: a UMD bundle (window.DiagramJSMinimap) the viewers add as a module
  minimap=$NM/diagram-js-minimap
  mkdir -p "$BUILD/diagram-js-minimap"
  cp "$minimap/dist/diagram-minimap.umd.prod.js" "$minimap/assets/diagram-js-minimap.css" \
     "$BUILD/diagram-js-minimap/"

  echo "$fingerprint" > "$stamp"
fi

# --- 3. the modeler bundle (esbuild) --------------------------------------------------------
modeler=$BUILD/modeler/modeler.js
sources=(webui/static/js/modeler/*.mjs webui/static/js/conventions.mjs)
if [ "$FORCE" = 1 ] || [ ! -f "$modeler" ] || [ "$stamp" -nt "$modeler" ] \
  || [ -n "$(find "${sources[@]}" -newer "$modeler" -print -quit)" ]; then
  "$NM/.bin/esbuild" webui/static/js/modeler/main.mjs --bundle --format=esm --minify \
    --target=es2020 --log-level=warning --outfile="$modeler"
  echo "frontend.sh: built $modeler"
fi

# --- 4. Sass -----------------------------------------------------------------------------------
css=$BUILD/app.css
if [ ! -f "$css" ] || [ -n "$(find "$SCSS_DIR" -name '*.scss' -newer "$css" -print -quit)" ]; then
  tmp=$(mktemp -d "$BUILD/.sass.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # --pkg-importer=node resolves `@use "pkg:govuk-frontend"` through the package's exports.
  "$NM/.bin/sass" --pkg-importer=node --load-path="$NM" --quiet-deps \
    --style=compressed --no-source-map "$SCSS_DIR/app.scss" "$tmp/app.css"
  mv "$tmp/app.css" "$css"
  echo "frontend.sh: built $css"
fi
