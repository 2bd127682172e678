"""The users' use cases: registration, log-in, customer profiles."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, undefer
from sqlalchemy.orm.attributes import set_committed_value

from storeapp.domain import passwords, signals
from storeapp.domain.errors import DuplicateUser, NotFound
from storeapp.domain.events import log as eventlog
from storeapp.domain.models import Customer, User
from storeapp.domain.store.uow import Services
from storeapp.domain.store.validation import clean_id, validate_registration


class UserServices(Services):
    """Registration, log-in and the customers the core listener creates."""

    def register_user(self, username: str, email: str, password: str) -> User:
        """Create a user; ``user_registered`` is sent inside the transaction."""
        username, email, password = validate_registration(username, email, password)
        encoded = passwords.make_password(password)  # slow: outside the lock
        with self.units.write() as uow:
            s = uow.session
            _check_unique(s, username, email)
            user = User(username=username, email=email, password_hash=encoded)
            s.add(user)
            try:
                uow.flush()
            except IntegrityError:
                raise DuplicateUser(
                    "That username or email is already registered.", "username"
                ) from None
            signals.user_registered.send_robust(User, user=user)
            eventlog.user_registered(s, user)
            uow.flush()
            if user.customer is not None:  # load it while the session is open
                set_committed_value(user.customer, "user", user)
            uow.commit()
        return user

    def authenticate(self, username: str, password: str) -> User | None:
        """The user with this username and password, or None (also for bad input)."""
        if not isinstance(username, str) or not isinstance(password, str):
            return None
        try:
            username.encode("utf-8")
            password.encode("utf-8")
        except UnicodeEncodeError:
            return None
        if "\x00" in username:  # no username holds one, and PostgreSQL refuses it
            return None
        with self.units.read() as s:
            user = s.scalar(
                select(User)
                .options(undefer(User.password_hash))
                .where(User.username == username.strip())
            )
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


def _check_unique(s: Session, username: str, email: str) -> None:
    taken = s.execute(
        select(User.username, User.email).where(
            (func.lower(User.username) == username.lower())
            | (func.lower(User.email) == email.lower())
        )
    ).first()
    if taken is not None:
        if taken.username.lower() == username.lower():
            raise DuplicateUser(f"The username {username!r} is already taken.", "username")
        raise DuplicateUser(f"The email {email!r} is already registered.", "email")
