"""The ticket report as JSON and as a streamed CSV download (DECISIONS 30-32)."""

from datetime import UTC, datetime

from quart import Response, current_app, g
from quart_schema import document_querystring

from helpdesk.api.blueprint import api
from helpdesk.api.http import query_args
from helpdesk.api.openapi import documents
from helpdesk.api.schemas import ReportQuery, ReportRowOut, envelope
from helpdesk.services import reports


def _rows(query: ReportQuery, now: datetime):
    return reports.report_rows(
        actor=g.user, period=query.period, day=query.date, timezone=current_app.config["TIMEZONE"],
        now=now, group_id=query.group, organisation_hid=query.organisation,
    )  # fmt: skip


@api.get("/reporting/tickets")
@documents(200, envelope("ReportEnvelope", list[ReportRowOut]))
@document_querystring(ReportQuery)
async def report_json() -> Response:
    """The report rows of the tickets created in the week or month (agents only), streamed."""
    rows = _rows(query_args(ReportQuery), datetime.now(UTC))
    response = Response(reports.report_json(rows), content_type="application/json")
    response.timeout = None  # a large month streams for longer than Quart's default response timeout
    return response


@api.get("/reporting/tickets/download")
@documents(200, media_type="text/csv")
@document_querystring(ReportQuery)
async def report_download() -> Response:
    """The same rows as a CSV attachment, streamed as they are produced."""
    query, now = query_args(ReportQuery), datetime.now(UTC)
    rows = _rows(query, now)
    _, _, label = reports.report_window(
        period=query.period, day=query.date, timezone=current_app.config["TIMEZONE"], now=now
    )
    response = Response(reports.report_csv(rows), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{reports.report_filename(label)}"'
    response.timeout = None  # a large month streams for longer than Quart's default response timeout
    return response
