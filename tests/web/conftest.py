"""Web test helpers: sign a test client in, read CSRF tokens out of rendered forms."""

import re

from helpdesk.models import User
from helpdesk.services.passwords import hash_password

PASSWORD = "correct horse battery"  # noqa: S105 - test password
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
HTMX = {"HX-Request": "true"}


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def csrf_token(client, path: str = "/login") -> str:
    """A valid CSRF token for the client's session, read from a rendered form."""
    response = await client.get(path)
    return csrf_from(await response.get_data(as_text=True))


async def sign_in(client, user: User, password: str = PASSWORD):
    """Give the user a password and sign the client in through the real form."""
    await User.filter(id=user.id).update(password_hash=hash_password(password))
    token = await csrf_token(client)
    response = await client.post(
        "/login", form={"email": user.email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, await response.get_data(as_text=True)
    return response
