"""Database engine, session factory and declarative base."""
