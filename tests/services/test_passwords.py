"""The password rule and argon2 hashing off the event loop (issue 12, findings 4 and 7)."""

import asyncio
import threading

import pytest
from argon2 import PasswordHasher

from helpdesk.errors import Invalid
from helpdesk.models import User
from helpdesk.services import passwords, sessions
from tests.factories import make_agent, make_user

PASSWORD = "a long enough passphrase"  # noqa: S105 - test password


@pytest.mark.parametrize(
    ("password", "why"),
    [("short", "at least 12"), ("x" * 1001, "at most 1000"), ("Ana@Example.com", "not be your email")],
)
def test_the_rule_says_what_is_wrong(password, why):
    with pytest.raises(Invalid) as refused:
        passwords.check_policy(password, email="ana@example.com")
    assert why in refused.value.errors["password"][0]


async def test_every_way_of_creating_a_user_obeys_the_rule(app):
    with pytest.raises(Invalid):
        await make_user(password="x")
    assert not await User.exists()
    assert (await make_user(password=PASSWORD)).password_hash.startswith("$argon2id$")


async def test_hashes_run_in_the_hashing_threads_never_on_the_loop(app, monkeypatch):
    """A right password, a wrong one and a new hash: all computed outside the loop's thread
    (reading a hash's parameters, for the rehash check, is cheap and stays on the loop)."""
    threads = []
    real = passwords.hasher

    class Watching:
        def __getattr__(self, name):
            work = getattr(real, name)

            def watched(*args):
                if name in {"hash", "verify"}:
                    threads.append(threading.current_thread())
                return work(*args)

            return watched

    monkeypatch.setattr(passwords, "hasher", Watching())
    agent = await make_agent(password=PASSWORD)
    await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.0.0.1")
    with pytest.raises(Exception, match="do not match"):
        await sessions.sign_in(email=agent.email, password="wrong password", address="10.0.0.1")
    hashing = [t for t in threads if t is not threading.main_thread()]
    assert threads and hashing == threads and {t.name.split("_")[0] for t in threads} == {"argon2"}


class HeldHashes:
    """Password checks that wait in their thread until released: the test sees them mid-hash."""

    def __init__(self) -> None:
        self.gate, self.lock, self.running, self.most = threading.Event(), threading.Lock(), 0, 0

    def __call__(self, stored: str, password: str) -> bool:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.gate.wait(2)  # on the loop (the bug), this would stall everything 2 s per sign-in
        with self.lock:
            self.running -= 1
        return False

    @classmethod
    def install(cls, monkeypatch) -> "HeldHashes":
        held = cls()
        monkeypatch.setattr(passwords, "_matches", held)
        return held

    async def all_threads_busy(self) -> None:
        async with asyncio.timeout(5):
            while self.running < passwords.HASH_THREADS:
                await asyncio.sleep(0.005)


@pytest.fixture
def held_hashes(monkeypatch) -> HeldHashes:
    return HeldHashes.install(monkeypatch)


async def test_the_loop_answers_while_sign_ins_hash_and_at_most_two_hash_at_once(app, held_hashes):
    """20 sign-ins whose hashing is held: other work on the loop still completes at once."""
    attempts = [
        asyncio.create_task(sessions.sign_in(email=f"u{n}@example.com", password="x", address=f"10.1.0.{n}"))
        for n in range(20)
    ]
    await held_hashes.all_threads_busy()
    assert await User.all().count() == 0  # the loop still serves queries while 20 hashes wait
    assert not held_hashes.gate.is_set() and all(not task.done() for task in attempts)
    held_hashes.gate.set()
    results = await asyncio.gather(*attempts, return_exceptions=True)
    assert all("do not match" in str(result) for result in results)
    assert held_hashes.most == passwords.HASH_THREADS


async def test_a_hash_made_with_older_parameters_is_upgraded_at_sign_in(app, monkeypatch):
    agent = await make_agent()
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await User.filter(id=agent.id).update(password_hash=old)
    await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.0.0.1")
    upgraded = (await User.get(id=agent.id)).password_hash
    assert upgraded != old and not passwords.needs_rehash(upgraded)
    assert await passwords.verify(upgraded, PASSWORD)
    await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.0.0.1")
    assert (await User.get(id=agent.id)).password_hash == upgraded  # current ones are left alone
