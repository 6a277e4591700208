"""The REST API (FastAPI): auth, roles, row-level scopes, and the JSON routes under /api/v1.

``create_app(workspace_root)`` in :mod:`luopan.api.app`; dependencies and the scoped data
primitives in :mod:`luopan.api.deps`; users and tokens in :mod:`luopan.api.users`.
"""
