import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import REPO, run_cli
from tests.e2e.processes import INVOICING, free_port


def test_db_upgrade_migrates_an_empty_database_and_twice_changes_nothing(
    empty_database_url: str,
) -> None:
    env = {"DATABASE_URL": empty_database_url}
    first = run_cli("db", "upgrade", env=env)
    assert first.returncode == 0, first.stderr
    assert "empty database: created the schema" in first.stdout
    second = run_cli("db", "upgrade", env=env)
    assert second.returncode == 0, second.stderr
    assert "already at the latest schema" in second.stdout
    seeded = run_cli("db", "seed", env=env)
    assert seeded.returncode == 0 and "seeded 9 customers" in seeded.stdout, seeded.stderr
    again = run_cli("db", "seed", env=env)
    assert again.returncode == 0 and "nothing seeded" in again.stdout


def test_tokens_are_created_listed_and_revoked(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    created = run_cli("token", "create", "--role", "staff", "--name", "ops", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("inv_") and len(token) > 40
    listed = run_cli("token", "list", env=env)
    assert "staff\tactive\tops" in listed.stdout and token not in listed.stdout
    revoked = run_cli("token", "revoke", "--token", token, env=env)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert "revoked\tops" in run_cli("token", "list", env=env).stdout


def test_a_token_may_be_made_to_expire_and_the_list_says_until_when(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    created = run_cli("token", "create", "--role", "staff", "--expires-in", "30d", env=env)
    assert created.returncode == 0 and "expires 20" in created.stderr, created.stderr
    assert "\tactive until 20" in run_cli("token", "list", env=env).stdout
    bad = run_cli("token", "create", "--role", "staff", "--expires-in", "soon", env=env)
    assert bad.returncode != 0 and "90m, 12h, 30d or 2w" in bad.stderr


def test_the_local_staff_token_is_kept_and_reused_until_it_stops_working(
    tmp_path: Path,
) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    first = run_cli("token", "local", env=env)
    assert first.returncode == 0, first.stderr
    token = first.stdout.strip()
    kept = tmp_path / "run.db.staff-token"
    assert kept.read_text().strip() == token and kept.stat().st_mode & 0o777 == 0o600
    assert run_cli("token", "local", env=env).stdout.strip() == token
    assert run_cli("token", "list", env=env).stdout.count("make run") == 1
    run_cli("token", "revoke", "--token", token, env=env)
    fresh = run_cli("token", "local", env=env).stdout.strip()
    assert fresh.startswith("inv_") and fresh != token and kept.read_text().strip() == fresh


def test_links_rotate_replaces_the_stored_secret_unless_one_is_configured(
    tmp_path: Path,
) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    rotated = run_cli("links", "rotate", env=env)
    assert rotated.returncode == 0 and "rotated" in rotated.stdout, rotated.stderr
    configured = run_cli("links", "rotate", env={**env, "LINK_SECRET": "from-the-env"})
    assert configured.returncode != 0 and "LINK_SECRET" in configured.stderr


def test_a_customer_token_needs_an_existing_customer(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    no_id = run_cli("token", "create", "--role", "customer", env=env)
    missing = run_cli("token", "create", "--role", "customer", "--customer-id", "77", env=env)
    for result in (no_id, missing):
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Customer 77 does not exist" in missing.stderr


def test_a_bad_config_stops_with_one_line_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("invoice:\n  number_format: 'INV-{oops}'\n")
    result = run_cli("db", "upgrade", env={"CRM_CONFIG": str(bad)})
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "invoice.number_format" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_database_is_one_clear_line() -> None:
    result = run_cli("db", "seed", env={"DATABASE_URL": "mysql+asyncmy://root@127.0.0.1:1/nothing"})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "database:" in result.stderr


def test_schema_export_writes_the_live_sdl(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    result = run_cli("schema", "export", "--output", str(target))
    assert result.returncode == 0
    assert "type Query" in target.read_text()


def test_billing_run_bills_each_customer_once_and_reports(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("db", "seed", env=env).returncode == 0
    from datetime import date, timedelta

    end = date.today()
    start = end.replace(day=1) if end.day > 1 else end - timedelta(days=1)
    first = run_cli(
        "billing",
        "run",
        "--start",
        str(start),
        "--end",
        str(end),
        "--due",
        str(end + timedelta(days=15)),
        env=env,
    )
    assert first.returncode == 0, first.stderr
    assert "invoices for $" in first.stdout and "0 failed" in first.stdout
    again = run_cli(
        "billing",
        "run",
        "--start",
        str(start),
        "--end",
        str(end),
        "--due",
        str(end + timedelta(days=15)),
        env=env,
    )
    assert again.stdout.startswith("0 invoices for $0.00")
    assert again.stderr == ""  # no progress bar, nor its label, when not on a terminal
    backwards = run_cli(
        "billing",
        "run",
        "--start",
        str(end),
        "--end",
        str(start - timedelta(days=1)),
        "--due",
        str(end),
        env=env,
    )
    assert (
        backwards.returncode != 0
        and "start date must not be after the end date" in backwards.stderr
    )


def test_preview_shows_a_real_invoice_only_with_its_link_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    """`invoicing preview --database URL --invoice N`: a stored invoice, for whoever has the
    printed link; its data in a private folder removed on exit; its workers stopped."""
    import os
    import re
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    url = f"sqlite+aiosqlite:///{tmp_path / 'real.db'}"
    env = {"DATABASE_URL": url}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("db", "seed", env=env).returncode == 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "preview.log"
    command = [str(Path(sys.executable).with_name("invoicing")), "preview", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--database", url, "--invoice", "1"],
        cwd=str(Path(__file__).resolve().parents[2]),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    page = f"{base}/preview/norfone_invoice_template/invoice-1"
    try:
        printed = None
        for _ in range(100):
            printed = re.search(r"\?token=(\S+)", log.read_text())
            if printed:
                break
            time.sleep(0.2)
        assert printed, log.read_text()
        token = printed.group(1)
        for _ in range(100):
            try:
                refused = httpx.get(f"{page}.html", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert refused.status_code == 403
        with httpx.Client(base_url=base, timeout=30) as browser:
            html = browser.get(f"{page}.html", params={"token": token})
            assert html.status_code == 200 and "INV-" in html.text
            # The cookie set by the link carries the token from then on, the PDF too.
            assert browser.get(f"{page}.pdf").status_code == 200
            assert browser.get(f"{page}.html?lang=%22%3E%3Cscript%3E").status_code == 404
        rebound = httpx.get(
            f"{page}.html", params={"token": token}, headers={"Host": "evil.example"}
        )
        assert rebound.status_code == 400
        (private,) = [
            p for p in Path("/tmp").glob("invoicing-preview-*") if (p / "invoice-1.json").exists()
        ]
        assert private.stat().st_mode & 0o777 == 0o700
        workers = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(process.pid)], capture_output=True, text=True
        ).stdout.split()
        assert workers  # the render workers the PDF started
        process.send_signal(signal.SIGTERM)  # the server alone, as a service manager would
        process.wait(timeout=20)
        time.sleep(0.5)
        assert not private.exists()
        assert _gone(workers, within=5), "render workers outlived the preview server"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _gone(pids: list[str], within: float) -> bool:
    """True once none of `pids` runs any more (a zombie waiting to be reaped has ended)."""
    import time

    deadline = time.monotonic() + within
    while True:
        running = []
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            if "\nState:\tZ" not in status:
                running.append(pid)
        if not running or time.monotonic() > deadline:
            return not running
        time.sleep(0.1)


def test_db_check_passes_on_seeded_data_and_names_what_was_tampered_with(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = tmp_path / "check.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("db", "seed", env=env).returncode == 0
    clean = run_cli("db", "check", env=env)
    assert clean.returncode == 0 and "database is consistent" in clean.stdout, clean.stderr
    with sqlite3.connect(path) as raw:
        (charge_id,) = raw.execute(
            "SELECT t.id FROM transactions t JOIN invoices i ON i.id = t.invoice_id"
            " WHERE t.kind = 'CHARGE' AND i.void = 0 ORDER BY t.id LIMIT 1"
        ).fetchone()
        raw.execute(
            "UPDATE transactions SET retail_cost = retail_cost + 100 WHERE id = ?", (charge_id,)
        )
        (paid_id,) = raw.execute("SELECT id FROM invoices WHERE status = 'PAID' LIMIT 1").fetchone()
        raw.execute(
            "DELETE FROM transactions WHERE invoice_id = ? AND kind = 'PAYMENT'", (paid_id,)
        )
    tampered = run_cli("db", "check", env=env)
    assert tampered.returncode == 1
    assert f"differ from their frozen line (transaction ids): {charge_id}" in tampered.stderr
    assert "do not match their status (invoice ids)" in tampered.stderr
    assert str(paid_id) in tampered.stderr


def test_ctrl_c_stops_the_preview_mid_render_without_tracebacks() -> None:
    port = free_port()
    process = subprocess.Popen(
        [INVOICING, "preview", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl+C reaches the group: the server and its workers
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        answers: list[int] = []

        def fetch(fixture: str) -> None:
            try:
                url = f"{base}/preview/norfone_invoice_template/{fixture}.pdf"
                answers.append(httpx.get(url, timeout=30).status_code)
            except httpx.HTTPError:
                answers.append(0)

        fetching = [
            threading.Thread(target=fetch, args=(f,))
            for f in ("long_120_lines", "twenty_lines", "short")
        ]
        for thread in fetching:
            thread.start()
        time.sleep(0.5)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        for thread in fetching:
            thread.join()
        assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
        assert 500 not in answers  # renders in flight finish (or are told it is stopping)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_make_preview_listens_on_port_when_given_and_5001_otherwise() -> None:
    def command(*args: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("PORT", "MAKEFLAGS")}
        planned = subprocess.run(
            ["make", "-n", "--no-print-directory", "preview", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return planned.stdout.strip().splitlines()[-1]

    assert command("PORT=5123").endswith("invoicing preview --host 127.0.0.1 --port 5123")
    assert command().endswith("--port 5001")


def test_einvoice_validate_checks_a_seeded_invoice_and_export_writes_its_ubl(
    tmp_path: Path,
) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'einvoice.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("db", "seed", env=env).returncode == 0
    checked = run_cli("einvoice", "validate", "1", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verdicts = [line for line in checked.stdout.splitlines() if line.startswith("VALID")]
    assert len(verdicts) == 2 and "(cii)" in verdicts[0] and "(ubl" in verdicts[1]
    target = tmp_path / "one.xml"
    exported = run_cli("einvoice", "export", "1", "--output", str(target), env=env)
    assert exported.returncode == 0, exported.stderr
    assert target.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Invoice')
    again = run_cli("einvoice", "validate", str(target), env=env)
    assert again.returncode == 0 and again.stdout.startswith("VALID"), again.stdout
    missing = run_cli("einvoice", "validate", "99999", env=env)
    assert missing.returncode != 0 and "Invoice 99999 does not exist" in missing.stderr
