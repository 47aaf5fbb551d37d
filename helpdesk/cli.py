"""The `helpdesk` command: migrate, serve, create users and tokens, seed demo data, run the worker."""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from helpdesk import db
from helpdesk.config import ConfigError, load_config
from helpdesk.errors import DomainError

Command = Callable[[argparse.Namespace, dict[str, Any]], Awaitable[None]]


async def _with_database(config: dict[str, Any], work: Callable[[], Awaitable[None]]) -> None:
    await db.open_database(config["DATABASE_URL"])
    try:
        await work()
    finally:
        await db.close_database()


async def cmd_migrate(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Create or upgrade the schema, then load the reference data where missing."""
    from helpdesk.services.reference import load_reference_data

    await db.migrate_database(config["DATABASE_URL"])

    async def load() -> None:
        added = await load_reference_data()
        if await db.needs_statistics():
            await db.refresh_statistics()
        print(f"database is up to date ({added} reference rows added)")

    await _with_database(config, load)


async def cmd_create_user(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Create a user and print its id."""
    from helpdesk.services.users import create_user

    async def create() -> None:
        user = await create_user(
            email=args.email,
            name=args.name,
            actor=None,
            agent=args.agent,
            admin=args.admin,
            password=args.password,
            organisation_hid=args.organisation,
            human_id=args.human_id,
            phone=args.phone,
        )
        print(user.id)

    await _with_database(config, create)


async def cmd_create_token(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Issue an API token for a user and print only the token."""
    from helpdesk.services.users import create_token, get_user_by_email

    async def create() -> None:
        user = await get_user_by_email(args.email)
        print(await create_token(user=user, name=args.name, actor=None))

    await _with_database(config, create)


async def cmd_create_organisation(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Add an organisation to the directory (or update it) and print its human ID."""
    from helpdesk.services.organisations import save_organisation

    async def save() -> None:
        organisation = await save_organisation(
            human_id=args.human_id, legal_name=args.legal_name, name=args.name, role=args.role,
            parent_hid=args.parent, actor=None,
            default_contract_hid=args.contract, default_tenant_hid=args.tenant,
        )  # fmt: skip
        print(organisation.human_id)

    await _with_database(config, save)


async def cmd_seed_demo(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Load believable demo data (organisations, people, tickets with threads)."""
    from helpdesk.services.demo import seed_demo

    async def seed() -> None:
        summary = await seed_demo(tickets=args.tickets, skip_if_present=args.if_empty)
        await db.refresh_statistics()  # the tables just grew from nothing: plan with their new sizes
        print(summary)

    await _with_database(config, seed)


async def cmd_worker(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Deliver queued emails, process incoming ones (polling MAIL_IN_IMAP_HOST when it is set) and
    announce service level warnings and breaches, until interrupted."""
    from helpdesk import mail_imap
    from helpdesk.services import mail_intake, sla
    from helpdesk.services.outbox import run_worker

    async def work() -> None:
        jobs = [run_worker(config, once=args.once), mail_intake.run_worker(config, once=args.once)]
        jobs.append(sla.run_timer(once=args.once))
        if mail_imap.configured(config) and not args.once:
            jobs.append(mail_imap.run_poller(config))
        await asyncio.gather(*jobs)

    await _with_database(config, work)


async def cmd_mail_in(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Receive incoming mail by LMTP (each message stored before it is acknowledged) and process it."""
    from helpdesk import mail_lmtp

    await _with_database(config, lambda: mail_lmtp.serve(args.host, args.port, config))


def cmd_serve(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Serve the app with the production ASGI server."""
    from helpdesk.server import serve

    serve(
        host=args.host, port=args.port, workers=args.workers, database_url=config["DATABASE_URL"],
        concurrency=int(config["SERVE_CONCURRENCY"]),
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="helpdesk",
        description="Helpdesk: tickets for agents, customers and API clients. "
        "Settings come from config.toml and HELPDESK_* environment variables.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser(
        "migrate",
        help="create or upgrade the database and load reference data",
        description=cmd_migrate.__doc__,
    )

    serve = sub.add_parser("serve", help="serve the web app and API", description=cmd_serve.__doc__)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port (default %(default)s)")
    serve.add_argument("--workers", type=int, default=1, help="server processes (default %(default)s)")

    user = sub.add_parser(
        "create-user", help="create a user and print its id", description=cmd_create_user.__doc__
    )
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True)
    user.add_argument("--agent", action="store_true", help="works tickets")
    user.add_argument("--admin", action="store_true", help="manages users, groups and the catalogue")
    user.add_argument("--password", help="password for signing in to the web UI")
    user.add_argument("--organisation", metavar="ORG-x", help="the customer's organisation human ID")
    user.add_argument("--human-id", metavar="USR-x", help="the user's human ID")
    user.add_argument("--phone", help="phone number, stored as given")

    token = sub.add_parser(
        "create-token",
        help="create an API token and print only the token",
        description=cmd_create_token.__doc__,
    )
    token.add_argument("--email", required=True, help="whose token it is")
    token.add_argument("--name", default="cli", help="a label to recognise the token by")

    org = sub.add_parser(
        "create-organisation",
        help="add or update an organisation in the directory",
        description=cmd_create_organisation.__doc__,
    )
    org.add_argument("--human-id", required=True, metavar="ORG-x")
    org.add_argument("--legal-name", required=True)
    org.add_argument("--name", required=True)
    org.add_argument("--role", default="customer", choices=["customer", "partner"])
    org.add_argument("--parent", metavar="ORG-x", help="the partner that sells to this customer")
    org.add_argument(
        "--contract", metavar="CON-x", help="the contract its customers' web tickets are filed under"
    )
    org.add_argument("--tenant", help="the tenant its customers' web tickets are filed under")

    seed = sub.add_parser("seed-demo", help="load demo data", description=cmd_seed_demo.__doc__)
    seed.add_argument("--tickets", type=int, default=2000, help="how many tickets (default %(default)s)")
    seed.add_argument("--if-empty", action="store_true", help="do nothing when tickets exist")

    worker = sub.add_parser(
        "worker", help="deliver queued emails, process incoming ones", description=cmd_worker.__doc__
    )
    worker.add_argument("--once", action="store_true", help="deliver what is due, then exit")

    mail_in = sub.add_parser(
        "mail-in", help="receive incoming mail by LMTP and process it", description=cmd_mail_in.__doc__
    )
    mail_in.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    mail_in.add_argument("--port", type=int, default=8024, help="port (default %(default)s)")
    return parser


ASYNC_COMMANDS: dict[str, Command] = {
    "migrate": cmd_migrate,
    "create-user": cmd_create_user,
    "create-token": cmd_create_token,
    "create-organisation": cmd_create_organisation,
    "seed-demo": cmd_seed_demo,
    "worker": cmd_worker,
    "mail-in": cmd_mail_in,
}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `helpdesk` console script."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config()
        if args.command == "serve":
            cmd_serve(args, config)
        else:
            asyncio.run(ASYNC_COMMANDS[args.command](args, config))
    except (ConfigError, db.DatabaseUnavailable, DomainError) as exc:
        print(f"helpdesk: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
