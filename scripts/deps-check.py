#!/usr/bin/env python3
"""Dependency policy, offline, from `cargo metadata` (what is built for this host only):

  1. every crate's license expression allows use under Apache-2.0: at least one OR-branch whose
     AND-parts are all on the allowlist below;
  2. no heavy crate is built in two semver-incompatible versions (two copies cost compile time on
     2 cores and can split types at runtime).

Prints one line per finding and exits 1 when there is any. Usage: scripts/deps-check.py
"""

from __future__ import annotations

import collections
import json
import re
import subprocess
import sys

# Permissive licenses, plus MPL-2.0 (file-level copyleft: using an unmodified crate is fine).
ALLOWED = {
    "MIT", "MIT-0", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "BSD-2-Clause", "BSD-3-Clause", "ISC",
    "Zlib", "Unicode-3.0", "Unicode-DFS-2016", "Unlicense", "BSL-1.0", "CC0-1.0", "CDLA-Permissive-2.0", "0BSD",
    "MPL-2.0",
}

# Crates large enough that a second major version is a real cost. `syn` is left out on purpose: the
# ecosystem is half-way from syn 2 to syn 3 (rmcp's and clap's derives use 3, serde's 2), and only a
# later release of those can make it one.
HEAVY = {
    "tokio", "hyper", "hyper-util", "http", "h2", "axum", "axum-core", "tower", "tower-http", "sqlx",
    "sqlx-core", "reqwest", "rustls", "rustls-webpki", "ring", "serde", "serde_json", "rmcp", "schemars",
    "prometheus-client", "chrono", "regex", "regex-automata", "jsonschema", "openidconnect", "aws-lc-rs",
}


def allowed(expr: str) -> bool:
    """Whether an SPDX expression (also the legacy `A/B` form) permits use under the allowlist:
    OR needs one side allowed, AND both."""
    tokens = re.findall(r"\(|\)|[^\s()]+", expr.replace("/", " OR "))
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def atom() -> bool:
        if peek() == "(":
            take()
            v = disjunction()
            if peek() == ")":
                take()
            return v
        ident = take()
        if peek() == "WITH":
            take()
            ident = f"{ident} WITH {take()}"
        return ident in ALLOWED

    def conjunction() -> bool:
        v = atom()
        while peek() == "AND":
            take()
            v = atom() and v
        return v

    def disjunction() -> bool:
        v = conjunction()
        while peek() == "OR":
            take()
            v = conjunction() or v
        return v

    try:
        return disjunction() and pos == len(tokens)
    except IndexError:
        return False


def major(version: str) -> str:
    parts = version.split(".")
    return parts[0] if parts[0] != "0" else f"0.{parts[1]}"


def main() -> int:
    host = re.search(r"^host: (\S+)$", subprocess.run(["rustc", "-vV"], capture_output=True, text=True,
                                                      check=True).stdout, re.M).group(1)
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked", "--offline",
                          "--filter-platform", host], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"FAIL cargo metadata: {out.stderr.strip()[-500:]}")
        return 1
    meta = json.loads(out.stdout)
    built = {n["id"] for n in meta["resolve"]["nodes"]}
    problems: list[str] = []
    versions: dict[str, set[str]] = collections.defaultdict(set)
    count = 0
    for p in meta["packages"]:
        if p["id"] not in built:
            continue
        count += 1
        versions[p["name"]].add(major(p["version"]))
        lic = p.get("license")
        if not lic:
            problems.append(f"license: {p['name']} {p['version']} declares no SPDX license")
        elif not allowed(lic):
            problems.append(f"license: {p['name']} {p['version']} is `{lic}`, not on the allowlist")
    for name in sorted(HEAVY):
        if len(versions.get(name, ())) > 1:
            problems.append(f"duplicate: {name} is built in versions {sorted(versions[name])}")
    for line in problems:
        print(line)
    print(f"deps-check: {count} crates, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
