"""How the package finds its shared object, what that object exports, and
the example."""

import os
import shutil
import subprocess
import sys

import pytest

import barealloc

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(PYTHON_DIR)


def run(args, **env):
    full = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    full.pop("BAREALLOC_SO", None)
    full.update(env)
    return subprocess.run([sys.executable] + args, env=full, capture_output=True, text=True,
                          timeout=120)


def test_library_path_is_a_loaded_file():
    assert os.path.isfile(barealloc.library_path)
    assert barealloc.library_path.endswith("libbarealloc-pool.so")


def test_source_tree_object_found_without_env():
    if os.path.isfile(os.path.join(PYTHON_DIR, "barealloc", "libbarealloc-pool.so")):
        pytest.skip("a copy inside the package comes first")
    r = run(["-c", "import barealloc; print(barealloc.library_path)"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == os.path.join(ROOT, "build", "x86_64", "libbarealloc-pool.so")


def test_env_var_comes_first(tmp_path):
    copy = tmp_path / "copy.so"
    shutil.copy(barealloc.library_path, copy)
    r = run(["-c", "import barealloc; print(barealloc.library_path);"
                   "m = barealloc.MemoryAllocator(); m.free(m.allocate(128))"],
            BAREALLOC_SO=str(copy))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(copy)


def test_env_var_naming_nothing_fails_clearly(tmp_path):
    r = run(["-c", "import barealloc"], BAREALLOC_SO=str(tmp_path / "missing.so"))
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "missing.so: no such file" in r.stderr
    assert "make build/x86_64/libbarealloc-pool.so" in r.stderr


def test_exports_only_the_pool_api():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm")
    out = subprocess.run([nm, "-D", "--defined-only", barealloc.library_path],
                         capture_output=True, text=True, check=True).stdout
    names = {line.split()[-1] for line in out.splitlines() if line.strip()}
    expected = {"ba_pool_new", "ba_pool_new_in", "ba_pool_destroy", "ba_pool_reset",
                "ba_pool_malloc", "ba_pool_calloc", "ba_pool_realloc", "ba_pool_aligned_alloc",
                "ba_pool_free", "ba_pool_usable_size", "ba_pool_stats", "ba_pool_check",
                "ba_pool_error", "ba_pool_strerror", "ba_check_name"}
    assert names == expected


def test_needs_no_libc():
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("no readelf")
    out = subprocess.run([readelf, "-d", barealloc.library_path],
                         capture_output=True, text=True, check=True).stdout
    assert "NEEDED" not in out


def test_example_runs():
    r = run([os.path.join(PYTHON_DIR, "example.py"), "7"])
    assert r.returncode == 0, r.stderr
    assert "allocate(128) -> 0x" in r.stdout
    assert "caught: free(0x" in r.stdout and "double free" in r.stdout
    rows = [line for line in r.stdout.splitlines() if line.startswith("0x")]
    assert len(rows) == 16 * 4096 // 32 // 64
    assert all(len(line.split()[1]) == 64 for line in rows)
    cells = "".join(line.split()[1] for line in rows)
    assert set(cells) <= set("#+.") and "#" in cells and "." in cells
    assert r.stdout.count("<MemoryAllocator") == 2
