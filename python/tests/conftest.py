"""Fixtures of barealloc's Python tests.

BA_TEST_SEED=<int> replays the random sessions of a run: each prints the
seed it used (pytest shows it for a failing test, or always with -s).
"""

import os
import random

import pytest

import barealloc


@pytest.fixture
def seed():
    s = int(os.environ.get("BA_TEST_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"BA_TEST_SEED={s}")
    return s


@pytest.fixture
def pool():
    with barealloc.MemoryAllocator(pool_size=1 << 20) as m:
        yield m


@pytest.fixture
def other():
    with barealloc.MemoryAllocator(pool_size=1 << 16) as m:
        yield m
