"""The users' use cases: registration, log-in, customer profiles."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, undefer
from sqlalchemy.orm.attributes import set_committed_value

from storeapp.domain import passwords, signals
from storeapp.domain.errors import DuplicateUser, NotFound
from storeapp.domain.events import log as eventlog
from storeapp.domain.models import Customer, User
from storeapp.domain.store.database import backfill_identity_keys
from storeapp.domain.store.uow import Services
from storeapp.domain.store.validation import (
    clean_id,
    email_key,
    normalize_username,
    username_key,
    validate_registration,
)


class UserServices(Services):
    """Registration, log-in and the customers the core listener creates."""

    def register_user(self, username: str, email: str, password: str) -> User:
        """Create a user; ``user_registered`` is sent inside the transaction.

        The username is stored NFKC-normalized and the email as validated;
        neither may match another user's once compared caselessly
        (:func:`~storeapp.domain.store.validation.username_key`,
        :func:`~storeapp.domain.store.validation.email_key`): the database's
        unique keys enforce it, even for two tills registering at once.
        """
        username, email, password = validate_registration(username, email, password)
        keys = username_key(username), email_key(email)
        encoded = passwords.make_password(password)  # slow: outside the lock
        try:
            with self.units.write() as uow:
                s = uow.session
                _check_unique(s, username, email, *keys)
                user = User(
                    username=username,
                    email=email,
                    password_hash=encoded,
                    username_key=keys[0],
                    email_key=keys[1],
                )
                s.add(user)
                try:
                    uow.flush()
                except IntegrityError:  # another till registered the same name first
                    raise _Taken from None
                signals.user_registered.send_robust(User, user=user)
                eventlog.user_registered(s, user)
                uow.flush()
                if user.customer is not None:  # load it while the session is open
                    set_committed_value(user.customer, "user", user)
                uow.commit()
        except _Taken:
            with self.units.read() as s:  # which one, now that theirs is committed
                _check_unique(s, username, email, *keys)
            raise DuplicateUser(
                "That username or email is already registered.", "username"
            ) from None
        return user

    def authenticate(self, username: str, password: str) -> User | None:
        """The user with this username and password, or None (also for bad input).

        The username is matched as people read it (``ÉLODIE`` is ``élodie``);
        an exact match wins (a user migrated from before the keys, who shares
        one with an older user, still logs in). Both answers cost one
        password hash: an unknown user is checked against a dummy hash. A
        right password stored under an older hash is rehashed.
        """
        if not isinstance(username, str) or not isinstance(password, str):
            return None
        try:
            username.encode("utf-8")
            password.encode("utf-8")
        except UnicodeEncodeError:
            return None
        if "\x00" in username:  # no username holds one, and PostgreSQL refuses it
            return None
        name = normalize_username(username.strip())
        key = username_key(name)
        with self.units.read() as s:
            found = list(
                s.scalars(
                    select(User)
                    .options(undefer(User.password_hash))
                    .where(or_(User.username == name, User.username_key == key))
                )
            )
        user = next((u for u in found if u.username == name), found[0] if found else None)
        if user is None:
            # As slow as a wrong password: the answer's timing tells nothing.
            passwords.check_password(password, passwords.dummy_hash())
            return None
        if not passwords.check_password(password, user.password_hash):
            return None
        if passwords.needs_rehash(user.password_hash):
            self._rehash(user, password)
        return user

    def _rehash(self, user: User, password: str) -> None:
        """Store a hash of today's strength for ``user``, unless another
        log-in or a password change got there first."""
        old = user.password_hash
        encoded = passwords.make_password(password)
        with self.units.write() as uow:
            stored = uow.session.get(User, user.id, options=[undefer(User.password_hash)])
            if stored is None or stored.password_hash != old:
                return
            stored.password_hash = encoded
            uow.flush()
            uow.commit()
        set_committed_value(user, "password_hash", encoded)

    def identity_conflicts(self) -> list[str]:
        """Pairs of users (from a database older than the identity keys) whose
        usernames or emails are the same once compared as people read them,
        in words; empty once each pair is resolved (see
        :func:`~storeapp.domain.store.database.backfill_identity_keys`)."""
        with self.units.read() as s:
            return backfill_identity_keys(s.connection(), write=False)

    def get_customer(self, user_id: int) -> Customer:
        user_id = clean_id(user_id, "User")
        with self.units.read() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound(f"User {user_id} does not exist.")
            customer = s.scalar(
                select(Customer)
                .where(Customer.user_id == user_id)
                .options(selectinload(Customer.user))
            )
            if customer is None:
                raise NotFound(
                    f"User {user.username!r} has no customer profile "
                    "(is the core listener loaded?)."
                )
            return customer

    def list_customers(self) -> list[Customer]:
        with self.units.read() as s:
            return list(
                s.scalars(
                    select(Customer)
                    .join(Customer.user)
                    .options(selectinload(Customer.user))
                    .order_by(User.username)
                )
            )


class _Taken(Exception):
    """The database refused a user: its unique keys, under a race."""


def _check_unique(s: Session, username: str, email: str, ukey: str, ekey: str) -> None:
    taken = s.execute(
        select(User.username, User.email, User.username_key).where(
            or_(
                User.username_key == ukey,
                User.email_key == ekey,
                User.username == username,
                User.email == email,
            )
        )
    ).first()
    if taken is None:
        return
    if taken.username_key == ukey or taken.username == username:
        raise DuplicateUser(
            f"The username {username!r} is already taken.{_as(taken.username, username)}",
            "username",
        )
    raise DuplicateUser(
        f"The email {email!r} is already registered.{_as(taken.email, email)}", "email"
    )


def _as(stored: str, typed: str) -> str:
    """Which registered name a typed one reads as, when they differ."""
    return "" if stored == typed else f" It reads the same as {stored!r}."
