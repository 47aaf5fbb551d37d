"""The IMAP poller `helpdesk worker` runs when MAIL_IN_IMAP_HOST is set: it stores each new message
of a hosted mailbox in the inbox table, and only then marks it seen (or moves it to
MAIL_IN_IMAP_DONE_FOLDER). It waits with IDLE where the server offers it, and polls otherwise."""

import asyncio
import logging
import ssl
from collections.abc import Mapping
from typing import Any

import aioimaplib

from helpdesk import compat
from helpdesk.services import mail_intake

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 30


def configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("MAIL_IN_IMAP_HOST"))


def _tls(config: Mapping[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file := config.get("MAIL_IN_IMAP_CA_FILE"):
        context.load_verify_locations(cafile=str(ca_file))
    return context


async def connect(config: Mapping[str, Any]) -> aioimaplib.IMAP4:
    """A logged-in client with the folder selected: IMAPS, IMAP upgraded with STARTTLS, or plain IMAP
    (loopback or a tunnel only)."""
    host, port = str(config["MAIL_IN_IMAP_HOST"]), int(config.get("MAIL_IN_IMAP_PORT", 993))
    security = str(config.get("MAIL_IN_IMAP_SECURITY", "ssl")).lower()
    if security == "ssl":
        client = aioimaplib.IMAP4_SSL(host=host, port=port, ssl_context=_tls(config), timeout=30)
    elif security in ("starttls", "plain"):
        client = aioimaplib.IMAP4(host=host, port=port, timeout=30)
    else:
        raise ValueError(f"MAIL_IN_IMAP_SECURITY must be ssl, starttls or plain, not {security!r}")
    await client.wait_hello_from_server()
    if security == "starttls":
        await compat.imap_starttls(client, _tls(config), host)
    _ok(await client.login(str(config["MAIL_IN_IMAP_USER"]), str(config["MAIL_IN_IMAP_PASSWORD"])), "LOGIN")
    _ok(await client.select(str(config.get("MAIL_IN_IMAP_FOLDER", "INBOX"))), "SELECT")
    return client


def _ok(response: Any, what: str) -> Any:
    if response.result != "OK":
        raise ConnectionError(f"IMAP {what} refused: {response.result} {response.lines[-1:]!r}")
    return response


async def poll_once(client: aioimaplib.IMAP4, config: Mapping[str, Any]) -> int:
    """Store every waiting message, marking or moving each only once it is stored; how many."""
    done_folder = str(config.get("MAIL_IN_IMAP_DONE_FOLDER", ""))
    found = _ok(await client.uid_search("ALL" if done_folder else "UNSEEN"), "SEARCH")
    uids = [uid for line in found.lines[:1] for uid in line.decode().split() if uid.isdigit()]
    for uid in uids:
        raw = _literal(_ok(await client.uid("fetch", uid, "(BODY.PEEK[])"), "FETCH"))
        if raw is None:
            continue
        await mail_intake.store(raw, via="imap")
        await _mark_done(client, uid, done_folder)
    return len(uids)


def _literal(response: Any) -> bytes | None:
    """The message bytes in a FETCH response (the one literal among its lines)."""
    return next((bytes(line) for line in response.lines if isinstance(line, bytearray)), None)


async def _mark_done(client: aioimaplib.IMAP4, uid: str, done_folder: str) -> None:
    if not done_folder:
        _ok(await client.uid("store", uid, "+FLAGS", "(\\Seen)"), "STORE")
    elif client.has_capability("MOVE"):
        _ok(await client.uid("move", uid, done_folder), "MOVE")
    else:
        _ok(await client.uid("copy", uid, done_folder), "COPY")
        _ok(await client.uid("store", uid, "+FLAGS", "(\\Deleted)"), "STORE")
        _ok(await client.expunge(), "EXPUNGE")


async def _wait(client: aioimaplib.IMAP4, seconds: float) -> None:
    """Until the server says something changed (IDLE), or `seconds` pass (polling)."""
    if not client.has_capability("IDLE"):
        await asyncio.sleep(seconds)
        return
    idle = await client.idle_start(timeout=seconds + 10)
    try:
        await client.wait_server_push(timeout=seconds)
    except TimeoutError:
        pass
    finally:
        client.idle_done()
        await asyncio.wait_for(idle, 10)


async def run_poller(config: Mapping[str, Any]) -> None:
    """Poll the mailbox until cancelled, reconnecting after any failure."""
    seconds = float(config.get("MAIL_IN_IMAP_POLL_SECONDS", 60))
    while True:
        try:
            client = await connect(config)
            try:
                while True:
                    compat.stop_if_cancelled()
                    await poll_once(client, config)
                    await _wait(client, seconds)
            finally:
                await _logout(client)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a dropped connection or server error: log, wait, reconnect
            log.exception("mail intake: IMAP poll failed; reconnecting in %s s", RECONNECT_SECONDS)
            await asyncio.sleep(RECONNECT_SECONDS)


async def _logout(client: aioimaplib.IMAP4) -> None:
    try:
        await asyncio.wait_for(client.logout(), 5)
    except (TimeoutError, OSError, aioimaplib.Abort, aioimaplib.CommandTimeout):
        pass
