"""The ``policytag labels push|pull|agreement|connect|server`` subcommands (registered by ``cli/labels.py``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from policytag.cli.options import Handler, add_command, connection_options, data_option, flag, project_option
from policytag.core.jsonl import read_jsonl, write_jsonl
from policytag.core.paths import LABEL_STUDIO_DATA
from policytag.labels.labelstudio.client import LabelStudioError

__all__ = ["LOCAL_ML_ENV", "connect_backend", "register", "retrieve_predictions"]


def _handled(fn: Handler) -> Handler:
    """Report Label Studio and server errors in one line (exit 2), like the kit's other user errors."""

    def run(args: argparse.Namespace) -> int:
        from policytag.labels.labelstudio.server import ServerError

        try:
            return fn(args)
        except (LabelStudioError, ServerError) as e:
            print(f"policytag labels {args.labels_command}: error: {e}", file=sys.stderr)
            return 2

    run.__doc__ = fn.__doc__
    return run


def _command(lsub: Any, name: str, fn: Handler) -> argparse.ArgumentParser:
    return add_command(lsub, name, _handled(fn))


def register(lsub: Any) -> None:
    """Add push, pull, agreement, connect and server to the ``policytag labels`` subparsers."""
    for add in (_add_push, _add_pull, _add_agreement, _add_connect, _add_server):
        add(lsub)


def _add_push(lsub: Any) -> None:
    from policytag.labels.labelstudio.push import STRATEGIES

    p = _command(lsub, "push", cmd_push)
    project_option(p)
    p.add_argument("--model", metavar="DIR", help="model folder whose predictions become pre-annotations")
    data_option(p, "--sentences", "sentences", "sentence JSONL")
    p.add_argument(
        "--strategy",
        "--queue",
        dest="strategy",
        choices=STRATEGIES,
        default="all",
        help="all sentences; only unlabelled ones; unlabelled ones most uncertain first (needs --model); or "
        "'errors': the highest-loss sentences of --errors (default: the --model folder's errors.jsonl, "
        "written by training with `thresholds: oof`), highest loss first",
    )
    p.add_argument(
        "--errors",
        metavar="FILE",
        help="errors.jsonl for --queue errors (default: the one in the --model folder)",
    )
    p.add_argument("--limit", type=int, help="push at most N sentences (after ordering)")
    data_option(p, "--gold", "gold", "labelled sentences that count as labelled", show_default=False)
    data_option(p, "--consolidated", "consolidated", "pulled labels that count as labelled", show_default=False)
    flag(p, "--dry-run", "print what would change; change nothing")
    connection_options(p)


def _add_pull(lsub: Any) -> None:
    q = _command(lsub, "pull", cmd_pull)
    project_option(q)
    data_option(q, "--out", "annotations", "append-only annotation log")
    data_option(q, "--gold", "gold", "manual gold set")
    data_option(q, "--consolidated", "consolidated", "labelled set to write")
    data_option(q, "--conflicts", "conflicts", "conflicts to write")
    flag(q, "--dry-run", "print what would change; write nothing")
    connection_options(q)


def _add_agreement(lsub: Any) -> None:
    a = _command(lsub, "agreement", cmd_agreement)
    data_option(a, "--log", "annotations", "annotation log")
    flag(a, "--json", "print JSON")


def _add_connect(lsub: Any) -> None:
    c = _command(lsub, "connect", cmd_connect)
    project_option(c)
    c.add_argument(
        "--backend-url",
        required=True,
        metavar="URL",
        help="the backend as Label Studio reaches it, e.g. http://127.0.0.1:8000/labelstudio",
    )
    c.add_argument(
        "--backend-key",
        help="the policytag server's API key (default: $POLICYTAG_API_KEY; none: the server has no key); sent by "
        "Label Studio as Basic auth password and as a Bearer header of the backend's webhook; never printed",
    )
    flag(c, "--retrieve", "then ask Label Studio to retrieve predictions for every task")
    c.add_argument("--timeout", type=float, default=100.0, help="Label Studio's prediction time-out in s (%(default)s)")
    connection_options(c)


def _add_server(lsub: Any) -> None:
    s = _command(lsub, "server", cmd_server)
    s.add_argument("--data-dir", default=LABEL_STUDIO_DATA, help="data folder (default: %(default)s)")
    s.add_argument("--port", type=int, help="port (default: 8080 if free, else any free port)")
    flag(
        s,
        "--allow-local-ml",
        "let Label Studio call ML backends and webhooks on 127.0.0.1 and private addresses "
        "(LABEL_STUDIO_ML_BLOCK_LOCAL_IP=false, LABEL_STUDIO_SSRF_PROTECTION_ENABLED=false): local development only",
    )


def cmd_push(args: argparse.Namespace) -> int:
    """push sentences (with model pre-annotations) to a Label Studio project

    Create the project if missing (labelling config from the taxonomy) or check its config, then import sentences as
    tasks {text, sentence_id, doc, index}. Idempotent: a sentence already in the project is updated, never
    duplicated. With --model, the model's labels are attached as predictions. --queue errors sends the sentences
    of a model's errors.jsonl (its out-of-fold highest-loss sentences), highest loss first.
    """
    from policytag.core.taxonomy import load_taxonomy
    from policytag.labels.labelstudio.client import connect
    from policytag.labels.labelstudio.push import push, read_sentences

    taxonomy = load_taxonomy()
    if args.strategy == "uncertainty" and not args.model:
        raise ValueError("--strategy uncertainty needs --model (the uncertainty is the model's)")
    errors = _errors_queue(args)
    sentences = read_sentences(args.sentences)
    if errors is not None:
        _say_errors_queue(args, errors, sentences)
    labelled: set[str] = set()
    for f in (args.gold, args.consolidated):
        if f and Path(f).exists():
            labelled |= {str(r.get("id")) for r in read_jsonl(f)}
    predictor = None
    if args.model:
        from policytag.training.predictor import load_predictor

        predictor = load_predictor(args.model)
    client = connect(args.url, args.api_key)
    started = time.monotonic()
    result = push(
        client,
        args.project,
        sentences,
        taxonomy,
        predictor=predictor,
        strategy=args.strategy,
        limit=args.limit,
        labelled=labelled,
        errors=errors,
        dry_run=args.dry_run,
        progress=True,
    )
    plan = result.plan
    if plan.duplicates:
        print(f"warning: {len(plan.duplicates)} sentences have several tasks already (made outside policytag?):")
        for sid, ids in list(plan.duplicates.items())[:10]:
            print(f"  {sid}: tasks {ids} (the lowest is updated)")
    prefix = "dry run, would push" if args.dry_run else "pushed"
    print(f"{prefix} {plan.summary()}")
    if result.model_version:
        print(f"predictions: model version {result.model_version}")
    if result.tasks_after is not None:
        print(
            f"project {args.project!r} (id {result.project_id}) has {result.tasks_after} tasks "
            f"({time.monotonic() - started:.1f} s)"
        )
    return 0


def _errors_queue(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    """The rows of the errors file for ``--queue errors`` (``None`` for the other queues); checked before connecting."""
    from policytag.labels.labelstudio.push import errors_path, read_errors

    if args.strategy != "errors":
        if args.errors:
            raise ValueError("--errors is the file of --queue errors; add --queue errors or leave --errors out")
        return None
    if not args.errors and not args.model:
        raise ValueError("--queue errors needs --model DIR (its errors.jsonl) or --errors FILE")
    return read_errors(args.errors or errors_path(args.model))


def _say_errors_queue(args: argparse.Namespace, errors: list[dict[str, Any]], sentences: list[dict[str, Any]]) -> None:
    """How many of the errors file's sentences can be sent: those not in ``--sentences`` (or not labellable) cannot."""
    matched = len({r.get("id") for r in errors} & {s["id"] for s in sentences})
    print(
        f"errors queue, highest loss first: {matched} of the {len(errors)} sentences of the errors file are "
        f"labellable sentences of {args.sentences}"
        + (f" (at most {args.limit} pushed)" if args.limit is not None else "")
    )


def cmd_pull(args: argparse.Namespace) -> int:
    """pull annotations into the append-only log and consolidate them into a labelled set

    Export the project (full JSON snapshot), append new or edited annotations to the log, report unusable ones, and
    rebuild the consolidated labelled set (rules in labels/README.md, 'Label Studio loop').
    """
    from policytag.core.taxonomy import load_taxonomy
    from policytag.labels.dataset import read_labelled
    from policytag.labels.labelstudio.client import connect, export_snapshot, find_project, user_emails
    from policytag.labels.labelstudio.config import ConfigMismatchError, check_label_config
    from policytag.labels.labelstudio.pull import annotation_records, append_log, consolidate, read_log

    taxonomy = load_taxonomy()
    client = connect(args.url, args.api_key)
    project = find_project(client, args.project)
    if project is None:
        raise LabelStudioError(f"no project titled {args.project!r} on {client.url}")
    try:
        check_label_config(project.label_config, taxonomy, project=f"project {args.project!r}")
    except ConfigMismatchError as e:
        print(f"warning: {e}\n(pulling anyway: annotations with choices outside the taxonomy are reported)")
    tasks = export_snapshot(client, project.id)
    needs_emails = any(isinstance(a.get("completed_by"), int) for t in tasks for a in t.get("annotations") or [])
    emails = user_emails(client) if needs_emails else {}
    records, problems = annotation_records(tasks, taxonomy, project=args.project, emails=emails)
    new = append_log(args.out, records, dry_run=args.dry_run)
    log = read_log(args.out) + (new if args.dry_run else [])
    gold = read_labelled(args.gold, taxonomy, require_doc=True) if Path(args.gold).exists() else []
    result = consolidate(log, gold, taxonomy)
    verb = "would add" if args.dry_run else "added"
    print(
        f"project {args.project!r}: {len(tasks)} tasks, {len(records)} annotations; {verb} {len(new)} new or "
        f"updated to {args.out}"
    )
    if problems:
        print(
            f"{len(problems)} annotations cannot be used as they are (fix them in Label Studio and pull again):",
            file=sys.stderr,
        )
        for prob in problems:
            print(f"  {prob}", file=sys.stderr)
    old = read_jsonl(args.consolidated) if Path(args.consolidated).exists() else []
    changed = _count_changes(old, result.records)
    print(
        f"consolidated: {len(result.records)} sentences ({len(result.decided)} decided by annotations, "
        f"{len(result.superseded)} gold labels superseded), {len(result.conflicts)} conflicts; "
        f"{changed} records differ from {args.consolidated}"
    )
    for c in result.conflicts:
        votes = "; ".join(f"{a}: {'+'.join(v)}" for a, v in c["votes"].items())
        print(f"  conflict {c['id']}: {votes}")
    if not args.dry_run:
        write_jsonl(args.consolidated, result.records)
        write_jsonl(args.conflicts, result.conflicts)
        print(f"wrote {args.consolidated} and {args.conflicts}")
    return 0


def _count_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> int:
    before = {r.get("id"): json.dumps(r, sort_keys=True, ensure_ascii=False) for r in old}
    after = {r.get("id"): json.dumps(r, sort_keys=True, ensure_ascii=False) for r in new}
    return sum(1 for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def cmd_agreement(args: argparse.Namespace) -> int:
    """annotator agreement (Cohen's or Fleiss' kappa per label) and open conflicts

    Per-label Cohen's kappa (two annotators) or Fleiss' kappa (more) from the annotation log, and the sentences
    whose annotators tie.
    """
    from policytag.core.taxonomy import load_taxonomy
    from policytag.labels.labelstudio.annotator_agreement import compute_agreement, render_agreement
    from policytag.labels.labelstudio.pull import read_log

    taxonomy = load_taxonomy()
    if not Path(args.log).exists():
        raise FileNotFoundError(f"{args.log}: no annotation log yet (run `policytag labels pull` first)")
    report = compute_agreement(read_log(args.log), taxonomy)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_agreement(report, taxonomy), end="")
    return 0


BACKEND_TITLE = "policytag"
#: What Label Studio needs to call an ML backend (and its webhook) on 127.0.0.1: it turns off Label Studio's
#: protection against requests to local and private addresses, so it is for local development only.
LOCAL_ML_ENV = {"LABEL_STUDIO_ML_BLOCK_LOCAL_IP": "false", "LABEL_STUDIO_SSRF_PROTECTION_ENABLED": "false"}


def _backend_health(url: str) -> dict[str, Any]:
    """``GET <url>/health`` of the backend as seen from here; ``LabelStudioError`` when it is not up."""
    import httpx

    try:
        answer = httpx.get(f"{url}/health", timeout=10.0)
    except httpx.HTTPError as e:
        raise LabelStudioError(f"the ML backend {url} does not answer ({type(e).__name__}: {e}): is it up?") from None
    body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
    if answer.status_code != 200 or body.get("status") != "UP":
        raise LabelStudioError(f"the ML backend {url}/health answers {answer.status_code} {str(body)[:200]}")
    return dict(body)


def connect_backend(
    client: Any, project_id: int, url: str, *, key: str | None = None, timeout: float = 100.0
) -> tuple[Any, bool]:
    """Register ``url`` as the project's ML backend (or update the registration with that URL); ``(backend, created)``.

    With ``key``, Label Studio is told to send it: as the Basic auth password of every backend call (its ML
    connector sends no other credentials) and as ``Authorization: Bearer`` on the backend's webhook (which
    Label Studio creates with the backend and which sends only its own stored headers).
    """
    url = url.rstrip("/")
    sdk = client.sdk
    auth: dict[str, Any] = (
        {"auth_method": "BASIC_AUTH", "basic_auth_user": "policytag", "basic_auth_pass": key}
        if key
        else {"auth_method": "NONE"}
    )
    fields = {"url": url, "title": BACKEND_TITLE, "is_interactive": False, "timeout": timeout, **auth}
    existing = client.call(f"listing the ML backends of project {project_id}", sdk.ml.list, project=project_id)
    same = [b for b in existing or [] if str(getattr(b, "url", "")).rstrip("/") == url]
    hint = (
        " (a backend on 127.0.0.1 needs Label Studio started with LABEL_STUDIO_ML_BLOCK_LOCAL_IP=false and "
        "LABEL_STUDIO_SSRF_PROTECTION_ENABLED=false)"
    )
    try:
        if same:
            # Label Studio 1.23 re-validates an update with /setup and needs the project in the body for it.
            backend = client.call(
                f"updating ML backend {same[0].id}", sdk.ml.update, same[0].id, project=project_id, **fields
            )
            created = False
        else:
            backend = client.call(
                f"registering the ML backend {url} with project {project_id}",
                sdk.ml.create,
                project=project_id,
                description="policytag: multi-label policy categories of the served model",
                **fields,
            )
            created = True
    except LabelStudioError as e:
        raise LabelStudioError(f"{e}{hint}") from None
    if key:
        hooks = client.call(f"listing the webhooks of project {project_id}", sdk.webhooks.list, project=str(project_id))
        for hook in hooks or []:
            if str(getattr(hook, "url", "")).rstrip("/") == f"{url}/webhook":
                client.call(
                    f"adding the key to webhook {hook.id}",
                    sdk.webhooks.update,
                    hook.id,
                    headers={"Authorization": f"Bearer {key}"},
                )
    return backend, created


def retrieve_predictions(client: Any, project_id: int) -> None:
    """Label Studio's Data Manager action ``retrieve_tasks_predictions`` over every task of the project.

    Label Studio asks the backend for ``/setup`` (the model version) and sends every task without a
    prediction of that version in one ``/predict`` request; it stores the answers as predictions.
    """
    client.call(
        f"retrieving predictions for project {project_id}",
        client.sdk.actions.create,
        id="retrieve_tasks_predictions",
        project=project_id,
        selected_items={"all": True, "excluded": []},
    )


def cmd_connect(args: argparse.Namespace) -> int:
    """register policytag's ML backend (policytag serve ... /labelstudio) with a Label Studio project

    Register the ML backend of a running `policytag serve` with the project (once; an existing registration of the
    same URL is updated), so that Label Studio can ask it for predictions (Data Manager: Actions > Retrieve
    Predictions, or --retrieve). Label Studio must be allowed to reach the backend: for one on 127.0.0.1 start Label
    Studio with LABEL_STUDIO_ML_BLOCK_LOCAL_IP=false and LABEL_STUDIO_SSRF_PROTECTION_ENABLED=false (local
    development only; `policytag labels server --allow-local-ml` does).
    """
    import os

    from policytag.core.taxonomy import load_taxonomy
    from policytag.labels.labelstudio.client import connect, find_project
    from policytag.labels.labelstudio.config import ConfigMismatchError, check_label_config

    url = args.backend_url.rstrip("/")
    try:
        health = _backend_health(url)
    except LabelStudioError as e:  # Label Studio may reach a URL this machine cannot: it checks for itself
        print(f"warning: {e}", file=sys.stderr)
        health = {}
    key = args.backend_key or os.environ.get("POLICYTAG_API_KEY") or None
    client = connect(args.url, args.api_key)
    project = find_project(client, args.project)
    if project is None:
        raise LabelStudioError(f"no project titled {args.project!r} on {client.url} (`policytag labels push` makes it)")
    try:
        check_label_config(project.label_config, load_taxonomy(), project=f"project {args.project!r}")
    except ConfigMismatchError as e:
        print(f"warning: {e}\n(the backend answers with the choices it can map to the model's labels)")
    started = time.monotonic()
    backend, created = connect_backend(client, project.id, url, key=key, timeout=args.timeout)
    backend = client.call("reading the ML backend", client.sdk.ml.get, backend.id)
    verb = "registered" if created else "updated"
    print(
        f"{verb} ML backend {backend.id} ({url}, model {health.get('model')}) for project {args.project!r} "
        f"(id {project.id}): state {getattr(backend, 'state', '?')}, model version "
        f"{getattr(backend, 'model_version', '') or health.get('model_version')}"
        + ("; Label Studio authenticates with the key" if key else "")
    )
    if args.retrieve:
        retrieve_predictions(client, project.id)
        print(f"retrieved predictions for every task of project {args.project!r} ({time.monotonic() - started:.1f} s)")
    else:
        print("predictions: Data Manager > select tasks > Actions > Retrieve Predictions (or again with --retrieve)")
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    """start a local Label Studio on 127.0.0.1 (installed once by `make labelstudio-install`)

    Run Label Studio from its own venv (.venv-ls in the checkout, or $POLICYTAG_LABEL_STUDIO_VENV; `make
    labelstudio-install` installs it) on 127.0.0.1 with its data under the project (git-ignored), printing the URL,
    user and API token. Ctrl-C stops it.
    """
    from policytag.labels.labelstudio.server import (
        CREDENTIALS_FILE,
        DB_FILE,
        ServerError,
        free_port,
        label_studio_executable,
        load_or_create_credentials,
        port_is_free,
        start_server,
    )

    # Runs until Ctrl-C or SIGTERM, then stops Label Studio with SIGTERM.
    label_studio_executable()  # not installed: say so before making a data dir
    data_dir = Path(args.data_dir).resolve()
    if (data_dir / DB_FILE).exists() and not (data_dir / CREDENTIALS_FILE).exists():
        raise ServerError(
            f"{data_dir} holds a Label Studio database but no {CREDENTIALS_FILE}: it was not made by policytag. "
            "Use another --data-dir, or start that one with `label-studio start` yourself."
        )
    creds = load_or_create_credentials(data_dir)
    port = args.port or (8080 if port_is_free(8080) else free_port())
    server = start_server(data_dir, creds, port=port, extra_env=LOCAL_ML_ENV if args.allow_local_ml else None)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"Label Studio is running at {server.url} (started in {server.started_in_s:.1f} s)")
    print(f"  user:     {creds.username}")
    print(f"  password: {creds.password}")
    print(f"  token:    {creds.token}")
    print(f"  data:     {data_dir} (log: {server.log_path})")
    if args.allow_local_ml:
        print("  ML backends on 127.0.0.1 allowed (SSRF protection off: local development only)")
    print("For policytag labels push/pull in another shell:")
    print(f"  export LABEL_STUDIO_URL={server.url} LABEL_STUDIO_API_KEY={creds.token}")
    print("Ctrl-C stops it.", flush=True)
    try:
        while server.process.poll() is None:
            time.sleep(1.0)
        print(f"Label Studio exited with status {server.process.returncode}; see {server.log_path}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping Label Studio", file=sys.stderr)
        return 0
    finally:
        server.stop()
