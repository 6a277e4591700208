"""The Spark backend: one SparkSession, the DuckDB warehouse mirrored into it, Ibis on top.

DuckDB stays the warehouse of record; ``mirror_to_spark`` copies its tables through Parquet
(written by DuckDB, read by Spark) so DECIMAL(18,2), naive TIMESTAMP, BIGINT, DATE and BOOLEAN
keep their types and values, and ``ibis_spark`` runs the same Ibis expressions on Spark as
on DuckDB. Needs the ``spark`` extra (pyspark, Java 17).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from luopan.errors import OptionalDependencyError, WarehouseError
from luopan.tables import TABLES

__all__ = [
    "ibis_spark",
    "mirror_to_spark",
    "spark_session",
    "spark_to_pyarrow",
    "stop_spark_session",
]

_WHAT = "the Spark backend"
_lock = threading.Lock()
_session: Any = None
_started: tuple[str, Path | None] | None = None


def spark_session(
    master: str = "local[2]", *, warehouse_dir: Path | None = None, app_name: str = "luopan"
) -> Any:
    """The process's one SparkSession, started on first use and cached.

    Session time zone is UTC, so naive timestamps read back exactly as written; shuffles use
    4 partitions (right for a laptop, raise ``spark.sql.shuffle.partitions`` on a cluster);
    the web UI is off and logging is quiet.

    Args:
        master: ``local[2]``, ``local[*]`` or a cluster URL such as ``spark://host:7077``.
        warehouse_dir: where saved Spark tables live; a fresh temporary folder if omitted.
        app_name: the application name shown by the cluster manager.

    Raises:
        OptionalDependencyError: pyspark is not installed.
        WarehouseError: a session with another master or warehouse is already running, or
            Spark cannot start (Java missing).
    """
    global _session, _started
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise OptionalDependencyError(_WHAT, "spark") from None

    wanted = (master, None if warehouse_dir is None else Path(warehouse_dir).resolve())
    with _lock:
        if _session is not None and _session.sparkContext._jsc is not None:
            assert _started is not None
            if wanted[0] != _started[0] or (wanted[1] is not None and wanted[1] != _started[1]):
                raise WarehouseError(
                    f"a Spark session ({_started[0]}, warehouse {_started[1]}) is already "
                    f"running in this process; cannot start another ({wanted[0]}, "
                    f"warehouse {wanted[1]})",
                    fix="call stop_spark_session() first, or reuse the running session",
                )
            return _session
        directory = wanted[1] or Path(tempfile.mkdtemp(prefix="luopan-spark-")).resolve()
        builder = (
            SparkSession.builder.master(master)
            .appName(app_name)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.warehouse.dir", directory.as_uri())
            # DuckDB writes naive TIMESTAMP as isAdjustedToUTC=false: keep it TIMESTAMP_NTZ.
            .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
            .config("spark.pyspark.python", sys.executable)
            .config("spark.pyspark.driver.python", sys.executable)
        )
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # py4j/JVM start-up errors have no common class
            raise WarehouseError(
                f"Spark could not start with master {master!r}: {exc}",
                fix="install Java 17 (java -version) and check the master URL",
            ) from exc
        session.sparkContext.setLogLevel("ERROR")
        _session, _started = session, (master, directory)
        return session


def stop_spark_session() -> None:
    """Stop the cached session (if any); the next ``spark_session()`` starts a new one."""
    global _session, _started
    with _lock:
        if _session is not None:
            _session.stop()
        _session, _started = None, None


def mirror_to_spark(
    duckdb_path: Path,
    spark: Any,
    *,
    tables: list[str] | None = None,
    database: str = "luopan",
    staging_dir: Path | None = None,
) -> dict[str, int]:
    """Copy warehouse tables from a DuckDB file into Spark tables ``database.<table>``.

    Every canonical table present in the file is copied, plus the names in ``tables``. Each
    one goes DuckDB → Parquet (``COPY … TO … (FORMAT parquet)``) → ``spark.read.parquet`` →
    ``saveAsTable`` (overwrite), so column types survive: DECIMAL(18,2) stays decimal(18,2),
    a naive TIMESTAMP becomes timestamp_ntz with the same wall-clock value, BIGINT stays long.

    Args:
        duckdb_path: the warehouse file, opened read-only.
        spark: a SparkSession (see ``spark_session``).
        tables: extra table names to copy besides the canonical ones.
        database: the Spark database to write into; created if missing.
        staging_dir: where the Parquet files are written; must be readable by every Spark
            executor (a shared path on a cluster). A temporary folder if omitted.

    Returns:
        Rows per copied table, as counted in Spark after the write.

    Raises:
        WarehouseError: the file cannot be opened, a requested table does not exist, or
            Spark does not hold the same number of rows afterwards.
    """
    import duckdb

    path = Path(duckdb_path)
    if not path.is_file():
        raise WarehouseError(
            f"DuckDB warehouse {path} does not exist", fix="run the load first or fix the path"
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise WarehouseError(
            f"cannot open DuckDB warehouse {path} read-only: {exc}",
            fix="check the path; another process may hold it open for writing",
        ) from None
    staging = Path(tempfile.mkdtemp(prefix="luopan-mirror-", dir=staging_dir))
    try:
        existing = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_catalog = current_database()"
            ).fetchall()
        }
        wanted = [t for t in TABLES if t in existing]
        for name in tables or []:
            if name not in existing:
                raise WarehouseError(
                    f"table {name!r} is not in the DuckDB warehouse {path}",
                    fix=f"copy one of: {', '.join(sorted(existing)) or '(no tables yet)'}",
                )
            if name not in wanted:
                wanted.append(name)
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {_spark_ident(database)}")
        counts: dict[str, int] = {}
        for name in wanted:
            parquet = staging / f"{len(counts):04d}.parquet"
            (copied,) = con.execute(
                f"COPY {_duck_ident(name)} TO {_duck_literal(str(parquet))} (FORMAT parquet)"
            ).fetchone() or (0,)
            target = f"{_spark_ident(database)}.{_spark_ident(name)}"
            spark.read.parquet(parquet.as_uri()).write.mode("overwrite").saveAsTable(target)
            counts[name] = spark.table(target).count()
            if counts[name] != copied:
                raise WarehouseError(
                    f"Spark table {target} holds {counts[name]} rows, DuckDB {copied}",
                    fix="mirror again; if it repeats, report it with both row counts",
                )
        return counts
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)


def ibis_spark(spark: Any, *, database: str | None = None) -> Any:
    """An Ibis PySpark backend over ``spark``, so one Ibis expression runs on both engines.

    Args:
        spark: a SparkSession (see ``spark_session``).
        database: if given, make it the session's current database, so
            ``con.table("orders")`` finds the mirrored tables.

    Raises:
        OptionalDependencyError: ibis' pyspark backend is not installed.
    """
    try:
        import ibis

        backend = ibis.pyspark.connect(spark)
    except (ImportError, ModuleNotFoundError):
        raise OptionalDependencyError(_WHAT, "spark") from None
    if database is not None:
        spark.catalog.setCurrentDatabase(database)
    return backend


def spark_to_pyarrow(backend: Any, expr: Any) -> Any:
    """Run an Ibis expression on the Spark backend and return Arrow with exact values.

    Ibis' own ``to_pyarrow``/``execute`` on PySpark pass through pandas, where a BIGINT
    column holding a NULL becomes float64 and IDs above 2**53 lose digits
    (5118234567890123457 → 5118234567890123776). This collects with Spark's ``toArrow``
    and then casts to the expression's Ibis schema (Spark's ``date_trunc`` returns a
    UTC-zoned timestamp where Ibis promises a naive one).
    """
    from ibis.formats.pyarrow import PyArrowData

    table = expr.as_table()
    arrow = backend.raw_sql(backend.compile(table)).toArrow()
    return expr.__pyarrow_result__(PyArrowData.convert_table(arrow, table.schema()))


def _duck_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duck_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _spark_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
