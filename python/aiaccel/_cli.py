"""Locating the `aiaccel` command-line program (the batch pipeline aiaccel.prep drives)."""
import os
import pathlib
import shutil
import sysconfig


def find_cli():
    """Path of the `aiaccel` CLI: $AIACCEL_CLI, else the build folder of the checkout this package was
    installed from or sits in ($AIACCEL_BUILD/apps/aiaccel, build/apps/aiaccel), else `aiaccel` in the
    interpreter's scripts folder or on PATH. Raises FileNotFoundError saying how to get one."""
    env = os.environ.get("AIACCEL_CLI")
    if env:
        if os.access(env, os.X_OK):
            return env
        raise FileNotFoundError(f"AIACCEL_CLI={env}: not an executable file")
    candidates = []
    if os.environ.get("AIACCEL_BUILD"):
        candidates.append(pathlib.Path(os.environ["AIACCEL_BUILD"]) / "apps" / "aiaccel")
    for root in _checkouts():
        candidates.append(root / "build" / "apps" / "aiaccel")
    candidates.append(pathlib.Path(sysconfig.get_path("scripts")) / "aiaccel")
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which("aiaccel")
    if found:
        return found
    raise FileNotFoundError("the aiaccel command-line program was not found: build it (tools/setup, or meson setup build "
                            "&& ninja -C build apps/aiaccel) or set AIACCEL_CLI to its path")


def _checkouts():
    """Source checkouts to look in: the folder holding this package's sources (an editable/in-tree
    use) and the venv's parent (tools/python-setup puts .venv in the checkout)."""
    here = pathlib.Path(__file__).resolve()
    out = [p for p in here.parents if (p / "meson.build").is_file() and (p / "apps").is_dir()]
    venv = pathlib.Path(sysconfig.get_path("data")).resolve()
    if (venv.parent / "apps").is_dir():
        out.append(venv.parent)
    return out
