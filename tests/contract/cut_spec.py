#!/usr/bin/env python3
"""Cuts the Files and Batches part out of an OpenAI OpenAPI spec, for the contract test.

Keeps the paths the client calls and every component they reference (transitively),
plus the top-level fields Prism needs (openapi, info, servers, security and its schemes,
the tags in use). Nothing kept is changed. Standard library only:

    python3 tests/contract/cut_spec.py SOURCE_SPEC.json > tests/contract/openapi.batch-files.json
"""
import json
import sys

PATHS = [
    "/files",
    "/files/{file_id}",
    "/files/{file_id}/content",
    "/batches",
    "/batches/{batch_id}",
    "/batches/{batch_id}/cancel",
]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def references(node):
    """Every `$ref` string anywhere in `node`."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def component(spec, ref):
    """(section, name) of a local `#/components/<section>/<name>` reference."""
    prefix = "#/components/"
    if not ref.startswith(prefix):
        sys.exit(f"cut_spec.py: only local component references are supported, got {ref!r}")
    section, _, name = ref[len(prefix):].partition("/")
    if name not in spec.get("components", {}).get(section, {}):
        sys.exit(f"cut_spec.py: {ref!r} points to nothing in the source spec")
    return section, name


def cut(spec):
    missing = [path for path in PATHS if path not in spec["paths"]]
    if missing:
        sys.exit(f"cut_spec.py: the source spec lacks {missing}")
    paths = {path: spec["paths"][path] for path in PATHS}

    # Components reached from the paths, transitively.
    kept = set()
    pending = [component(spec, ref) for ref in references(paths)]
    while pending:
        key = pending.pop()
        if key in kept:
            continue
        kept.add(key)
        section, name = key
        pending.extend(component(spec, ref) for ref in references(spec["components"][section][name]))

    # Security schemes are named, not referenced.
    requirements = list(spec.get("security", []))
    tags = set()
    for item in paths.values():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                requirements.extend(operation.get("security", []))
                tags.update(operation.get("tags", []))
    for requirement in requirements:
        for scheme in requirement:
            kept.add(("securitySchemes", scheme))

    components = {}
    for section, entries in spec["components"].items():
        chosen = {name: value for name, value in entries.items() if (section, name) in kept}
        if chosen:
            components[section] = chosen

    out = {}
    for field in ("openapi", "info", "servers", "security"):
        if field in spec:
            out[field] = spec[field]
    used_tags = [tag for tag in spec.get("tags", []) if tag.get("name") in tags]
    if used_tags:
        out["tags"] = used_tags
    out["paths"] = paths
    out["components"] = components
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: cut_spec.py SOURCE_SPEC.json > tests/contract/openapi.batch-files.json")
    with open(sys.argv[1], encoding="utf-8") as source:
        spec = json.load(source)
    json.dump(cut(spec), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
