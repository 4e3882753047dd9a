"""The shipped wheel runs on its locked runtime dependencies alone.

The wheel is built from this checkout and installed with `--no-deps` into a clean virtual
environment that holds only the runtime packages of `uv.lock`; there every module of the
product imports, the app is built and the `kolmarket` command writes the published OpenAPI
document, while the test machinery (localstripe, pytest, hypothesis, `tests`, `bench`) is
nowhere to be found. uv takes packages from its cache first, so the test runs offline once
`make install` ran.
"""

import json
import shlex
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from services import database

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
SHIPPED = {"contracts", "pricing", "services", "migrations"}
DEV_ONLY = ("localstripe", "pytest", "hypothesis", "scipy", "tests", "bench")

CHECK = """
import importlib, importlib.util, json, pkgutil, sys
import services, services.api.app
from services.settings import Settings

modules = [
    info.name
    for package in ("contracts", "pricing", "services")
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + ".")
]
for name in modules:
    importlib.import_module(name)
app = services.api.app.create_app(Settings(jwt_secret="wheel-check-" + "x" * 40, log_format="json"))
print(json.dumps({
    "services": services.__file__,
    "modules": len(modules),
    "paths": sorted(route.path for route in app.routes),
    "schema_head": app.state.schema_head,
    "importable": {name: importlib.util.find_spec(name) is not None for name in sys.argv[1:]},
}))
"""


def _uv(*args: str | Path, cwd: Path = ROOT) -> None:
    """Run uv from its cache alone, and reach the package index only for what it lacks."""
    command = [str(UV), *map(str, args)]
    for attempt in ([*command, "--offline"], command):
        done = subprocess.run(attempt, cwd=cwd, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return
    raise AssertionError(f"{shlex.join(command)} failed:\n{done.stderr}")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _uv("build", "--wheel", "--out-dir", out, ROOT)
    (built,) = out.glob("kolmarket-*.whl")
    return built


@pytest.fixture(scope="module")
def runtime(wheel: Path) -> Iterator[Path]:
    """A virtual environment with the locked runtime dependencies and the wheel, nothing else;
    removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="kolmarket-runtime-") as folder:
        lock = Path(folder) / "pylock.toml"  # the lock's runtime packages, URLs and hashes
        _uv("export", "--frozen", "--no-dev", "--no-emit-project", "--format", "pylock.toml",
            "--output-file", lock)  # fmt: skip
        venv = Path(folder) / "venv"
        _uv("venv", "--python", sys.executable, venv)
        python = venv / "bin" / "python"
        _uv("pip", "install", "--python", python, "-r", lock)
        _uv("pip", "install", "--python", python, "--no-deps", wheel)
        yield venv


def test_wheel_ships_the_product_packages_and_no_test_machinery(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    packages = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert packages == SHIPPED
    migrations = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "migrations").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert "migrations/sql/procrastinate_3.10.0.sql" in names
    assert migrations <= names, "every migration and the data it reads ships in the wheel"


def test_installed_wheel_builds_the_app_without_dev_dependencies(runtime: Path) -> None:
    done = subprocess.run(
        [runtime / "bin" / "python", "-I", "-c", CHECK, *DEV_ONLY],
        cwd=runtime,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert Path(found["services"]).is_relative_to(runtime), "the product came from the wheel"
    assert found["modules"] > 50
    assert {"/health/live", "/v1/deals", "/v1/offers/{offer_id:uuid}/accept"} <= set(found["paths"])
    assert found["schema_head"] == database.head_revision()
    assert found["importable"] == dict.fromkeys(DEV_ONLY, False)


def test_installed_kolmarket_command_writes_the_committed_openapi_document(runtime: Path) -> None:
    written = runtime / "openapi.json"
    done = subprocess.run(
        [runtime / "bin" / "kolmarket", "openapi", written],
        cwd=runtime,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    committed = ROOT / "openapi" / "openapi.json"
    assert written.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")
