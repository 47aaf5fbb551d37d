"""Pages reached without signing in: asking for a password reset, and the emailed links that set a
password (reset, invitation) or confirm a new email address."""

from typing import Any

from quart import Blueprint, current_app

from helpdesk.errors import Invalid, RateLimited
from helpdesk.services import accounts, links, users
from helpdesk.web.account import show_error
from helpdesk.web.forms import CsrfForm, EmailForm, NewPasswordForm, token_form
from helpdesk.web.pages import form_status, render, serve_token_links

bp = Blueprint("passwords", __name__)
serve_token_links(bp, "passwords/refused.html")
TITLES = {links.PASSWORD_RESET: "Choose a new password", links.INVITATION: "Choose your password"}
KINDS = {"reset": links.PASSWORD_RESET, "invitation": links.INVITATION}  # the URL's word for each link


@bp.route("/password/forgot", methods=["GET", "POST"])
async def forgot() -> Any:
    """Ask for a reset link; the answer is the same whether or not the email has an account."""
    form = await EmailForm.from_request()
    if not form.validate():
        status = form_status(form) if form.errors else 200
        return await render("passwords/forgot.html", form=form), status
    answer = await accounts.request_password_reset(email=form.email.data, config=current_app.config)
    return await render("passwords/done.html", title="Check your email", message=answer)


async def _password_page(
    token: str, purpose: str, form: NewPasswordForm, status: int = 200
) -> tuple[str, int]:
    user = await accounts.read_password_link(token=token, purpose=purpose, config=current_app.config)
    return await render("passwords/set.html", form=form, user=user, title=TITLES[purpose]), status


async def _set_password(token: str, purpose: str) -> Any:
    """Consume the link and set the password; errors come back on the form."""
    form = await NewPasswordForm.from_request()
    if not form.validate():
        return await _password_page(token, purpose, form, form_status(form))
    try:
        await accounts.set_password_from_link(
            token=token, purpose=purpose, password=form.password.data, config=current_app.config
        )
    except (Invalid, RateLimited) as error:
        show_error(form, error)
        return await _password_page(token, purpose, form, error.status)
    message = "Your password is set, and any session that was signed in as you has ended."
    return await render("passwords/done.html", title="Password set", message=message, sign_in=True)


@bp.get("/password/<any(reset, invitation):kind>/<token>")
async def password_link(kind: str, token: str) -> Any:
    """The form to choose a password from a reset or invitation link. Changes nothing."""
    return await _password_page(token, KINDS[kind], NewPasswordForm())


@bp.post("/password/<any(reset, invitation):kind>/<token>")
async def set_password(kind: str, token: str) -> Any:
    """Set the password from a reset or invitation link, once."""
    return await _set_password(token, KINDS[kind])


@bp.get("/account/email/<token>")
async def email_link(token: str) -> Any:
    """What a new-email link would change, with a button to confirm. Changes nothing."""
    user, email = await users.read_email_link(token=token, config=current_app.config)
    return await render("passwords/email.html", user=user, email=email, form=token_form())


@bp.post("/account/email/<token>")
async def confirm_email(token: str) -> Any:
    """Consume the link and make the new address the account's email."""
    form = await CsrfForm.from_request()
    if not form.validate():
        user, email = await users.read_email_link(token=token, config=current_app.config)
        return await render("passwords/email.html", user=user, email=email, form=form), 400
    user = await users.confirm_email_change(token=token, config=current_app.config)
    message = f"Your account's email is now {user.email}. Sign in with it from now on."
    return await render("passwords/done.html", title="Email changed", message=message, sign_in=True)
