"""A fake OpenAI-compatible (and Anthropic Messages) server on loopback for the LLM review tests.

`FakeLlm(answer)` serves POST .../chat/completions and .../v1/messages; `answer(system, user)`
returns the text the "model" replies. Every request is recorded with its headers.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List


class FakeLlm:
    def __init__(self, answer: Callable[[str, str], str], fail_first: int = 0):
        self.answer = answer
        self.fail_first = fail_first  # answer HTTP 500 to this many requests first
        self.requests: List[Dict] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    failing = len(fake.requests) <= fake.fail_first
                if failing:
                    self._send(500, {"error": {"message": "overloaded", "type": "server_error"}})
                    return
                if self.path.endswith("/messages"):  # Anthropic Messages API
                    text = fake.answer(body.get("system", ""), body["messages"][-1]["content"])
                    self._send(200, {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                                     "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                                     "usage": {"input_tokens": 120, "output_tokens": 30}})
                    return
                messages = body["messages"]
                text = fake.answer(messages[0]["content"], messages[-1]["content"])
                self._send(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": text}}],
                                 "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})

            def _send(self, status, payload):
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FakeLlm":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
