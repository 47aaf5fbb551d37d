"""The one claim both work tables use: each names its model's real table and statuses."""

import pytest

from helpdesk.services import claims, mail_intake, outbox


@pytest.mark.parametrize("work", [outbox.OUTBOX, mail_intake.INBOX], ids=["outbox", "inbox"])
def test_each_work_table_names_its_model_s_table(work: claims.WorkTable):
    assert work.model.describe(serializable=True)["table"] == work.table
    statuses = {str(status) for status in type(work.waiting)}
    assert {work.waiting, work.working} <= statuses
