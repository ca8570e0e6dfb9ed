#!/bin/sh
# Prints, last, a short list of what failed in a test log: each failing test
# and the first line of its error. CI shows only the end of the output, and a
# long run's failures would otherwise scroll out of it.
set -eu
log=$1
echo
echo "=== failure digest ($log) ==="
awk '
  /failing tests:/ { inblock = 1; next }
  /^ℹ tests / { inblock = 0 }
  inblock && /^✖ / { name = $0; want = 1; next }
  inblock && want && NF > 0 { sub(/^ +/, ""); print name; print "    " substr($0, 1, 400); want = 0 }
' "$log"
