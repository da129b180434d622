"""Repositories: data access bound to one request Session."""
