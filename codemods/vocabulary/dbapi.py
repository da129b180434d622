"""DB-API drivers: the calls that open one database connection (PEP 249 `connect`), which a
program that makes one at import time shares between every thread that uses it.

Absolute references as the collector resolves them (`import sqlite3; sqlite3.connect(...)` and
`from sqlite3 import connect` both give `sqlite3.connect`), each with the name a reason shows.
"""

from __future__ import annotations

CONNECTS: dict[str, str] = {
    "sqlite3.connect": "sqlite3", "sqlite3.dbapi2.connect": "sqlite3",
    "psycopg.connect": "psycopg", "psycopg.Connection.connect": "psycopg",
    "psycopg2.connect": "psycopg2",
    "pymysql.connect": "PyMySQL", "pymysql.Connect": "PyMySQL", "pymysql.connections.Connection": "PyMySQL",
    "MySQLdb.connect": "MySQLdb", "MySQLdb.Connect": "MySQLdb", "MySQLdb.Connection": "MySQLdb",
    "mysql.connector.connect": "mysql-connector", "mariadb.connect": "mariadb",
    "oracledb.connect": "oracledb", "cx_Oracle.connect": "cx_Oracle",
    "pyodbc.connect": "pyodbc", "pymssql.connect": "pymssql", "duckdb.connect": "duckdb",
}
# Drivers whose connection refuses every call from a thread other than the one that made it,
# unless the keyword given is False: (driver, keyword).
THREAD_CHECKS: dict[str, str] = {"sqlite3": "check_same_thread"}
# A connection's method that hands out a cursor on it: one more object on that one connection.
CURSOR = "cursor"
