"""A small OpenAI-compatible server over the transformers back-end, for tests and development.

    python -m curate.generate.server --model DIR [--port 8000] [--faults 429,ok,500,slow,drop]

Serves `POST /v1/chat/completions`, `POST /v1/completions` (raw prompts, `stop`, vLLM's
`stop_reason`) and `GET /v1/models` on 127.0.0.1 (loopback only), one request at a time through
the model. `--reasoning` returns the thinking apart in `reasoning_content`, as vLLM's reasoning
parsers do. Faults, for the client's tests: request i gets `faults[i % len(faults)]`, one of `ok`,
`429`, `500`, `slow` (answer after `--slow-s` seconds), `drop` (close the connection without
answering) or `partial` (half an answer, then close).
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from curate.generate.backend import Job, SamplingParams
from curate.generate.forcing import StepIn

FAULTS = ("ok", "429", "500", "slow", "drop", "partial")


class Server:
    def __init__(self, model: str, port: int = 0, faults: str | list[str] = "", reasoning: bool = False,
                 slow_s: float = 2.0, batch_size: int = 8):
        from curate.generate.hf import HFBackend

        plan = [f.strip() for f in (faults.split(",") if isinstance(faults, str) else faults) if f.strip()]
        bad = [f for f in plan if f not in FAULTS]
        if bad:
            raise ValueError(f"unknown fault {bad[0]!r} (expected {', '.join(FAULTS)})")
        self.model_name = model
        self.backend = HFBackend(model, batch_size=batch_size, device="cpu")
        self.plan = plan or ["ok"]
        self.reasoning = reasoning
        self.slow_s = slow_s
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.served = {f: 0 for f in FAULTS}
        handler = type("Handler", (_Handler,), {"app": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = False     # server_close() joins the handlers: no torch call at exit
        self.httpd.block_on_close = True
        self.stopping = False
        self.httpd.handle_error = lambda request, address: None   # clients that hung up: not news
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread: threading.Thread | None = None

    def start(self) -> Server:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping = True
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def fault(self) -> str:
        with self.lock:
            f = self.plan[next(self.counter) % len(self.plan)]
            self.served[f] += 1
            return f

    # ---------------------------------------------------------------------------------- answers

    def _params(self, body: dict) -> SamplingParams:
        return SamplingParams(temperature=float(body.get("temperature", 1.0)), top_p=float(body.get("top_p", 1.0)),
                              max_tokens=int(body.get("max_tokens") or 256), seed=int(body.get("seed") or 0),
                              logprobs=int(body["top_logprobs"]) if body.get("logprobs") and body.get("top_logprobs") else None)

    def chat(self, body: dict) -> dict:
        from curate import layouts

        params = self._params(body)
        job = Job("x", 0, tuple(body["messages"]), params.seed)
        with self.lock:
            comp = self.backend.complete([job.messages], [job.seed], params)[0]
        msg = {"role": "assistant", "content": comp.text}
        if self.reasoning:
            s = layouts.split_one(comp.text, layouts.THINK, comp.finish_reason)
            msg = {"role": "assistant", "content": s.response, "reasoning_content": s.thinking}
        choice = {"index": 0, "message": msg, "finish_reason": comp.finish_reason}
        if params.logprobs:
            choice["logprobs"] = {"content": [
                {"token": f"token_id:{row[0]}", "logprob": lp[0],
                 "top_logprobs": [{"token": f"token_id:{i}", "logprob": v} for i, v in zip(row, lp)]}
                for row, lp in zip(comp.topk_ids or [], comp.topk_logprobs or [])]}
        return {"id": "chatcmpl-0", "object": "chat.completion", "model": self.model_name, "choices": [choice],
                "usage": {"prompt_tokens": comp.prompt_tokens, "completion_tokens": comp.completion_tokens,
                          "total_tokens": comp.prompt_tokens + comp.completion_tokens}}

    def complete(self, body: dict) -> dict:
        params = self._params(body)
        stop = body.get("stop")
        stop = stop[0] if isinstance(stop, list) and stop else stop or None
        with self.lock:
            self.backend.params = params
            o = self.backend.step([StepIn(str(body["prompt"]), params.max_tokens, stop, params.seed)])[0]
            prompt_tokens = len(self.backend.tok(str(body["prompt"]), add_special_tokens=False)["input_ids"])
        choice = {"index": 0, "text": o.text, "finish_reason": "length" if o.why == "length" else "stop",
                  "stop_reason": stop if o.why == "stop" else None}
        return {"id": "cmpl-0", "object": "text_completion", "model": self.model_name, "choices": [choice],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": o.tokens,
                          "total_tokens": prompt_tokens + o.tokens}}


class _Handler(BaseHTTPRequestHandler):
    app: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:   # quiet
        pass

    def _send(self, status: int, obj: dict, extra: dict | None = None, partial: bool = False) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if partial else data)
        self.wfile.flush()
        if partial:
            self._drop()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.app.model_name, "object": "model"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(400, {"error": {"message": "body is not JSON"}})
            return
        route = {"/v1/chat/completions": self.app.chat, "/v1/completions": self.app.complete}.get(self.path.rstrip("/"))
        if route is None:
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        fault = self.app.fault()
        if fault == "drop":
            self._drop()
            return
        if fault == "429":
            self._send(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"})
            return
        if fault == "500":
            self._send(500, {"error": {"message": "internal error"}})
            return
        if fault == "slow":
            end = time.monotonic() + self.app.slow_s
            while time.monotonic() < end and not self.app.stopping:
                time.sleep(0.05)
        if self.app.stopping:
            self._drop()
            return
        try:
            answer = route(body)
        except (KeyError, TypeError, ValueError) as exc:
            self._send(400, {"error": {"message": f"bad request: {exc}"}})
            return
        self._send(200, answer, partial=fault == "partial")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m curate.generate.server", description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--faults", default="")
    ap.add_argument("--slow-s", type=float, default=2.0)
    ap.add_argument("--reasoning", action="store_true")
    args = ap.parse_args(argv)
    server = Server(args.model, args.port, args.faults, args.reasoning, args.slow_s)
    print(f"serving {args.model} on {server.url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
