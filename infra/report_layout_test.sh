#!/usr/bin/env bash
# The HTML reports as a person reads them: the demo's drift report, model cards and live-quality
# reports opened in headless Chromium at 1,280 x 800, each failing if the page is wider than the
# window (it would scroll sideways and hide what lies on the right). Each page is read with a
# script added that writes the page's width into the DOM Chromium dumps.
# Installs Chromium with apt when it is missing; where it cannot, says so and checks nothing.
# Run from the repository root with the workspace built (target/debug/mlops).
set -euo pipefail
cd "$(dirname "$0")/.."

BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ] && command -v apt-get >/dev/null; then
  echo "installing chromium (apt)"
  apt-get install -y -qq chromium >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } || true
  BROWSER=$(command -v chromium || true)
fi
if [ -z "$BROWSER" ]; then
  echo "no Chromium here and none could be installed: the report layout was NOT checked"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/debug/mlops demo --dir "$work/home" >"$work/demo.log"
target/debug/mlops demo --dataset reviews --dir "$work/reviews" >>"$work/demo.log"

WIDTH=1280
failed=0
checked=0
while IFS= read -r page; do
  probe="$work/probe.html"
  # The page's own width, once laid out, as an attribute of <html> that --dump-dom prints.
  sed 's#</body>#<script>addEventListener("load",()=>document.documentElement.setAttribute("data-width",document.documentElement.scrollWidth))</script></body>#' \
    "$page" >"$probe"
  dumped=$("$BROWSER" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --disable-dev-shm-usage --window-size=$WIDTH,800 --dump-dom "file://$probe" 2>/dev/null)
  width=$(grep -o 'data-width="[0-9]*"' <<<"$dumped" | head -1 | tr -dc '0-9')
  name=${page#"$work"/}
  checked=$((checked + 1))
  if [ -z "$width" ]; then
    echo "FAIL $name: the page did not load"
    failed=1
  elif [ "$width" -gt "$WIDTH" ]; then
    echo "FAIL $name: ${width} px wide in a ${WIDTH} px window"
    failed=1
  else
    echo "ok   $name: ${width} px"
  fi
done < <(find "$work/home/objects" "$work/reviews/objects" -name '*.html' | sort)
[ "$checked" -gt 0 ] || { echo "FAIL: the demos wrote no HTML report"; exit 1; }
exit $failed
