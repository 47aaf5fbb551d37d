"""Dredd checks every transaction of the blueprint against the live server."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from helpdesk.config import PROJECT_ROOT

BLUEPRINT = PROJECT_ROOT / "docs" / "api" / "tickets.apib"
DREDD = PROJECT_ROOT / "node_modules" / ".bin" / "dredd"


def test_dredd_passes_every_transaction(live_server):
    assert BLUEPRINT.exists(), f"the contract is missing: {BLUEPRINT}"
    assert DREDD.exists(), "run `npm ci` (make test does) to install Dredd"
    env = os.environ | {"HELPDESK_LIVE_URL": live_server.base_url, "HELPDESK_LIVE_TOKEN": live_server.token}
    result = subprocess.run(
        [str(DREDD), str(BLUEPRINT), f"{live_server.base_url}/api",
         "--header", f"Authorization: Bearer {live_server.token}",
         "--hookfiles", str(Path(__file__).with_name("dredd_hooks.js")),
         "--language", "nodejs", "--loglevel", "warning", "--color", "false"],
        env=env, capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT,
    )  # fmt: skip
    summary = re.search(r"complete: .*", result.stdout)
    print(result.stdout[-4000:], result.stderr[-2000:], sep="\n")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert summary and "0 failing" in summary.group(0) and "0 errors" in summary.group(0)
    assert re.search(r"complete: 20 passing", summary.group(0)), summary.group(0)
    assert "1 skipped" in summary.group(0)
    assert shutil.which("node")
