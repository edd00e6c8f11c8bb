from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def test_torchrun_two_cpu_processes_with_gloo(tmp_path: Path) -> None:
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    assert torchrun, "torchrun is installed with torch"
    out = tmp_path / "ddp"
    with socket.socket() as sock:  # a free port for the rendezvous
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [
        torchrun, "--nproc_per_node=2", "--master_addr=127.0.0.1", f"--master_port={port}", "-m", "policytag", "train",
        "--config", str(ROOT / "training" / "configs" / "bert.yaml"), "--validation-docs", "1",
        "--data", str(ROOT / "labels" / "gold.jsonl"), "--output-dir", str(out),
        "--base-model", "scratch-tiny", "--epochs", "1", "--batch-size", "16", "--max-length", "48", "--limit", "373",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    log = json.loads((out / "training_log.json").read_text())
    steps = max(h["step"] for h in log if "step" in h)
    # Two processes share the 373 training sentences (--limit): each epoch takes half the single-process steps.
    assert steps == -(-373 // (16 * 2))
    assert (out / "model.safetensors").is_file()
