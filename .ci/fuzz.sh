#!/bin/sh
# Runs every fuzz target for a short fixed time (FUZZTIME, default 20s).
set -eu
cd "$(dirname "$0")/.."
t=${FUZZTIME:-20s}
for target in \
	.:FuzzSignedQuery \
	.:FuzzDecodeResult \
	.:FuzzInboundMessages \
	.:FuzzLinkURL \
	./fpstest:FuzzSimulatorRequest; do
	pkg=${target%%:*}
	name=${target#*:}
	echo "fuzz $name ($pkg, $t)"
	go test -run='^$' -fuzz="^$name\$" -fuzztime="$t" -parallel="${FUZZPARALLEL:-1}" "$pkg"
done
