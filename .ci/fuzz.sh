#!/bin/sh
# Runs every fuzz target for a short fixed time (FUZZTIME, default 20s),
# one worker each (FUZZPARALLEL, default 1). A failing input is written
# under <package>/testdata/fuzz/<target>/ and fails the run. A run that
# fails without one (the fuzzing coordinator can report "context deadline
# exceeded" when a loaded machine stops its worker late) is run once more.
set -eu
cd "$(dirname "$0")/.."
t=${FUZZTIME:-20s}
for target in \
	.:FuzzSignedQuery \
	./internal/rules:FuzzPlainHTTPURL \
	.:FuzzDecodeResult \
	.:FuzzInboundMessages \
	.:FuzzLinkURL \
	./internal/sigv2:FuzzParseForm \
	./fpstest:FuzzSimulatorRequest; do
	pkg=${target%%:*}
	name=${target#*:}
	echo "fuzz $name ($pkg, $t)"
	for try in 1 2; do
		out=$(go test -run='^$' -fuzz="^$name\$" -fuzztime="$t" -parallel="${FUZZPARALLEL:-1}" "$pkg" 2>&1) && { echo "$out" | tail -2; break; }
		echo "$out" | tail -20
		if echo "$out" | grep -q "Failing input written to" || [ "$try" = 2 ]; then
			exit 1
		fi
		echo "fuzz $name: failed without a failing input; running it again"
	done
done
