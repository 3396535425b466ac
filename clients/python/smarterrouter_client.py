"""A small typed client for SmarterRouter's gRPC services (RouterService, AdminService, ProfilerService).

The message classes and stubs under smarterrouter/v1/ are generated from the project's protos by
generate.sh; this module only adds what every caller needs: one channel, the admin key as
`authorization: Bearer ...` metadata, and Python-friendly helpers for the common calls.

    from smarterrouter_client import SmarterRouter
    with SmarterRouter("localhost:11436", admin_key="...") as router:
        print(router.explain("write a binary search in rust").selected_model)
        for piece in router.chat_stream("tell me a joke"):
            print(piece, end="")

The router serves gRPC over cleartext HTTP/2 (h2c) on its one port, so an insecure channel is right
for a local router; pass `credentials=grpc.ssl_channel_credentials()` behind a TLS proxy.
"""
from __future__ import annotations

from typing import Iterator, Optional, Sequence

import grpc

from smarterrouter.v1 import admin_pb2, admin_pb2_grpc, common_pb2, profiler_pb2, profiler_pb2_grpc, router_pb2, router_pb2_grpc

__all__ = ["SmarterRouter", "admin_pb2", "common_pb2", "profiler_pb2", "router_pb2"]

_ROLES = {
    "system": router_pb2.ROLE_SYSTEM,
    "developer": router_pb2.ROLE_DEVELOPER,
    "user": router_pb2.ROLE_USER,
    "assistant": router_pb2.ROLE_ASSISTANT,
    "tool": router_pb2.ROLE_TOOL,
}


class SmarterRouter:
    """One gRPC channel to a router, with stubs for its three services."""

    def __init__(
        self,
        target: str = "localhost:11436",
        *,
        api_key: Optional[str] = None,
        admin_key: Optional[str] = None,
        credentials: Optional[grpc.ChannelCredentials] = None,
        timeout: float = 60.0,
    ) -> None:
        self._channel = grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target)
        self._api_key = api_key
        self._admin_key = admin_key
        self.timeout = timeout
        self.router = router_pb2_grpc.RouterServiceStub(self._channel)
        self.admin = admin_pb2_grpc.AdminServiceStub(self._channel)
        self.profiler = profiler_pb2_grpc.ProfilerServiceStub(self._channel)

    # -- plumbing ---------------------------------------------------------------------------
    def _metadata(self, key: Optional[str]) -> Sequence[tuple[str, str]]:
        return (("authorization", f"Bearer {key}"),) if key else ()

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "SmarterRouter":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- RouterService ------------------------------------------------------------------------
    @staticmethod
    def chat_request(prompt_or_messages, *, model: str = "smarterrouter/main", **fields) -> router_pb2.ChatRequest:
        """Builds a ChatRequest from a prompt string or OpenAI-style [{"role", "content"}] dicts."""
        if isinstance(prompt_or_messages, str):
            messages = [router_pb2.Message(role=router_pb2.ROLE_USER, content=prompt_or_messages)]
        else:
            messages = [router_pb2.Message(role=_ROLES[m["role"]], content=m.get("content", "")) for m in prompt_or_messages]
        return router_pb2.ChatRequest(model=model, messages=messages, **fields)

    def chat(self, prompt_or_messages, **fields) -> router_pb2.ChatResponse:
        request = self.chat_request(prompt_or_messages, **fields)
        return self.router.Chat(request, metadata=self._metadata(self._api_key), timeout=self.timeout)

    def chat_stream_parts(self, prompt_or_messages, **fields) -> Iterator[router_pb2.ChatStreamResponse]:
        """Every stream part: first the route (which model), then deltas, then finish."""
        request = router_pb2.ChatStreamRequest(request=self.chat_request(prompt_or_messages, **fields))
        yield from self.router.ChatStream(request, metadata=self._metadata(self._api_key), timeout=self.timeout)

    def chat_stream(self, prompt_or_messages, **fields) -> Iterator[str]:
        """Only the answer's text, piece by piece."""
        for part in self.chat_stream_parts(prompt_or_messages, **fields):
            if part.WhichOneof("part") == "text_delta":
                yield part.text_delta

    def explain(self, prompt: str, quality_preference: Optional[float] = None) -> router_pb2.ExplainResponse:
        request = router_pb2.ExplainRequest(prompt=prompt)
        if quality_preference is not None:
            request.quality_preference = quality_preference
        return self.router.Explain(request, metadata=self._metadata(self._api_key), timeout=self.timeout)

    def list_models(self, include_unavailable: bool = False) -> router_pb2.ListModelsResponse:
        return self.router.ListModels(
            router_pb2.ListModelsRequest(include_unavailable=include_unavailable),
            metadata=self._metadata(self._api_key),
            timeout=self.timeout,
        )

    # -- AdminService (needs the admin key unless the router runs without one on loopback) -------
    def list_plugins(self) -> admin_pb2.ListPluginsResponse:
        return self.admin.ListPlugins(admin_pb2.ListPluginsRequest(), metadata=self._metadata(self._admin_key), timeout=self.timeout)

    def get_vram(self) -> admin_pb2.GetVramResponse:
        return self.admin.GetVram(admin_pb2.GetVramRequest(), metadata=self._metadata(self._admin_key), timeout=self.timeout)

    def get_stats(self) -> admin_pb2.GetStatsResponse:
        return self.admin.GetStats(admin_pb2.GetStatsRequest(), metadata=self._metadata(self._admin_key), timeout=self.timeout)

    # -- ProfilerService -----------------------------------------------------------------------
    def profiler_status(self) -> profiler_pb2.GetStatusResponse:
        return self.profiler.GetStatus(profiler_pb2.GetStatusRequest(), metadata=self._metadata(self._admin_key), timeout=self.timeout)
