#!/usr/bin/env python3
"""Talks to a running SmarterRouter over gRPC: explains a routing decision, streams an answer, and
makes one admin call.

    /usr/bin/python3 clients/python/example.py --target localhost:11436 --admin-key "$ROUTER_ADMIN_API_KEY"

With --json it prints one JSON object instead (the project's test reads that).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

from smarterrouter_client import SmarterRouter, common_pb2  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=os.environ.get("SMARTERROUTER_TARGET", "localhost:11436"))
    parser.add_argument("--api-key", default=os.environ.get("SMARTERROUTER_API_KEY"))
    parser.add_argument("--admin-key", default=os.environ.get("ROUTER_ADMIN_API_KEY"))
    parser.add_argument("--prompt", default="Write a Python function that checks whether a string is a palindrome.")
    parser.add_argument("--json", action="store_true", help="print one JSON object (for scripts and tests)")
    args = parser.parse_args()

    try:
        with SmarterRouter(args.target, api_key=args.api_key, admin_key=args.admin_key, timeout=30) as router:
            explanation = router.explain(args.prompt)
            parts = list(router.chat_stream_parts(args.prompt))
            route = next((p.route for p in parts if p.WhichOneof("part") == "route"), None)
            text = "".join(p.text_delta for p in parts if p.WhichOneof("part") == "text_delta")
            finish = next((p.finish for p in parts if p.WhichOneof("part") == "finish"), None)
            plugins = router.list_plugins()
    except grpc.RpcError as error:  # a clear one-line error: router down, wrong key, ...
        print(f"smarterrouter: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1

    result = {
        "explain": {
            "category": common_pb2.Category.Name(explanation.category),
            "complexity": common_pb2.Complexity.Name(explanation.complexity),
            "selected_model": explanation.selected_model,
            "candidates": len(explanation.candidates),
        },
        "stream": {
            "parts": len(parts),
            "model": route.selected_model if route else None,
            "text": text,
            "finish": common_pb2.FinishReason.Name(finish.finish_reason) if finish else None,
        },
        "admin": {"plugins": sorted(p.name for p in plugins.plugins)},
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"explain: {result['explain']['category']} / {result['explain']['complexity']} -> {result['explain']['selected_model']}")
        print(f"stream from {result['stream']['model']}: {text}")
        print(f"plugins: {', '.join(result['admin']['plugins'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
