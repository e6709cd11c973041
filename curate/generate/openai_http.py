"""The OpenAI-compatible back-end: vLLM's or SGLang's server, DeepSeek's API, any `/v1` endpoint.

Requests go through one `httpx.AsyncClient` per run (connections kept alive and reused; https
checked against the system's trust store; proxy settings from the environment are not used): at
most `concurrency` requests in flight, each under a per-request timeout (httpx's connect, read and
write timeouts, and a wall-clock bound on the whole request); 429, 5xx, timeouts and dropped or
half-sent answers are retried with exponential backoff and full jitter (a `Retry-After` header is
honoured); other 4xx answers fail at once. The API key comes from $OPENAI_API_KEY (or
$DISTILLERY_API_KEY).

Without budget forcing a sample is one `/v1/chat/completions` call (the server applies the chat
template; `reasoning_content` is kept when the server returns the reasoning apart). With forcing,
the prompt is rendered here with the model's tokenizer (`--tokenizer`, default `--model`) and
continued through `/v1/completions`, a phase at a time (`forcing.run_steps`).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import ssl
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

import httpx

from curate.errors import BadInput
from curate.generate.backend import Backend, Completion, Job, OnDone, SamplingParams
from curate.generate.forcing import StepIn, StepOut, run_steps

DEFAULT_URL = "http://127.0.0.1:8000/v1"
MAX_DELAY = 30.0


class Fatal(Exception):
    """A request that will not succeed: retry budget spent, or a 4xx answer."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _describe(exc: BaseException) -> str:
    """One line for a failed attempt (timeouts, refused or dropped connections, anything else)."""
    if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError)):
        return "request timed out"
    seen, cause = set(), exc
    while cause is not None and id(cause) not in seen:      # httpx wraps the socket's error
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return f"connection dropped ({first})" if first else "connection dropped"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


# ---------------------------------------------------------------------------------- the back-end

class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, model: str, base_url: str | None = None, concurrency: int = 64, retries: int = 8,
                 timeout: float = 600.0, backoff: float = 0.5, tokenizer: str | None = None, stats=None):
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_URL).rstrip("/")
        if urlsplit(self.base_url).scheme not in ("http", "https") or not urlsplit(self.base_url).hostname:
            raise BadInput(f"--base-url {self.base_url}: expected http(s)://HOST[:PORT]/v1")
        self.concurrency = max(1, concurrency)
        self.retries = max(0, retries)
        self.timeout = timeout
        self.backoff = backoff
        self.tokenizer_name = tokenizer
        self.stats = stats
        key = os.environ.get("OPENAI_API_KEY") or os.environ.get("DISTILLERY_API_KEY")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._tok = None
        self._closing = False
        self._client: httpx.AsyncClient | None = None

    # --------------------------------------------------------------------------------- requests

    async def request(self, endpoint: str, body: dict) -> dict:
        url = f"{self.base_url}/{endpoint}"
        for attempt in range(self.retries + 1):
            try:
                try:
                    resp = await asyncio.wait_for(self._client.post(url, json=body), self.timeout)
                    resp.raise_for_status()
                except httpx.HTTPStatusError as exc:
                    status = exc.response.status_code
                    if status == 429 or status >= 500:
                        after = exc.response.headers.get("retry-after")
                        seconds = float(after) if after and after.replace(".", "").isdigit() else None
                        raise _Retryable(f"HTTP {status}", seconds) from None
                    raise Fatal(f"{url}: HTTP {status}: {_message(exc.response.content)}") from None
                except (httpx.TransportError, httpx.DecodingError, asyncio.TimeoutError) as exc:
                    raise _Retryable(_describe(exc)) from exc
                try:
                    return json.loads(resp.content)
                except ValueError as exc:
                    raise _Retryable("answer is not JSON") from exc
            except _Retryable as exc:
                if self.stats is not None:
                    self.stats.errors += 1          # failed attempts, retried or not
                if attempt == self.retries:
                    raise Fatal(f"{url}: {exc} (gave up after {self.retries} retries)") from None
                if self.stats is not None:
                    self.stats.retries += 1
                delay = random.uniform(0, min(MAX_DELAY, self.backoff * 2 ** attempt))   # full jitter
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, MAX_DELAY))
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _sampling(self, params: SamplingParams, seed: int) -> dict:
        return {"model": self.model, "temperature": params.temperature, "top_p": params.top_p, "seed": seed, "n": 1}

    async def chat(self, job: Job, params: SamplingParams) -> Completion:
        msgs = list(job.messages)
        if params.system is not None and not any(m["role"] == "system" for m in msgs):
            msgs.insert(0, {"role": "system", "content": params.system})
        body = {**self._sampling(params, job.seed), "messages": msgs, "max_tokens": params.max_tokens}
        if params.logprobs:
            body.update(logprobs=True, top_logprobs=params.logprobs, return_tokens_as_token_ids=True)
        data = await self.request("chat/completions", body)
        try:
            ch = data["choices"][0]
            msg = ch["message"]
            content = msg.get("content") or ""
            reasoning = msg["reasoning_content"] if "reasoning_content" in msg else msg.get("reasoning")
            usage = data.get("usage") or {}
        except (KeyError, IndexError, TypeError) as exc:
            raise Fatal(f"{self.base_url}/chat/completions: unexpected answer ({type(exc).__name__}: {exc})") from None
        comp = Completion(content, "length" if ch.get("finish_reason") == "length" else "stop",
                          prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0), reasoning=reasoning)
        if params.logprobs:
            comp.topk_ids, comp.topk_logprobs = _topk(ch.get("logprobs"), self.base_url)
        return comp

    async def complete(self, r: StepIn, params: SamplingParams) -> StepOut:
        body = {**self._sampling(params, r.seed), "prompt": r.prompt, "max_tokens": r.budget}
        if r.stop:
            body["stop"] = [r.stop]
        if "<|" in params.forcing.delims.open + params.forcing.delims.close:
            body["skip_special_tokens"] = False     # vLLM: keep s1's <|im_start|>think in the text
        data = await self.request("completions", body)
        try:
            ch = data["choices"][0]
            text = ch.get("text") or ""
            usage = data.get("usage") or {}
        except (KeyError, IndexError, TypeError) as exc:
            raise Fatal(f"{self.base_url}/completions: unexpected answer ({type(exc).__name__}: {exc})") from None
        tokens = int(usage.get("completion_tokens") or 0)
        if ch.get("finish_reason") == "length":
            return StepOut(text, tokens, "length")
        # vLLM says which stop ended it (stop_reason: the string, a token id, or null for EOS);
        # a server that does not say is taken to have stopped at the string we asked for.
        if r.stop and ("stop_reason" not in ch or ch["stop_reason"] == r.stop):
            return StepOut(text.split(r.stop, 1)[0], tokens, "stop")
        return StepOut(text, tokens, "eos")

    # -------------------------------------------------------------------------------------- run

    def run(self, jobs: list[Job], params: SamplingParams, on_done: OnDone) -> None:
        if params.forcing.active and self._tok is None:
            from curate.generate.hf import load_tokenizer

            self._tok = load_tokenizer(self.tokenizer_name or self.model)
        try:
            asyncio.run(self._run(jobs, params, on_done))
        except Fatal as exc:
            raise BadInput(str(exc)) from None

    async def _run(self, jobs: list[Job], params: SamplingParams, on_done: OnDone) -> None:
        async with httpx.AsyncClient(
                headers={"Accept": "application/json", **self.headers}, timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=self.concurrency),
                verify=ssl.create_default_context(), trust_env=False) as client:
            self._client = client
            await self._gather(jobs, params, on_done)

    async def _gather(self, jobs: list[Job], params: SamplingParams, on_done: OnDone) -> None:
        sem = asyncio.Semaphore(self.concurrency)      # the limit on requests in flight
        self._closing = False
        loop = asyncio.get_running_loop()
        pool = ThreadPoolExecutor(max_workers=self.concurrency) if params.forcing.active else None

        async def one(job: Job) -> tuple[Job, Completion]:
            async with sem:
                if pool is None:
                    return job, await self.chat(job, params)
                return job, await loop.run_in_executor(pool, self._forced, job, params, loop)

        tasks = [asyncio.ensure_future(one(j)) for j in jobs]
        try:
            for fut in asyncio.as_completed(tasks):
                job, comp = await fut
                on_done(job, comp)
        finally:
            self._closing = True
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    def _forced(self, job: Job, params: SamplingParams, loop) -> Completion:
        from curate.generate.hf import render

        prompt = render(self._tok, job.messages, params.system)

        def step(reqs: list[StepIn]) -> list[StepOut]:
            futs = [asyncio.run_coroutine_threadsafe(self.complete(r, params), loop) for r in reqs]
            out = []
            for f in futs:
                while True:
                    try:
                        out.append(f.result(timeout=0.5))
                        break
                    except FutureTimeout:
                        if self._closing:
                            f.cancel()
                            raise Fatal("cancelled") from None
            return out

        count = len(self._tok(prompt, add_special_tokens=False)["input_ids"])
        return run_steps(step, [prompt], [job.seed], params.max_tokens, params.forcing, [count])[0]


def _message(payload: bytes) -> str:
    try:
        data = json.loads(payload)
        err = data.get("error", data) if isinstance(data, dict) else data
        msg = err.get("message", err) if isinstance(err, dict) else err
        return " ".join(str(msg).split())[:300]
    except ValueError:
        return " ".join(payload.decode("utf-8", "replace").split())[:300]


def _topk(logprobs: dict | None, where: str) -> tuple[list, list]:
    """(ids, logprobs) per token from a chat answer's `logprobs.content`; ids need the vLLM
    extension `return_tokens_as_token_ids` (tokens as `token_id:123`)."""
    ids, lps = [], []
    for tok in (logprobs or {}).get("content") or []:
        row_ids, row_lp = [], []
        for alt in tok.get("top_logprobs") or []:
            t = str(alt.get("token", ""))
            if not t.startswith("token_id:"):
                raise Fatal(f"{where}: the server returns top-k tokens as text, not ids "
                            "(needs vLLM's return_tokens_as_token_ids); generate without --logprobs and run "
                            "`distillery score` on the traces")
            row_ids.append(int(t.split(":", 1)[1]))
            row_lp.append(float(alt["logprob"]))
        ids.append(row_ids)
        lps.append(row_lp)
    return ids, lps
