"""The Hugging Face hub, when it may be out of reach: find out at once instead of after a minute of
retries, and keep its retry warnings off the user's terminal.

`go_offline_if_unreachable()` runs before `datasets`/`huggingface_hub` are imported: when the hub's
host does not answer within a few seconds (no network, a sandbox), it sets HF_HUB_OFFLINE and
HF_DATASETS_OFFLINE, so a dataset already in the local cache still loads and one that is not fails
with one line. `quiet()` lowers the libraries' loggers to errors for the length of a load.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from urllib.parse import urlparse

OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")


def reachable(timeout: float = 3.0) -> bool:
    """Whether the hub's host accepts a TCP connection (true, untested, behind a proxy)."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def go_offline_if_unreachable() -> bool:
    """Set the offline variables when the hub cannot be reached; True when offline (now or already)."""
    if any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on") for v in OFFLINE_VARS):
        return True
    if reachable():
        return False
    for var in OFFLINE_VARS:
        os.environ[var] = "1"
    return True


@contextlib.contextmanager
def quiet():
    names = ("huggingface_hub", "datasets", "fsspec", "urllib3", "filelock")
    saved = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for n, level in saved.items():
            logging.getLogger(n).setLevel(level)
