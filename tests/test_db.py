"""What the database module says about a URL in an error line: never its password."""

import pytest

from helpdesk.db import _redacted


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://app:s3cret@db:5432/hd", "postgres://app:***@db:5432/hd"),
        ("postgres://db/hd?user=app&password=s3cret&ssl=on", "postgres://db/hd?user=app&password=***&ssl=on"),
        ("postgres://app@db/hd?PASSWORD=s3cret", "postgres://app@db/hd?PASSWORD=***"),
        ("sqlite://var/helpdesk.sqlite3", "sqlite://var/helpdesk.sqlite3"),
    ],
)
def test_passwords_never_appear(url, shown):
    assert _redacted(url) == shown and "s3cret" not in _redacted(url)
