"""The one place that knows SQL: the server, the pool, migrations and the queries the packages share."""
from db.database import Database, connect_database

__all__ = ["Database", "connect_database"]
