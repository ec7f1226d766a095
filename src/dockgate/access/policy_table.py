"""Which policy settings apply to a request: ``[[policy]]`` entries chosen by role and host.

```toml
[[policy]]                 # every non-admin, every host: the defaults deny all host access
[[policy]]
role = "operator"
host = "staging"
allow_bind_mounts = ["/srv/data"]
```

The most specific entry wins (role and host, then host, then role, then neither); its settings
replace the defaults as a whole, so what an entry allows can be read from the entry alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ConfigDict

from dockgate.access.policy import PolicySettings


class PolicyEntry(PolicySettings):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str | None = None
    host: str | None = None


class PolicyTable:
    def __init__(self, entries: Sequence[PolicyEntry] = ()) -> None:
        self._by_key: dict[tuple[str | None, str | None], PolicySettings] = {}
        for entry in entries:
            key = (entry.role, entry.host)
            if key in self._by_key:
                raise ValueError(f"policy: two entries for role={entry.role!r} host={entry.host!r}")
            self._by_key[key] = PolicySettings(**entry.model_dump(exclude={"role", "host"}))
        self._default = PolicySettings()

    def settings(self, role: str, host: str) -> PolicySettings:
        for key in ((role, host), (None, host), (role, None), (None, None)):
            if key in self._by_key:
                return self._by_key[key]
        return self._default
