#!/usr/bin/env bash
# Installs Debian's Chromium, its driver and a CJK font for the tagging page's browser test.
# Never downloads a browser build of its own; where apt cannot install them, the browser test
# is skipped with a loud message.
set -u
if command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list 2>/dev/null | grep -qi "cjk"; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "WARNING: cannot install chromium/chromium-driver/fonts-noto-cjk (needs root and apt-get): the browser test will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; }; then
  echo "WARNING: apt-get could not install chromium/chromium-driver/fonts-noto-cjk: the browser test will be skipped" >&2
fi
exit 0
