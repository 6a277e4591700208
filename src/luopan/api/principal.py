"""Who is asking: the user behind a request, with role, scopes and language."""

from __future__ import annotations

from dataclasses import dataclass

from luopan.api.users import PERMISSIONS

__all__ = ["Principal"]


@dataclass(frozen=True)
class Principal:
    """An authenticated user as the API sees them.

    ``stores``/``regions``/``categories`` are the row-level scope (None = no limit).
    Permissions by role: admin (read, export, act, admin), analyst (read, export, act),
    viewer (read).
    """

    username: str
    role: str  # "admin" | "analyst" | "viewer"
    stores: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    lang: str = "zh"

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    @property
    def scoped(self) -> bool:
        return any(s is not None for s in (self.stores, self.regions, self.categories))
