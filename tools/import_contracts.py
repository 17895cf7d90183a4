"""segone's own import-linter contract: a package is used only through its public surface.

``lint-imports`` (run by ``make test``) loads it from ``pyproject.toml``. For every import of a module inside
one of the ``packages`` by a module outside that package, among the ``importers``:

- with ``allowed``: the imported module's own name must be one of them (``service``, ``schemas``), at any
  depth inside the package (``segone.knowledge.facts.service``);
- with ``forbidden``: the imported module's own name must not be one of them (``models``, ``repository``);
- and no name imported from it may start with an underscore (``from segone.x.service import _helper``).

A broken contract names each import with its file line, so the fix is where the message points. Packages
added to the list later are covered by construction: the rule names no module of theirs.
"""

from __future__ import annotations

import re
from typing import Any

import grimp
from importlinter import Contract, ContractCheck, fields, output

_IMPORTED_NAMES = re.compile(r"\bimport\s+\(?(.+?)\)?\s*$")


def _package_of(module: str, packages: list[str]) -> str | None:
    for package in packages:
        if module == package or module.startswith(package + "."):
            return package
    return None


def _private_names(line: str) -> list[str]:
    found = _IMPORTED_NAMES.search(line)
    if not found:
        return []
    names = [part.strip().split(" as ")[0].strip() for part in found.group(1).split(",")]
    return [name for name in names if name.startswith("_") and not name.startswith("__")]


class PublicSurfaceContract(Contract):
    type_name = "public_surface"

    packages = fields.ListField(subfield=fields.StringField())
    importers = fields.ListField(subfield=fields.StringField())
    allowed = fields.ListField(subfield=fields.StringField(), required=False)
    forbidden = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        packages: list[str] = list(self.packages)  # type: ignore[call-overload]
        importers: list[str] = list(self.importers)  # type: ignore[call-overload]
        allowed = set(self.allowed or [])  # type: ignore[arg-type]
        forbidden = set(self.forbidden or [])  # type: ignore[arg-type]
        broken: list[dict[str, Any]] = []
        for importer in sorted(graph.modules):
            if _package_of(importer, importers) is None:
                continue
            own = _package_of(importer, packages)
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                target = _package_of(imported, packages)
                if target is None or target == own or imported == target:
                    continue
                name = imported.rsplit(".", 1)[-1]
                reason = None
                if allowed and name not in allowed:
                    reason = f"only {', '.join(sorted(allowed))} of {target} may be imported"
                elif name in forbidden:
                    reason = f"the {name} of {target} belong to it alone"
                for detail in graph.get_import_details(importer=importer, imported=imported):
                    private = _private_names(detail["line_contents"])
                    why = reason or (f"private name {', '.join(private)}" if private else None)
                    if why:
                        broken.append(
                            {
                                "importer": importer,
                                "imported": imported,
                                "line": detail["line_number"],
                                "code": detail["line_contents"],
                                "why": why,
                            }
                        )
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            where = f"{item['importer']}:{item['line']}"
            output.print_error(
                f"{where} imports {item['imported']} ({item['why']}): {item['code']}", bold=False
            )
            output.new_line()
