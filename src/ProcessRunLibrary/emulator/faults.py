"""Fault rules: which requests get a bad answer, a delay, or a dropped connection.

Pure Python; the server (app.py) asks :meth:`FaultSet.pick` once per API request and
applies what the returned rule says.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from .common import ConfigError, is_number

FAULT_STATUSES = (429, 500, 502, 503, 504)
RULE_KEYS = frozenset(
    {
        "method",
        "path",
        "status",
        "retry_after",
        "latency",
        "hang",
        "drop",
        "lost_answer",
        "rate",
        "nth",
        "times",
        "seed",
    }
)


@dataclass
class FaultRule:
    id: str
    method: str | None
    path: str | None
    status: int | None
    retry_after: float | None
    latency: float
    hang: bool
    drop: bool
    lost_answer: bool
    rate: float | None
    nth: frozenset[int] | None
    times: int | None
    seed: Any
    rng: random.Random
    matched: int = 0
    applied: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or re.search(self.path, path) is not None

    def fires(self) -> bool:
        """Called once per matching request, after `matched` was counted."""
        # Draw on every matching request, so the draws depend only on the request sequence.
        draw = self.rng.random() if self.rate is not None else 0.0
        if self.times is not None and self.applied >= self.times:
            return False
        if self.nth is not None and self.matched not in self.nth:
            return False
        return self.rate is None or draw < self.rate

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "retry_after": self.retry_after,
            "latency": self.latency,
            "hang": self.hang,
            "drop": self.drop,
            "lost_answer": self.lost_answer,
            "rate": self.rate,
            "nth": None if self.nth is None else sorted(self.nth),
            "times": self.times,
            "seed": self.seed,
            "matched": self.matched,
            "applied": self.applied,
        }


def parse_rule(data: Any, rule_id: str, default_seed: Any) -> FaultRule:
    """Validate a rule as posted to /_emulator/faults."""
    if not isinstance(data, dict):
        raise ConfigError("A fault rule must be a JSON object.")
    unknown = sorted(set(data) - RULE_KEYS)
    if unknown:
        raise ConfigError(f"Unknown fault rule field(s): {', '.join(unknown)}.")
    method = data.get("method")
    if method is not None and (not isinstance(method, str) or not method):
        raise ConfigError("'method' must be an HTTP method such as GET or POST.")
    path = data.get("path")
    if path is not None:
        if not isinstance(path, str):
            raise ConfigError("'path' must be a regular expression string.")
        try:
            re.compile(path)
        except re.error as err:
            raise ConfigError(f"'path' is not a valid regular expression: {err}.") from None
    status = data.get("status")
    if status is not None and status not in FAULT_STATUSES:
        raise ConfigError(f"'status' must be one of {', '.join(map(str, FAULT_STATUSES))}.")
    retry_after = _number(data, "retry_after", minimum=0.0)
    if retry_after is not None and status is None:
        raise ConfigError("'retry_after' needs a 'status'.")
    latency = _number(data, "latency", minimum=0.0) or 0.0
    hang, drop, lost = (_flag(data, key) for key in ("hang", "drop", "lost_answer"))
    if status is not None and drop:
        raise ConfigError("'status' and 'drop' exclude each other.")
    if hang and (status is not None or drop or lost):
        raise ConfigError("'hang' excludes 'status', 'drop' and 'lost_answer'.")
    if lost and status is None and not drop:
        status = 502
    if not (status is not None or drop or hang or latency):
        raise ConfigError("A fault rule needs one of 'status', 'latency', 'hang' or 'drop'.")
    rate = _number(data, "rate", minimum=0.0)
    if rate is not None and rate > 1:
        raise ConfigError("'rate' must be a number from 0 to 1.")
    nth = data.get("nth")
    if nth is not None:
        if isinstance(nth, int) and not isinstance(nth, bool):
            nth = [nth]
        if not isinstance(nth, list) or not all(_positive_int(n) for n in nth) or not nth:
            raise ConfigError("'nth' must be a list of request numbers (1 is the first).")
        nth = frozenset(nth)
    times = data.get("times")
    if times is not None and not _positive_int(times):
        raise ConfigError("'times' must be a positive integer.")
    seed = data.get("seed", default_seed)
    if seed is not None and not isinstance(seed, int | str):
        raise ConfigError("'seed' must be an integer or a string.")
    rng = random.Random(f"{seed}:{rule_id}" if "seed" not in data else seed)
    return FaultRule(
        id=rule_id,
        method=method.upper() if method else None,
        path=path,
        status=status,
        retry_after=retry_after,
        latency=latency,
        hang=hang,
        drop=drop,
        lost_answer=lost,
        rate=rate,
        nth=nth,
        times=times,
        seed=data.get("seed"),
        rng=rng,
    )


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _number(data: dict[str, Any], key: str, minimum: float) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if not is_number(value) or value < minimum:
        raise ConfigError(f"'{key}' must be a number >= {minimum:g}.")
    return float(value)


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"'{key}' must be true or false.")
    return value


class FaultSet:
    """The active rules, tried in the order they were added; the first that fires wins."""

    def __init__(self, seed: Any = None) -> None:
        # Without --seed the draws are still reproducible within one emulator process
        # only if a rule has its own seed; otherwise they come from fresh entropy.
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self.rules: list[FaultRule] = []
        self._counter = 0

    def add(self, data: Any) -> FaultRule:
        rule = parse_rule(data, f"f{self._counter + 1}", self.seed)
        self._counter += 1
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> int:
        count = len(self.rules)
        self.rules = []
        return count

    def pick(self, method: str, path: str) -> FaultRule | None:
        """Count the request against every rule it matches; return the first that fires."""
        chosen = None
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            rule.matched += 1
            if rule.fires() and chosen is None:
                chosen = rule
        if chosen is not None:
            chosen.applied += 1
        return chosen
