"""Domain errors raised by the helpers and translated to HTTP in ``main``."""


class ServiceError(Exception):
    """Base class for errors the API reports to the client."""


class NotFoundError(ServiceError):
    """A referenced row does not exist."""


class ConflictError(ServiceError):
    """The request clashes with the current state of the data."""
