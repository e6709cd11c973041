"""Where the datasets the ingest presets read come from, and under which licence, for dataset cards.

`lookup(source)` matches a trace's `source` value (ingest sets it from the file or hub name, synth
writes `synth/<family>`) against the known datasets. A licence this table does not know is None,
and the card says to check the source's own card rather than guess one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    dataset: str           # where it is published
    preset: str | None     # the ingest preset that reads it (None: not ingested)
    licence: str | None    # SPDX id as the dataset's card states it; None: not recorded here
    pattern: str           # matched case-insensitively against the source column


ORIGINS = (
    Origin("simplescaling/s1K-1.1", "s1k", "MIT", r"s1k[-_.]?1\.1"),
    Origin("simplescaling/s1K", "s1k", "MIT", r"s1k"),
    Origin("open-thoughts/OpenThoughts-114k", "openthoughts", "Apache-2.0", r"openthoughts"),
    Origin("bespokelabs/Bespoke-Stratos-17k", "openthoughts", "Apache-2.0", r"bespoke[-_]?stratos"),
    Origin("open-r1/OpenR1-Math-220k", "openr1-math", "Apache-2.0", r"openr1[-_]?math"),
    Origin("GAIR/LIMO", "limo", None, r"limo"),
    Origin("distillery synth (generated, embedded corpus)", None, "Apache-2.0", r"^synth(/|$)|^procedural(/|$)"),
)


def lookup(source: str | None) -> Origin | None:
    if not source:
        return None
    for origin in ORIGINS:
        if re.search(origin.pattern, source, flags=re.IGNORECASE):
            return origin
    return None
