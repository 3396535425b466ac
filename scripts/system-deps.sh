#!/bin/sh
# Installs the Debian packages that some tests and tools need beyond Node, when they are missing:
#   python3-grpcio python3-protobuf      the Python gRPC client (clients/python) and its test
#   protobuf-compiler protobuf-compiler-grpc   regenerating that client (clients/python/generate.sh)
#   chromium                              the dashboard test (headless, driven by playwright-core)
#   postgresql redis-server               the scale-out tests (test/replicas*.test.ts, test/postgres*.test.ts)
#                                         start throwaway servers from these binaries; none is left running
# Used by .ci/run; run it yourself (as root, or through sudo) to get the same tests locally.
# `npm start` needs none of these.
set -eu
PACKAGES="python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc chromium postgresql redis-server"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "system packages present: $PACKAGES"
  exit 0
fi
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
