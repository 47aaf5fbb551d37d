"""The password rule, and argon2 hashing in worker threads so the event loop keeps serving."""

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from helpdesk.errors import Invalid, RateLimited

MIN_LENGTH = 12
MAX_LENGTH = 1000
HASH_THREADS = 2  # hashes running at once (argon2 releases the GIL); the others wait their turn
MAX_WAITING = 64  # beyond this many hashes waiting, a sign-in is refused rather than queued

hasher = PasswordHasher()  # argon2id with the library's current parameters
_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")
_waiting = [0]


def policy_errors(password: str, *, email: str = "") -> list[str]:
    """What is wrong with a new password (nothing when it may be used)."""
    if len(password) < MIN_LENGTH:
        return [f"must be at least {MIN_LENGTH} characters"]
    if len(password) > MAX_LENGTH:
        return [f"must be at most {MAX_LENGTH} characters"]
    if email and password.strip().lower() == email.strip().lower():
        return ["must not be your email address"]
    return []


def check_policy(password: str, *, email: str = "", field: str = "password") -> None:
    """Invalid, naming `field`, unless the password may be used."""
    if errors := policy_errors(password, email=email):
        raise Invalid(f"The password {errors[0]}.", {field: errors})


def hash_password(password: str) -> str:
    """An argon2id hash, computed here (the command line and seeding, where no loop is serving)."""
    return hasher.hash(password)


async def _in_thread(work: Callable[..., Any], *args: Any) -> Any:
    """Run CPU-heavy work in the hashing threads; refuse when too much is already waiting."""
    if _waiting[0] >= MAX_WAITING:
        raise RateLimited("Too many sign-ins at once. Try again in a moment.")
    _waiting[0] += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_pool, work, *args)
    finally:
        _waiting[0] -= 1


async def new_hash(password: str) -> str:
    """An argon2id hash of the password, computed off the event loop."""
    return await _in_thread(hash_password, password)


def _matches(stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify(stored: str | None, password: str) -> bool:
    """Whether the password matches the stored hash, checked off the event loop. No hash (no such
    user, or no password yet) costs the same time as a wrong password."""
    return await _in_thread(_matches, stored or _DUMMY_HASH, password) and stored is not None


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with other argon2 parameters than the current ones."""
    try:
        return hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


_DUMMY_HASH = hasher.hash(secrets.token_hex(16))
