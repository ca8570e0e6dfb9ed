#!/bin/sh
# Builds the AF_PACKET addon (native/) against the headers of the Node.js that
# runs this script: they come installed with Node.js (<prefix>/include/node),
# so node-gyp is pointed at that prefix instead of downloading headers.
set -eu
cd "$(dirname "$0")/.."
nodedir=$(node -p "require('node:path').resolve(process.execPath, '..', '..')")
if [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "build-native: no Node.js headers under $nodedir/include/node" >&2
  exit 1
fi
exec node-gyp rebuild --directory native --nodedir="$nodedir" --loglevel=warn
