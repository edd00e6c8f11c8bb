#!/usr/bin/env bash
# The kit as a user installs it: `pip install .` (a wheel, not editable) into a clean venv, then used
# from an empty folder outside the checkout: train the TF-IDF model, tag a document, serve it and
# answer a request. Fails loudly at the first step that does not hold. Run by `make test` (and so CI).
#
# Usage: bash scripts/check_wheel.sh   (PYTHON=python3.11 to pick the interpreter)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/policytag-wheel.XXXXXX")
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# pip's notes about find-links folders this machine's pip config names but lacks are noise here.
pip_install() { "$BIN/python" -m pip install --quiet "$@" 2> >(grep -v "is ignored: it is neither" >&2); }
fail() { echo "check_wheel: FAILED: $*" >&2; exit 1; }
step() { echo "== check_wheel: $*"; }

step "a clean venv in $WORK/venv; torch pinned first (the CPU wheel), then the kit from $ROOT (not editable)"
"$PYTHON" -m venv "$WORK/venv"
BIN="$WORK/venv/bin"
pip_install --upgrade pip
pip_install torch==2.13.0
# Built from a fresh copy of the tracked and untracked-but-not-ignored files (links kept as links), so
# that nothing left in the checkout's build/ folder by an earlier build can slip into the wheel.
mkdir "$WORK/src"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard | (cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$WORK/src"
pip_install "$WORK/src"

step "only the policytag top-level package is installed"
SITE=$("$BIN/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
TOP=$(cat "$SITE"/policytag-*.dist-info/top_level.txt)
[ "$TOP" = "policytag" ] || fail "top_level.txt lists: $TOP"
for name in labels training serving; do
  [ ! -e "$SITE/$name" ] || fail "$SITE/$name is installed as a top-level name"
done
for module in policytag.serving.api.routes.labelstudio policytag.labels.labelstudio.client policytag.serving.core.state; do
  "$BIN/python" -c "import $module" || fail "import $module"
done

mkdir "$WORK/empty"
cd "$WORK/empty"
unset POLICYTAG_DATA
step "policytag train --kind tfidf (from an empty folder: data and configs come with the wheel)"
# --no-tfidf-search: the default's grid search takes minutes; the check is about the install, not the model.
"$BIN/policytag" train --kind tfidf --no-tfidf-search --output-dir models/wheel
[ -f models/wheel/policytag.json ] || fail "no model folder written"

step "policytag predict"
printf '%s\n' "深入推进法律援助工作，扩大法律援助覆盖面。" "全面推行行政执法公示制度。" > doc.txt
"$BIN/policytag" predict --model models/wheel doc.txt > predictions.jsonl
[ "$(wc -l < predictions.jsonl)" -ge 2 ] || fail "predict wrote $(wc -l < predictions.jsonl) lines"
grep -q legal_aid predictions.jsonl || fail "the legal-aid sentence was not tagged legal_aid: $(cat predictions.jsonl)"

step "policytag serve answers a request"
PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN/policytag" serve --model models/wheel --port "$PORT" > serve.log 2>&1 &
SERVER=$!
for _ in $(seq 1 120); do
  if "$BIN/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/readyz', timeout=2)" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER" 2>/dev/null || { cat serve.log >&2; fail "the server exited"; }
  sleep 1
done
"$BIN/python" - "$PORT" <<'EOF' || { cat serve.log >&2; fail "POST /v1/classify"; }
import json
import sys
import urllib.request

port = sys.argv[1]
body = json.dumps({"sentences": ["深入推进法律援助工作，扩大法律援助覆盖面。"]}).encode()
req = urllib.request.Request(
    f"http://127.0.0.1:{port}/v1/classify", data=body, headers={"Content-Type": "application/json"}
)
with urllib.request.urlopen(req, timeout=30) as resp:
    answer = json.load(resp)
labels = answer["results"][0]["labels"]
assert "legal_aid" in labels, answer
print("served:", labels)
EOF
step "passed: the installed wheel trains, predicts and serves outside the checkout"
