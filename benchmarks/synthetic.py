"""A seeded generator of large valid rulesets and assessments for the benchmarks.

Deterministic (``random.Random(seed)``), so a benchmark run is reproducible; the shapes mirror
real rulesets: numeric, boolean and enum inputs, k-of-n criteria, chains of findings and negation
over findings from earlier layers.
"""

from __future__ import annotations

import random
from typing import Any

from riskrules import Ruleset, load_ruleset

__all__ = ["generate_assessments", "generate_ruleset"]


def generate_ruleset(n_rules: int = 200, seed: int = 0, n_inputs: int = 40) -> Ruleset:
    """A valid ruleset with ``n_rules`` rules over ``n_inputs`` inputs and 5 hazards."""
    rng = random.Random(seed)
    inputs: dict[str, Any] = {}
    for i in range(n_inputs):
        kind = ("integer", "number", "boolean", "enum")[i % 4]
        spec: dict[str, Any] = {"type": kind}
        if kind == "integer":
            spec.update(min=0, max=100)
        elif kind == "number":
            spec.update(min=0.0, max=1.0)
        elif kind == "enum":
            spec["values"] = ["a", "b", "c"]
        inputs[f"group{i % 5}.field{i}"] = spec
    names = list(inputs)
    hazards = {
        f"hazard{h}": {"title": f"Hazard {h}", "bands": {"low": 0, "moderate": 4, "high": 9}}
        for h in range(5)
    }
    protocols = {
        f"protocol{p}": {"title": f"Protocol {p}", "urgency": ("routine", "soon", "urgent")[p % 3]}
        for p in range(10)
    }

    def leaf() -> dict[str, Any]:
        name = rng.choice(names)
        kind = inputs[name]["type"]
        if kind == "integer":
            op = rng.choice(["gt", "gte", "lt", "lte", "eq", "between"])
            if op == "between":
                low = rng.randint(0, 80)
                return {"field": name, "between": [low, low + rng.randint(0, 20)]}
            return {"field": name, op: rng.randint(0, 100)}
        if kind == "number":
            return {"field": name, rng.choice(["gt", "lt"]): round(rng.random(), 2)}
        if kind == "boolean":
            return {"field": name, "eq": rng.random() < 0.5}
        return {"field": name, "in": rng.sample(["a", "b", "c"], 2)}

    rules: list[dict[str, Any]] = []
    findings_by_layer: list[list[str]] = [[]]
    for r in range(n_rules):
        layer = min(r * 4 // n_rules, 3)
        while len(findings_by_layer) <= layer:
            findings_by_layer.append([])
        earlier = [f for lay in findings_by_layer[:layer] for f in lay]
        parts: list[dict[str, Any]] = [leaf() for _ in range(rng.randint(1, 3))]
        if earlier and rng.random() < 0.6:
            finding = {"finding": rng.choice(earlier)}
            parts.append({"not": finding} if rng.random() < 0.2 else finding)
        if rng.random() < 0.2:
            parts.append({"at_least": {"n": 2, "of": [leaf(), leaf(), leaf()]}})
        when: dict[str, Any] = {"all": parts} if rng.random() < 0.7 else {"any": parts}
        then: dict[str, Any] = {"points": rng.randint(0, 4)}
        if rng.random() < 0.5:
            name = f"layer{layer}.finding{r}"
            then["assert"] = [name]
            findings_by_layer[layer].append(name)
        if rng.random() < 0.3:
            then["recommend"] = [f"protocol{rng.randrange(10)}"]
        rules.append(
            {
                "id": f"rule{r}",
                "hazard": f"hazard{r % 5}",
                "when": when,
                "then": then,
                "because": "Synthetic rule for benchmarking.",
                "salience": rng.choice([0, 0, 0, 1]),
            }
        )
    document = {
        "ruleset": "synthetic",
        "version": f"{n_rules}.{seed}",
        "title": "Synthetic benchmark ruleset",
        "inputs": inputs,
        "hazards": hazards,
        "protocols": protocols,
        "rules": rules,
    }
    return load_ruleset(Ruleset.model_validate(document))


def generate_assessments(
    ruleset: Ruleset, n: int, seed: int = 1, missing: float = 0.1
) -> list[dict[str, Any]]:
    """``n`` valid assessments (dotted keys) with a share ``missing`` of absent fields."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for _ in range(n):
        record: dict[str, Any] = {}
        for name, spec in ruleset.inputs.items():
            if rng.random() < missing:
                continue
            if spec.type == "integer" and spec.values is not None:
                record[name] = rng.choice(spec.values)
            elif spec.type == "integer":
                low = int(spec.min if spec.min is not None else 0)
                high = int(spec.max if spec.max is not None else low + 100)
                record[name] = rng.randint(low, high)
            elif spec.type == "number":
                low_f = float(spec.min if spec.min is not None else 0.0)
                high_f = float(spec.max if spec.max is not None else low_f + 1.0)
                record[name] = round(rng.uniform(low_f, high_f), 3)
            elif spec.type == "boolean":
                record[name] = rng.random() < 0.3
            else:
                assert spec.values is not None
                record[name] = rng.choice(spec.values)
        out.append(record)
    return out
