"""What the console needs alike on every node, kept in the store: the secret that signs session
cookies (created once, by whichever node starts first, sealed by the parameter key every node
shares), the first console password (given to the administrator in that same transaction), and
the import of an earlier version's per-node files (``console-secret``, ``console-users.json``):
their secret and password hashes move into the store unchanged, so sessions survive the upgrade.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection

from openassist.errors import InvalidParameter
from openassist.server.service.context import ServiceContext
from openassist.server.service.identities import check_user_name, new_user
from openassist.server.service.secret_box import SecretBox
from openassist.server.store import identities, server_secrets

SESSION_SECRET = "console-session"  # noqa: S105 (the secret's name, not a secret)


class Imported(StrEnum):
    """What became of one user of ``console-users.json``."""

    GIVEN = "given its console password"  # a RAM user of that name had none
    CREATED = "created as a RAM user with no policy"  # as it was: it could sign in, not act
    KEPT = "kept the store's console password"  # the store's user had one already
    REFUSED = "not imported: not a valid RAM user name"


@dataclass(frozen=True)
class SessionSecret:
    secret: bytes
    created: bool  # this start created it (from the file it was handed, or new)
    gave_first_password: bool  # this start gave the administrator the first console password


def valid_user_name(name: str) -> bool:
    try:
        check_user_name(name)
    except InvalidParameter:
        return False
    return True


class ConsoleSecrets:
    def __init__(self, context: ServiceContext, box: SecretBox) -> None:
        self._ctx = context
        self._box = box

    async def session_secret(
        self, imported: bytes | None = None, first_password: tuple[str, str] | None = None
    ) -> SessionSecret:
        """The shared session secret. When the store has none yet, this node creates it: from
        ``imported`` (an earlier version's file) or new random bytes, and then gives
        ``first_password`` (admin name, password hash) to that user if it has no password."""
        candidate = imported or secrets.token_bytes(32)
        sealed = self._box.seal(SESSION_SECRET, base64.b64encode(candidate).decode())
        now = self._ctx.clock.now_ms()

        def create(conn: Connection) -> tuple[str, bool]:
            kept = server_secrets.create_once(conn, SESSION_SECRET, sealed, now)
            if kept != sealed or first_password is None:
                return kept, False
            name, stored = first_password
            user = identities.get_user(conn, name)
            if user is None or user.password_hash:
                return kept, False
            identities.update_user(conn, user.id, password_hash=stored, updated_at=now)
            return kept, True

        kept, gave = await self._ctx.db.write(create)
        secret = base64.b64decode(self._box.open(SESSION_SECRET, kept))
        return SessionSecret(secret, kept == sealed, gave)

    async def import_users(self, users: dict[str, str]) -> dict[str, Imported]:
        """Move the users of an earlier version's ``console-users.json`` (name -> scrypt hash)
        into the store, once; the hash is kept as it is, so their sessions go on."""
        now = self._ctx.clock.now_ms()

        def move(conn: Connection) -> dict[str, Imported]:
            done: dict[str, Imported] = {}
            for name, stored in sorted(users.items()):
                if not valid_user_name(name):
                    done[name] = Imported.REFUSED
                    continue
                user = identities.get_user(conn, name)
                if user is None:
                    identities.insert_user(conn, new_user(name, now, stored))
                    done[name] = Imported.CREATED
                elif user.password_hash:
                    done[name] = Imported.KEPT
                else:
                    identities.update_user(conn, user.id, password_hash=stored, updated_at=now)
                    done[name] = Imported.GIVEN
            return done

        return await self._ctx.db.write(move)
