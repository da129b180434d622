class NotFoundError(Exception):
    """Maps to 404."""


class ConflictError(Exception):
    """Maps to 409."""
