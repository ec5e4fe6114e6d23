"""The deploy step against the real `modal` CLI (the pinned PyPI package), offline and with no token: the
flags we pass exist, and Modal's auth failure comes back as a clear, unretried failure; and `modal app logs`
takes the argv `modal-cdk logs` builds."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import SYNTH_OUT

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def no_token_env(tmp_path, modal_on_path=False):
    """This environment without MODAL_* variables and with an empty home: no token anywhere; with
    `modal_on_path`, the pinned CLI first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODAL_")}
    env.update(HOME=str(tmp_path), MODAL_CONFIG_PATH=str(tmp_path / ".modal.toml"))
    if modal_on_path:
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    return env


def test_modal_deploy_takes_the_flags_the_plan_uses():
    help_text = subprocess.run(
        [VENV_BIN / "modal", "deploy", "--help"], capture_output=True, text=True, check=True
    ).stdout
    plan = json.loads((SYNTH_OUT / "deploy-plan.json").read_text())
    flags = {arg for step in plan["steps"] for arg in step["args"] if arg.startswith("--")}
    assert flags == {"--name", "--env", "--tag"}
    for flag in flags:
        assert flag in help_text, flag


def test_no_token_is_reported_as_an_auth_failure_with_what_to_do(tmp_path):
    plan = json.loads((SYNTH_OUT / "deploy-plan.json").read_text())
    step = plan["steps"][0]
    driver = f"""
require('./lib/cli/swc-register').registerTypeScript();
const {{ deployApp }} = require('./lib/deploy/apply');
const lines = [];
deployApp({json.dumps(step)}, {{
  cwd: {json.dumps(str(SYNTH_OUT.resolve()))}, timeoutSeconds: 120, retries: 2, retryDelaySeconds: 0,
  onLine: (line) => lines.push(line), signal: new AbortController().signal,
}}).then((result) => console.log(JSON.stringify({{ result, lines }})));
"""
    env = no_token_env(tmp_path, modal_on_path=True)
    run = subprocess.run(
        ["node", "-e", driver], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert any("Token missing" in line for line in report["lines"]), report["lines"]
    result = report["result"]
    assert (result["outcome"], result["attempts"]) == ("failed", 1)  # an auth failure is not retried
    assert "Modal refused the credentials: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET" in result["reason"]
    assert "modal token new" in result["reason"]


def test_modal_app_logs_takes_the_argv_modal_cdk_logs_builds(tmp_path):
    """Each form (fetch with --since/--tail, follow) gets past the real CLI's parser to the auth check."""
    driver = """
require('./lib/cli/swc-register').registerTypeScript();
const { logsArgs } = require('./lib/cli/logs-command');
console.log(JSON.stringify([logsArgs('example-flux', 'main', { since: '2h', tail: '50' }), logsArgs('example-flux', 'main', { follow: true })]));
"""
    forms = json.loads(
        subprocess.run(["node", "-e", driver], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    )
    env = no_token_env(tmp_path)
    for argv in forms:
        run = subprocess.run([VENV_BIN / "modal", *argv], env=env, capture_output=True, text=True, timeout=120)
        assert "Token missing" in run.stdout + run.stderr, (argv, run.stdout, run.stderr)
    # and what the usage check in logs-command.ts refuses, the real CLI refuses too
    both = subprocess.run(
        [VENV_BIN / "modal", "app", "logs", "example-flux", "--follow", "--since", "2h"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "--follow cannot be combined with --since" in both.stdout + both.stderr


def first_app():
    """A synthesized app.py (deploy --strategy needs a file the real CLI can import before asking Modal)."""
    from conftest import APP_IDS, SYNTH_OUT

    return (SYNTH_OUT / "apps" / APP_IDS[0] / "app.py").resolve()


def test_the_day2_commands_argv_gets_past_the_real_cli_parser(tmp_path):
    """status, models, rollback, destroy and deploy --strategy build their argv in lib/deploy/modal-args.ts: each form reaches the real
    CLI's auth check (a wrong flag would stop at its parser with a usage error instead)."""
    local = tmp_path / "style.safetensors"
    local.write_bytes(b"x")
    driver = f"""
require('./lib/cli/swc-register').registerTypeScript();
const {{ modalArgs }} = require('./lib/deploy/modal-args');
console.log(JSON.stringify([
  modalArgs.appList('main'), modalArgs.appHistory('example-flux', 'main'), modalArgs.rollback('example-flux', 'v1', 'main'),
  modalArgs.volumeLs('example-models', '/loras', 'main'), modalArgs.volumePut('example-models', {json.dumps(str(local))}, '/loras/style.safetensors', 'main'),
  modalArgs.appStop('example-flux', 'main'),
  modalArgs.deploy({json.dumps(str(first_app()))}, 'example-flux', 'main', 'abc', 'recreate'),
]));
"""
    forms = json.loads(
        subprocess.run(["node", "-e", driver], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    )
    env = no_token_env(tmp_path)
    for argv in forms:
        run = subprocess.run([VENV_BIN / "modal", *argv], env=env, capture_output=True, text=True, timeout=120)
        assert "Token missing" in run.stdout + run.stderr, (argv, run.stdout, run.stderr)
    # The check is sharp: an unknown flag stops at the parser, before any token is looked for.
    wrong = subprocess.run(
        [VENV_BIN / "modal", "app", "list", "--environment-name", "main"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Token missing" not in wrong.stdout + wrong.stderr and "No such option" in wrong.stdout + wrong.stderr


def test_status_reports_the_real_cli_auth_failure_clearly(tmp_path):
    """`modal-cdk status` with the real CLI on PATH and no token: exit 1, no drift table, Modal's hint."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "cdk-like.json").write_text(
        json.dumps({"app": f"ts-node --swc {ROOT / 'bin' / 'example.ts'}", "modal": {"workspace": "acme"}})
    )
    env = no_token_env(tmp_path, modal_on_path=True)
    run = subprocess.run(
        ["node", ROOT / "bin" / "modal-cdk.js", "status"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 1, run.stderr
    assert run.stdout == ""
    assert (
        "modal-cdk status: could not ask Modal: modal app list exited with 1: Modal refused the credentials"
        in run.stderr
    )


def test_scale_program_reaches_modals_auth_check_with_the_real_package(tmp_path):
    """`modal-cdk scale` runs UPDATE_AUTOSCALER_PY in the project's Python: with the real modal package and
    no token, Cls.from_name and update_autoscaler exist and get as far as asking Modal (the token check)."""
    driver = """
require('./lib/cli/swc-register').registerTypeScript();
console.log(JSON.stringify(require('./lib/cli/scale-command').UPDATE_AUTOSCALER_PY));
"""
    program = json.loads(
        subprocess.run(["node", "-e", driver], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    )
    request = json.dumps({"app": "example-flux", "cls": "ComfyUI", "env": "main", "settings": {"min_containers": 1}})
    run = subprocess.run(
        [VENV_BIN / "python", "-c", program, request],
        env=no_token_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "Token missing" in run.stdout + run.stderr or "AuthError" in run.stdout + run.stderr, run.stderr[-2000:]
    assert "AttributeError" not in run.stderr and "TypeError" not in run.stderr
