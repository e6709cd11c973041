"""Teachers side by side: the `teachers` named query (sql/queries/teachers.sql) plus what it costs.

    distillery sql RUN -q teachers
    distillery report RUN --prices prices.yaml

A prices file names each teacher's price in dollars per million input and output tokens:

```yaml
deepseek-r1: {input: 0.55, output: 2.19}
qwq-32b: {input: 0.15, output: 0.60}
```
The cost of a teacher's samples of the compared problems is input words × input price + output
words × output price, per million: words and punctuation marks stand in for tokens (the query's
tokenizer-free measure, the same for every teacher; a subword tokenizer counts more, so read it as
a lower bound and compare teachers with it, not invoices). A teacher the file does not name has no
cost, and the report says which.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from curate.errors import BadInput


def load_prices(path: Path | str) -> dict[str, dict[str, float]]:
    """{teacher: {"input": $/M, "output": $/M}} from a small YAML file; bad input is one line."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise BadInput(f"--prices {path}: no such file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise BadInput(f"--prices {path}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not data:
        raise BadInput(f"--prices {path}: expected a mapping teacher: {{input: $/M tokens, output: $/M tokens}}")
    prices = {}
    for teacher, price in data.items():
        if not isinstance(price, dict) or set(price) != {"input", "output"}:
            raise BadInput(f"--prices {path}: teacher {teacher}: expected {{input: …, output: …}}, got {price!r}")
        for side, value in price.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise BadInput(f"--prices {path}: teacher {teacher}: {side} price {value!r} is not a number ≥ 0")
        prices[str(teacher)] = {"input": float(price["input"]), "output": float(price["output"])}
    return prices


def with_costs(table: pa.Table, prices: dict[str, dict[str, float]]) -> tuple[pa.Table, list[str]]:
    """The teachers table plus cost_usd (null where a teacher has no price); and the unpriced teachers."""
    rows = table.to_pylist()
    unpriced = []
    for row in rows:
        price = prices.get(row["teacher"])
        if price is None:
            unpriced.append(row["teacher"])
            row["cost_usd"] = None
        else:
            row["cost_usd"] = round((row["input_words"] * price["input"] + row["output_words"] * price["output"]) / 1e6, 4)
    schema = table.schema.append(pa.field("cost_usd", pa.float64()))
    return pa.Table.from_pylist(rows, schema=schema), unpriced
