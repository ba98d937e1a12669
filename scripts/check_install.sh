#!/usr/bin/env bash
# Prove the README's install: build a wheel and an sdist, install the wheel into a fresh venv (nothing else from
# this checkout), then run `feedwright --version` and build a copy of the example site with it.
# Usage: scripts/check_install.sh [PYTHON]   (PYTHON: one that has `build`, default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -m build --sdist --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
ls "$work/dist"/feedwright-*.tar.gz "$work/dist"/feedwright-*-py3-none-any.whl >/dev/null
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$work/dist"/feedwright-*.whl
"$work/venv/bin/feedwright" --version
mkdir "$work/site"
cp -r feedwright.toml content _includes "$work/site/"
(cd / && "$work/venv/bin/feedwright" build --site "$work/site")
test -s "$work/site/output/rss.xml" && test -s "$work/site/output/feed.json"
echo "install check: ok"
