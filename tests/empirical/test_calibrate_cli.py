"""`mlscope calibrate`: the JSON contract with real training commands, and every error path."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

FAST = ("--fractions", "0.1,0.2,0.4", "--repeats", "1", "--no-warmup", "--extra-runs", "0",
        "--fixed-fraction", "0")


def test_contract_with_a_real_training_command(run, train_script: Path, python: str) -> None:
    res = run("calibrate", *FAST, "--instance", "c6i.xlarge", "--instance", "r5.large",
              "--json", "--", python, str(train_script), "{fraction}")
    assert res.code == 0, res.err
    out = res.json()
    p = out["predicted_seconds"]
    assert 0 < p["p10"] <= p["p50"] <= p["p90"]
    assert out["predicted_peak_rss_mb"] > 10  # python + numpy
    assert set(out["fit"]) >= {"model", "parameters", "error"}
    assert out["fit"]["model"] in ("power", "nlogn")
    measured = [r for r in out["runs"] if r["threads"] is None and not r["fixed"]]
    assert sorted(r["fraction"] for r in measured) == [0.1, 0.2, 0.4]
    assert all(r["wall_s"] > 0 and r["cpu_s"] > 0 and r["peak_rss_mb"] > 0 for r in measured)
    # --instance turns on the serial run that measures CPU scaling.
    assert [r["threads"] for r in out["runs"]].count(1) == 1
    assert out["parallelism"]["method"] in ("serial-run", "assumed")
    names = [i["instance_type"] for i in out["instances"]]
    assert names == ["c6i.xlarge", "r5.large"]
    for inst in out["instances"]:
        h = inst["hours"]
        assert 0 < h["p10"] <= h["p50"] <= h["p90"]
        assert inst["usd_on_demand"]["p50"] > 0 and inst["fits_memory"] is True
        assert inst["speed_factor"] > 0 and inst["speed_basis"]
    assert Path(out["state_file"]).exists()
    assert any("speed factor" in a for a in out["assumptions"])


def test_the_table_names_the_fit_and_the_prediction(run, train_script: Path,
                                                    python: str) -> None:
    res = run("calibrate", *FAST, "--", python, str(train_script), "{fraction}")
    assert res.code == 0, res.err
    assert "Predicted at fraction 1" in res.out and "Fit (seconds)" in res.out
    assert "Plan: the given fractions" in res.out
    assert "run 3: fraction 0.4" in res.err  # progress, one line per run when not a terminal


def test_the_fraction_reaches_the_command_through_the_environment(
        run, train_script: Path, python: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "fractions.log"
    monkeypatch.setenv("TRAIN_LOG", str(log))
    res = run("calibrate", *FAST, "--uses-env", "--json", "--", python, str(train_script))
    assert res.code == 0, res.err
    assert log.read_text().split() == ["0.1", "0.2", "0.4"]


@pytest.mark.parametrize("fractions", ["0,0.1", "0.1,1.5", "-0.2,0.5", "0.1,abc", "0.3"])
def test_bad_fractions_exit_2_with_the_fix(run, train_script: Path, python: str,
                                           fractions: str) -> None:
    res = run("calibrate", "--fractions", fractions, "--", python, str(train_script),
              "{fraction}")
    assert res.code == 2
    assert res.err.startswith("Error:") and ("e.g." in res.err or "like" in res.err)
    assert "Traceback" not in res.err


def test_bad_target_fraction_exits_2(run, train_script: Path, python: str) -> None:
    res = run("calibrate", "--target-fraction", "2", "--", python, str(train_script),
              "{fraction}")
    assert res.code == 2 and "outside (0, 1]" in res.err


def test_a_command_without_the_fraction_exits_2_with_the_fix(run, train_script: Path,
                                                             python: str) -> None:
    res = run("calibrate", "--", python, str(train_script))
    assert res.code == 2
    assert "{fraction}" in res.err and "--uses-env" in res.err


def test_no_command_and_sample_path_without_data_exit_2(run, python: str) -> None:
    assert run("calibrate").code == 2
    res = run("calibrate", "--", python, "t.py", "{sample_path}")
    assert res.code == 2 and "--data" in res.err


def test_unknown_instance_fails_before_any_run(run, train_script: Path, python: str,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "fractions.log"
    monkeypatch.setenv("TRAIN_LOG", str(log))
    res = run("calibrate", "--instance", "c6i.4xlarg", "--", python, str(train_script),
              "{fraction}")
    assert res.code == 2 and "did you mean c6i.4xlarge" in res.err
    assert not log.exists()


def test_failing_command_gives_exit_code_and_stderr_and_no_fit(
        run, train_script: Path, python: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAIN_FAIL_AT", "0.2")
    res = run("calibrate", *FAST, "--json", "--", python, str(train_script), "{fraction}")
    assert res.code == 2
    out = res.json()
    assert out["fit"] is None and "predicted_seconds" not in out
    assert out["failed_run"]["exit_code"] == 1 and out["failed_run"]["fraction"] == 0.2
    assert "training diverged: loss is nan" in out["failed_run"]["stderr_tail"]
    assert [r["fraction"] for r in out["runs"]] == [0.1]  # what was measured before
    assert "exit code 1" in res.err
    table = run("calibrate", *FAST, "--", python, str(train_script), "{fraction}")
    assert table.code == 2 and "training diverged" in table.err


def test_resume_continues_after_a_failure_without_rerunning(
        run, train_script: Path, python: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "fractions.log"
    monkeypatch.setenv("TRAIN_LOG", str(log))
    monkeypatch.setenv("TRAIN_FAIL_AT", "0.4")
    argv = ("calibrate", *FAST, "--json", "--", python, str(train_script), "{fraction}")
    assert run(*argv).code == 2
    monkeypatch.delenv("TRAIN_FAIL_AT")
    res = run(*argv[:-4], "--resume", *argv[-4:])
    assert res.code == 0, res.err
    # 0.1 and 0.2 ran once; 0.4 failed once and then ran again on resume.
    assert log.read_text().split() == ["0.1", "0.2", "0.4", "0.4"]
    assert len(res.json()["runs"]) == 3


def test_resume_without_saved_state_exits_2(run, train_script: Path, python: str) -> None:
    res = run("calibrate", *FAST, "--resume", "--", python, str(train_script), "{fraction}")
    assert res.code == 2 and "nothing to resume" in res.err


def test_sample_path_gets_a_seeded_sample_of_the_data(run, tmp_path: Path, python: str) -> None:
    data = tmp_path / "ratings.csv"
    data.write_text("user,item,rating\n" + "".join(f"{i},{i % 7},{i % 5}\n" for i in range(2000)))
    script = tmp_path / "count.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        rows = sum(1 for _ in open(sys.argv[1])) - 1
        open(sys.argv[2], "a").write(f"{rows}\\n")
        time.sleep(rows / 20000)
    """))
    seen = tmp_path / "rows.log"
    res = run("calibrate", *FAST, "--data", str(data), "--json", "--", python, str(script),
              "{sample_path}", str(seen))
    assert res.code == 0, res.err
    assert seen.read_text().split() == ["200", "400", "800"]
    # A fresh calibration re-samples, so a changed dataset is never timed from stale samples.
    data.write_text("user,item,rating\n" + "".join(f"{i},1,1\n" for i in range(1000)))
    seen.unlink()
    again = run("calibrate", *FAST, "--data", str(data), "--json", "--", python, str(script),
                "{sample_path}", str(seen))
    assert again.code == 0, again.err
    assert seen.read_text().split() == ["100", "200", "400"]


def _interrupt_the_third_run(tmp_path: Path, sig: int) -> tuple[subprocess.Popen[str], str,
                                                                  Path]:
    """Start a calibration whose third run sleeps 60 s, send `sig` once that run has started.

    mlscope is started with SIGINT ignored, as a shell starts a script's background job
    (`mlscope calibrate ... &`) and as some test runners do: measured, the Ctrl-C then was
    ignored and the 60 s run finished (exit 0), until the CLI made the signal its own.
    """
    slow = tmp_path / "slow.py"
    slow.write_text(textwrap.dedent("""
        import os, sys, time
        f = float(sys.argv[1])
        open(sys.argv[2], "a").write(f"{os.getpid()}\\n")
        time.sleep(0.05 if f < 0.4 else 60)
    """))
    pids = tmp_path / "pids.log"
    env = {**os.environ, "MLSCOPE_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "mlscope", "calibrate", *FAST, "--", sys.executable, str(slow),
           "{fraction}", str(pids)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
            not pids.exists() or len(pids.read_text().split()) < 3):
        time.sleep(0.1)
    time.sleep(0.3)
    proc.send_signal(sig)
    # The clean-up itself is bounded (TERM, 1 s, KILL, reap <= 5 s); the generous limit is
    # for a starved, niced process on a loaded 2-CPU machine, not for the clean-up.
    _, err = proc.communicate(timeout=90)
    return proc, err, pids


def _finished_runs_kept_and_the_run_stopped(tmp_path: Path, err: str, pids: Path) -> None:
    assert "--resume" in err
    state_files = list((tmp_path / "home" / "calibrate").glob("*.json"))
    assert len(state_files) == 1
    kept = json.loads(state_files[0].read_text())["runs"]
    assert sorted(r["fraction"] for r in kept.values()) == [0.1, 0.2]
    slow_pid = int(pids.read_text().split()[-1])
    with pytest.raises(ProcessLookupError):
        os.kill(slow_pid, 0)  # the interrupted training process is gone


def test_ctrl_c_stops_cleanly_and_keeps_finished_runs(tmp_path: Path) -> None:
    proc, err, pids = _interrupt_the_third_run(tmp_path, signal.SIGINT)
    assert proc.returncode == 130, err
    _finished_runs_kept_and_the_run_stopped(tmp_path, err, pids)


def test_sigterm_stops_the_run_too(tmp_path: Path) -> None:
    # Without a handler SIGTERM kills mlscope alone: the run, in its own session, goes on.
    proc, err, pids = _interrupt_the_third_run(tmp_path, signal.SIGTERM)
    assert proc.returncode == 143, err
    _finished_runs_kept_and_the_run_stopped(tmp_path, err, pids)


@pytest.mark.slow
def test_scikit_learn_training_through_the_contract(run, tmp_path: Path, python: str) -> None:
    script = tmp_path / "train_sklearn.py"
    script.write_text(textwrap.dedent("""
        import sys
        from sklearn.datasets import make_classification
        from sklearn.linear_model import LogisticRegression
        n = round(float(sys.argv[1]) * 20_000)
        X, y = make_classification(n_samples=n, n_features=20, random_state=0)
        LogisticRegression(max_iter=200).fit(X, y)
    """))
    res = run("calibrate", "--fractions", "0.05,0.1,0.2", "--repeats", "1", "--no-warmup",
              "--json", "--", python, str(script), "{fraction}")
    assert res.code == 0, res.err
    out = res.json()
    assert out["predicted_seconds"]["p50"] > max(r["wall_s"] for r in out["runs"]) * 0.5
    assert out["predicted_peak_rss_mb"] > 50  # scikit-learn is loaded


def test_epochs_multiply_the_data_part_not_the_start_up(run, train_script: Path,
                                                        python: str) -> None:
    argv = ("calibrate", *FAST, "--json")
    one = run(*argv, "--", python, str(train_script), "{fraction}")
    assert one.code == 0, one.err
    three = run(*argv, "--resume", "--epochs", "3", "--", python, str(train_script),
                "{fraction}")  # --resume re-fits the saved runs: same data, other epochs
    assert three.code == 0, three.err
    p1, p3 = one.json()["predicted_seconds"]["p50"], three.json()["predicted_seconds"]["p50"]
    assert p1 < p3 < 3 * p1
    assert three.json()["predicted_peak_rss_mb"] == pytest.approx(
        one.json()["predicted_peak_rss_mb"])


# -- the time budget, the iterations axis, a missing extra ------------------------------------
def test_budget_contract_gives_the_prediction_the_plan_and_why_it_stopped(
        run, train_script: Path, python: str) -> None:
    res = run("calibrate", "--budget", "6s", "--repeats", "1", "--json", "--", python,
              str(train_script), "{fraction}")
    assert res.code == 0, res.err
    out = res.json()
    p = out["predicted_seconds"]
    assert 0 < p["p10"] <= p["p50"] <= p["p90"]
    plan = out["plan"]
    assert plan["mode"] == "budget" and plan["budget_s"] == 6.0 and plan["stop_reason"]
    kinds = [s["kind"] for s in plan["steps"]]
    assert kinds[0] == "fixed"  # the fixed cost is measured first, at a vanishing fraction
    grown = [s["size"] for s in plan["steps"] if s["kind"] == "grow"]
    assert len(set(grown)) == len(grown) >= 2
    top = grown.index(max(grown))
    assert grown[:top + 1] == sorted(grown[:top + 1])  # growing, then at most the pair's
    # The pair's lower size: top / 2.5, or up to top / 1.5 where top / 2.5 would show too
    # little growth to measure, or up to top / 1.2 where a measured size crowds it
    # (Ladder._fill_pair).
    assert all(max(grown) / 2.5 * 0.9 <= s <= max(grown) / 1.2 * 1.1 for s in grown[top + 1:])
    assert out["fit"]["fixed_part"]["measured"] is True
    assert out["fit"]["basis"] in ("cpu", "wall")
    table = run("calibrate", "--budget", "6s", "--resume", "--", python, str(train_script),
                "{fraction}")  # replays the saved runs: nothing runs again
    assert table.code == 0, table.err
    assert "Plan: budget 6 s" in table.out and "stopped because" in table.out


def test_a_budget_of_few_start_ups_is_flagged_with_the_budget_to_give(
        run, tmp_path: Path, python: str) -> None:
    """A job whose start-up (0.5 s) is an eighth of the budget: the prediction stands on
    small sizes only, and the user is told what budget buys 15 start-ups."""
    script = tmp_path / "slow_start.py"
    script.write_text("import sys, time\ntime.sleep(0.5)\ntime.sleep(2 * float(sys.argv[1]))\n")
    res = run("calibrate", "--budget", "4s", "--json", "--", python, str(script), "{fraction}")
    assert res.code == 0, res.err
    notes = [w for w in res.json()["warnings"] if "start-ups" in w]
    assert len(notes) == 1 and "the budget (4 s) buys only" in notes[0]
    fixed = min(r["wall_s"] for r in res.json()["runs"] if r["fixed"])
    assert f"give --budget {math.ceil(15 * fixed)}s or more" in notes[0]


def test_the_budget_is_enforced_on_a_run_that_would_overrun_it(tmp_path: Path,
                                                               python: str) -> None:
    """Attack: a job whose cost explodes past the first sizes; the cap must stop it."""
    script = tmp_path / "explode.py"
    script.write_text("import sys, time\nf = float(sys.argv[1])\n"
                      "time.sleep(0.05 if f <= 0.01 else 120)\n")
    env = {**os.environ, "MLSCOPE_HOME": str(tmp_path / "home")}
    started = time.monotonic()
    proc = subprocess.run([python, "-m", "mlscope", "calibrate", "--budget", "3s", "--json",
                           "--", python, str(script), "{fraction}"], env=env,
                          capture_output=True, text=True, timeout=100)
    assert time.monotonic() - started < 100  # without the cap the run sleeps 120 s
    assert proc.returncode == 0, proc.stderr  # 0.001 and 0.01 finished: enough for a fit
    plan = json.loads(proc.stdout)["plan"]
    assert plan["stop_reason"] == "a run was stopped at the end of the budget"
    assert plan["steps"][-1]["over_budget"] is True
    assert plan["spent_s"] <= 3.0 + 0.5  # the cap is the budget left; bookkeeping aside
    # The budget covers the whole calibration: mlscope's start-up (this process is mlscope)
    # and at least the 0.3 s reserve for the fit are spent before the first run.
    assert plan["overhead_s"] >= 0.3 and plan["spent_s"] >= plan["overhead_s"]


def test_the_iterations_axis_runs_whole_iteration_counts(run, tmp_path: Path,
                                                         python: str) -> None:
    script = tmp_path / "epochs.py"
    log = tmp_path / "iterations.log"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        n = int(sys.argv[1])
        open({str(log)!r}, "a").write(f"{{n}}\\n")
        time.sleep(0.05 + 0.02 * n)
    """))
    res = run("calibrate", "--axis", "iterations", "--target-iterations", "40", "--budget",
              "4s", "--json", "--", python, str(script), "{iterations}")
    assert res.code == 0, res.err
    out = res.json()
    seen = [int(v) for v in log.read_text().split()]
    assert all(1 <= n <= 40 for n in seen) and len(set(seen)) >= 3
    assert out["axis"] == "iterations" and out["target_iterations"] == 40
    assert {r["iterations"] for r in out["runs"]} == set(seen)
    assert out["predicted_seconds"]["p50"] > 0.5  # 40 iterations of 20 ms plus start-up
    fixed = run("calibrate", "--axis", "iterations", "--iterations", "1,2,4", "--json",
                "--target-iterations", "40", "--", python, str(script), "{iterations}")
    assert fixed.code == 0, fixed.err


@pytest.mark.parametrize("argv", [
    ("--axis", "iterations", "--budget", "5s"),  # no target
    ("--axis", "iterations", "--target-iterations", "30", "--fractions", "0.1,0.2"),
    ("--iterations", "1,2"),  # without the axis
    ("--fractions", "0.1,0.2", "--budget", "5s"),
    ("--budget", "soon"),
    ("--axis", "iterations", "--target-iterations", "30", "--iterations", "0,40"),
])
def test_conflicting_or_bad_plan_options_exit_2(run, train_script: Path, python: str,
                                                argv: tuple[str, ...]) -> None:
    res = run("calibrate", *argv, "--", python, str(train_script), "{fraction}")
    assert res.code == 2, res.out
    assert res.err.startswith("Error:") and "Traceback" not in res.err


def test_iterations_axis_needs_the_placeholder(run, train_script: Path, python: str) -> None:
    res = run("calibrate", "--axis", "iterations", "--target-iterations", "30", "--", python,
              str(train_script), "{fraction}")
    assert res.code == 2 and "{iterations}" in res.err


def test_missing_psutil_is_one_line_naming_the_extra(tmp_path: Path, train_script: Path,
                                                     python: str) -> None:
    blocker = tmp_path / "block" / "psutil"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(
        "raise ImportError(\"No module named 'psutil'\", name='psutil')\n")
    env = {**os.environ, "MLSCOPE_HOME": str(tmp_path / "home"),
           "PYTHONPATH": str(blocker.parent)}
    proc = subprocess.run([python, "-m", "mlscope", "calibrate", "--budget", "5s", "--", python,
                           str(train_script), "{fraction}"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "psutil is not installed" in lines[0]
    assert "mlscope[calibrate]" in lines[0] and "Traceback" not in proc.stderr
