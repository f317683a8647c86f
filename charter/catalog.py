"""The product catalog, read from configuration (catalog.yaml or CHARTER_CATALOG)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Product:
    key: str
    name: str
    description: str
    plans_required: tuple[str, ...]
    supports_trial: bool
    demo_url: str | None = None

    def to_wire(self) -> dict:
        out = {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "plans_required": list(self.plans_required),
            "supports_trial": self.supports_trial,
        }
        if self.demo_url:
            out["demo_url"] = self.demo_url
        return out


class Catalog:
    def __init__(self, products: list[Product]):
        self.products = products
        self._by_key = {p.key: p for p in products}

    def get(self, key: str) -> Product | None:
        return self._by_key.get(key)

    @classmethod
    def load(cls, path: Path) -> "Catalog":
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or []
        products = [
            Product(
                key=str(item["key"]),
                name=str(item["name"]),
                description=str(item.get("description", "")),
                plans_required=tuple(item.get("plans_required") or ()),
                supports_trial=bool(item.get("supports_trial", False)),
                demo_url=item.get("demo_url"),
            )
            for item in raw
        ]
        return cls(products)
