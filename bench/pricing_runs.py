"""Runs of the pricing bench that need their own process: the `kolmarket plan` command with
its start included, and solves pinned to one core beside a busy process on that core.

Pinning uses `os.sched_setaffinity` in the child; the busy process is a Python loop pinned
to the same core, so the engine gets about half a core.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

from contracts.planning import AllocationProblem, Diagnosis, SelectionProblem
from pricing import allocate, select

ROOT = Path(__file__).resolve().parents[1]
KOLMARKET = ROOT / ".venv" / "bin" / "kolmarket"


@dataclass(frozen=True, slots=True)
class Solved:
    seconds: float
    cpu: float
    value: float
    gap: float
    note: str
    fingerprint: int


def cli_seconds(
    command: str, problem: AllocationProblem | SelectionProblem, runs: int, bytecode: bool
) -> list[float]:
    """Wall time of `kolmarket plan COMMAND FILE`, process start included, per run. With
    `bytecode`, modules load from a bytecode cache (kept in a temporary folder, written by
    a first run that is not counted), as in the image (UV_COMPILE_BYTECODE=1); without
    it, every module is compiled from source at each start."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "problem.json"
        path.write_bytes(msgspec.json.encode(problem))
        env = dict(os.environ, PYTHONPYCACHEPREFIX=str(Path(folder) / "cache"))
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        arguments = [str(KOLMARKET), "plan", command, str(path)]
        if bytecode:
            subprocess.run(arguments, capture_output=True, check=False, env=env)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run(arguments, capture_output=True, check=False, env=env)
            times.append(time.perf_counter() - start)
            if done.returncode not in (0, 3):
                raise RuntimeError(done.stderr.decode()[-2000:])
    return times


def _summary(result: object, seconds: float, cpu: float) -> Solved:
    if isinstance(result, Diagnosis):
        note = f"{result.status} ({result.stop_reason})"
        return Solved(seconds, cpu, math.nan, math.nan, note, 0)
    chosen = getattr(result, "selected", None) or [s.creators for s in result.segments]  # type: ignore[attr-defined]
    note = f"{result.stop_reason}"  # type: ignore[attr-defined]
    value = result.objective_value  # type: ignore[attr-defined]
    return Solved(seconds, cpu, value, result.gap, note, hash(tuple(chosen)))  # type: ignore[attr-defined]


def _pinned_child(
    problem: AllocationProblem | SelectionProblem, core: int, answer: mp.Queue
) -> None:
    os.sched_setaffinity(0, {core})
    start, cpu = time.perf_counter(), time.process_time()
    result = allocate(problem) if isinstance(problem, AllocationProblem) else select(problem)
    answer.put(_summary(result, time.perf_counter() - start, time.process_time() - cpu))


def _busy(core: int) -> subprocess.Popen[bytes]:
    code = f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", code])


def pinned(problem: AllocationProblem | SelectionProblem, busy: bool) -> Solved:
    """Solve in a child pinned to one core, beside a busy process on it when `busy`."""
    core = min(os.sched_getaffinity(0))
    spinner = _busy(core) if busy else None
    try:
        answer: mp.Queue = mp.Queue()
        child = mp.Process(target=_pinned_child, args=(problem, core, answer))
        child.start()
        child.join(problem.time_limit_seconds * 3 + 60)
        if child.is_alive():
            child.terminate()
            child.join()
            return Solved(math.nan, math.nan, math.nan, math.nan, "stopped: no answer", 0)
        return answer.get()
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


def median(values: list[float]) -> float:
    return statistics.median(values)
