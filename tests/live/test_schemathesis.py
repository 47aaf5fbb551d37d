"""schemathesis fuzzes every operation of /api/openapi.json against the live server, with every check
(its default; the exceptions, each with its reason, are in schemathesis.toml)."""

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from helpdesk.config import PROJECT_ROOT

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
OUTPUT = PROJECT_ROOT / "test-output"


@pytest.mark.timeout(400)  # a whole fuzzing run: over a minute on a loaded 2-core machine
def test_schemathesis_finds_no_failures(live_server):
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{live_server.base_url}/api/openapi.json",
         "--header", f"Authorization: Bearer {live_server.token}",
         "--max-examples", "25", "--workers", "1", "--seed", "20261129",
         "--no-color", "--request-timeout", "10"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = result.stdout + result.stderr
    report = OUTPUT / "schemathesis.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(output)
    failures = output[output.find("FAILURES") : output.find("SUMMARY")]
    assert result.returncode == 0, f"full report in {report}\n{failures[-8000:]}"
    summary = re.search(r"(\d+) generated, (\d+) passed", output)
    assert summary and summary.group(1) == summary.group(2) and int(summary.group(1)) > 500, output[-3000:]
    # The fuzzer tries to deactivate and demote users: the token's own admin must survive it.
    me = httpx.get(
        f"{live_server.base_url}/api/users", headers={"Authorization": f"Bearer {live_server.token}"}
    )
    assert me.status_code == 200 and me.json()["data"]["admin"] is True
