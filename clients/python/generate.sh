#!/bin/sh
# Regenerates the Python message and gRPC stubs from proto/ (run from anywhere).
#
# Needs Debian's protobuf-compiler and protobuf-compiler-grpc. Debian's protoc has no well-known-type
# includes, so buf (from node_modules) compiles the protos to a descriptor image first and protoc only
# turns that image into Python.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/clients/python}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && npx --no-install buf build --exclude-path proto/grpc -o "$tmp/image.binpb")
rm -rf "$out/smarterrouter"
protoc --descriptor_set_in="$tmp/image.binpb" \
  --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  smarterrouter/v1/common.proto smarterrouter/v1/router.proto smarterrouter/v1/admin.proto smarterrouter/v1/profiler.proto
