"""What the store refuses, each with a message a person can act on.

:class:`StoreUnavailable` means the database cannot be reached or written (exit 1 in the CLI, fail
closed in the gateway); every other :class:`StoreError` is a request that makes no sense for the data
as it is (exit 2).
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class: the request does not fit the stored data."""


class StoreUnavailable(StoreError):
    """The database cannot be opened, read or written."""


class UnknownUser(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no user named {name!r} (see: dockgate users ls)")
        self.name = name


class UserExists(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"user {name!r} already exists")
        self.name = name


class UnknownToken(StoreError):
    def __init__(self, token_id: str) -> None:
        super().__init__(f"no token with id {token_id!r} (see: dockgate tokens ls)")
        self.token_id = token_id


class UnknownGrant(StoreError):
    """Revoking a grant the user does not hold."""


class LastAdmin(StoreError):
    """Removing or disabling the only enabled admin would lock everyone out."""

    def __init__(self, name: str, action: str) -> None:
        super().__init__(f"cannot {action} {name!r}: it is the only enabled admin; "
                         "add another with: dockgate users add NAME --admin")
        self.name = name
