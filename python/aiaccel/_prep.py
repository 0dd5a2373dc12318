"""aiaccel.prep: the batch pipeline (`aiaccel prep`: manifest, --resume, per-file failures, shards)
driven from Python.

It runs the `aiaccel` command-line program rather than binding the pipeline: the CLI *is* the batch
engine (input expansion, bounded streaming pipeline, atomic outputs, manifest, resume, exit codes),
so this adds no second implementation, and a crash or a hard failure in one batch cannot take the
Python process (a notebook, a Dask worker) down with it. Keyword arguments map one to one to its
options.
"""
import json
import os
import pathlib
import subprocess

from aiaccel._cli import find_cli


class PrepError(RuntimeError):
    """`aiaccel prep` could not run (exit code 2: bad usage or input); the message is the CLI's."""


def _args(files, out_dir, *, level, jobs, resume, overwrite, backend, precision, steps, pointing_table, correction_table,
          calibration_version, aiapy_version, iterations, shard, compress, dry_run):
    if isinstance(files, str | os.PathLike):
        files = [files]
    args = ["prep", *[os.fspath(f) for f in files], "-o", os.fspath(out_dir), "--level", str(level), "--jobs", str(int(jobs)),
            "--backend", backend, "--precision", precision, "--aiapy-version", aiapy_version, "--compress", compress]
    if steps is not None:
        args += ["--steps", steps if isinstance(steps, str) else ",".join(steps)]
    if pointing_table is not None:
        args += ["--pointing-table", os.fspath(pointing_table)]
    if correction_table is not None:
        args += ["--correction-table", os.fspath(correction_table)]
    if calibration_version is not None:
        args += ["--calibration-version", str(int(calibration_version))]
    if iterations is not None:
        args += ["--iterations", str(int(iterations))]
    if shard is not None:
        args += ["--shard", shard if isinstance(shard, str) else f"{shard[0]}/{shard[1]}"]
    for flag, on in (("--resume", resume), ("--overwrite", overwrite), ("--dry-run", dry_run)):
        if on:
            args.append(flag)
    return args


def manifest_path(out_dir, shard=None):
    """OUT/manifest.json, or OUT/manifest.shard-I-of-N.json for shard (I, N) / "I/N"."""
    if shard is None:
        return pathlib.Path(out_dir) / "manifest.json"
    i, n = shard.split("/") if isinstance(shard, str) else shard
    return pathlib.Path(out_dir) / ("manifest.json" if (int(i), int(n)) == (0, 1) else f"manifest.shard-{i}-of-{n}.json")


def prep(files, out_dir, *, level="1.5", jobs=0, resume=False, overwrite=False, backend="auto", precision="f64", steps=None,
         pointing_table=None, correction_table=None, calibration_version=None, aiapy_version="0.10.2", iterations=None,
         shard=None, compress="none", dry_run=False, cli=None, check=False):
    """Run `aiaccel prep` on files (paths, folders, glob patterns or "@list.txt") into out_dir and return
    its manifest (the parsed manifest.json: every input with its output, sha256, stages, failures).

    Raises PrepError with the CLI's message on bad usage/input (exit code 2). Files that fail are
    listed in the manifest (and failures.txt) and the others go on, as in the CLI; check=True raises
    PrepError for them too. cli: path of the `aiaccel` program (default: aiaccel._cli.find_cli()).
    """
    args = _args(files, out_dir, level=level, jobs=jobs, resume=resume, overwrite=overwrite, backend=backend,
                 precision=precision, steps=steps, pointing_table=pointing_table, correction_table=correction_table,
                 calibration_version=calibration_version, aiapy_version=aiapy_version, iterations=iterations, shard=shard,
                 compress=compress, dry_run=dry_run)
    proc = subprocess.run([cli or find_cli(), *args], capture_output=True, text=True)
    message = "\n".join(line for line in proc.stderr.splitlines() if line.startswith("aiaccel:")) or proc.stderr.strip()
    if proc.returncode not in (0, 1):
        raise PrepError(message or f"aiaccel prep exited with code {proc.returncode}")
    if dry_run:
        return {"dry_run": proc.stdout}
    path = manifest_path(out_dir, shard)
    if not path.is_file():
        raise PrepError(message or f"aiaccel prep wrote no manifest ({path})")
    manifest = json.loads(path.read_text())
    if proc.returncode == 1 and check:
        failed = [line for line in proc.stderr.splitlines() if line.startswith("prep: FAILED")]
        raise PrepError("\n".join([f"aiaccel prep: {len(failed)} input(s) failed:", *failed]))
    return manifest
