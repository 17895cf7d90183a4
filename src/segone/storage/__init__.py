"""Infrastructure of the operational store: engine, session scope, base model, migrations."""

from segone.storage.base import Base
from segone.storage.engine import create_engine_for, session_scope

__all__ = ["Base", "create_engine_for", "session_scope"]
