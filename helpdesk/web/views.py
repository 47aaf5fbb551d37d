"""Saved views: save the queue's filters and sort under a name, the menu of views with their counts,
editing (name, sharing) and deleting them. Agents only."""

from functools import partial
from typing import Any
from urllib.parse import urlencode

from quart import Blueprint, Response, redirect, request, url_for
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from helpdesk.errors import Forbidden, Invalid
from helpdesk.models import MAX_ID, User
from helpdesk.services import views
from helpdesk.web.auth import current_user, staff_required
from helpdesk.web.forms import CsrfForm, submit, token_form
from helpdesk.web.pages import page_or_partial

bp = Blueprint("views", __name__, url_prefix="/views")


class ViewForm(CsrfForm):
    name = StringField("Name", [DataRequired(), Length(max=views.NAME_MAX)])
    # Not "group": the queue filter of that name rides along in the new-view form.
    share = IntegerField("Share with", [Optional(), NumberRange(min=1, max=MAX_ID)])


class NewViewForm(ViewForm):
    queue = HiddenField("Queue", [DataRequired(), Length(max=64)])
    sort = HiddenField("Sort", [Optional(), Length(max=32)])


def view_url(view: views.View) -> str:
    return f"{url_for('queues.queue', name=view.queue)}?{urlencode(view.params)}"


@bp.get("/menu")
@staff_required
async def menu() -> Response:
    """The saved views in the queue menu, each with its count (fetched once the page is up)."""
    user = await current_user()
    found = await views.count_views(actor=user, views=await views.list_views(actor=user))
    context = {"views": found, "view_url": view_url}
    return await page_or_partial("views/page.html", "queues/_views.html", **context)


def _filters() -> dict[str, str]:
    return {key: request.args.get(key, "") for key in views.FILTERS if request.args.get(key)}


async def _form_page(
    template: str, user: User, form: ViewForm, status: int = 200, **context: Any
) -> Response:
    groups = await views.share_choices(actor=user)
    return await page_or_partial(template, template, status, form=form, groups=groups, **context)


@bp.get("/new")
@staff_required
async def new() -> Response:
    """The form that names the queue's current filters and sort as a view."""
    form = NewViewForm(data={"queue": request.args.get("queue", ""), "sort": request.args.get("sort", "")})
    return await _form_page("views/new.html", await current_user(), form, filters=_filters())


@bp.post("")
@staff_required
async def create() -> Response:
    """Save the view and show it; errors come back on the form."""
    user, form = await current_user(), await NewViewForm.from_request()
    filters = {key: value for key in views.FILTERS if (value := (await request.form).get(key))}
    save = partial(
        views.save_view, name=form.name.data, queue=form.queue.data, filters=filters,
        sort=form.sort.data or "", group_id=form.share.data, actor=user,
    )  # fmt: skip
    outcome = await submit(form, save, Invalid, Forbidden)
    if outcome.refused:
        return await _form_page("views/new.html", user, form, outcome.status, filters=filters)
    return redirect(view_url(outcome.result), 303)


@bp.route("/<int:view_id>", methods=["GET", "POST"])
@staff_required
async def edit(view_id: int) -> Response:
    """Rename a view or change whom it is shared with."""
    user = await current_user()
    view = await views.get_view(view_id=view_id, actor=user)
    form = await ViewForm.from_request(data={"name": view.name, "share": view.group_id})
    status = 200
    if request.method == "POST":
        save = partial(views.update_view, view_id=view_id, name=form.name.data, group_id=form.share.data)
        outcome = await submit(form, partial(save, actor=user), Invalid, Forbidden)
        if not outcome.refused:
            return redirect(view_url(outcome.result), 303)
        status = outcome.status
    return await _form_page("views/edit.html", user, form, status, view=view, action=token_form())


@bp.post("/<int:view_id>/delete")
@staff_required
async def delete(view_id: int) -> Response:
    """Delete a view, then back to the queues."""
    form = await CsrfForm.from_request()
    if not form.validate():
        return await edit(view_id)
    await views.delete_view(view_id=view_id, actor=await current_user())
    return redirect(url_for("queues.home"), 303)
