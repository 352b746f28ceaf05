"""engine/jobs/chunk_writer.py: a sweep's chunks written on one background thread, in order, boundedly.

A chunk counts as done only once its files are written; a write's error is raised when its chunk comes
up; Ctrl-C lets the chunks handed over finish writing and counts them."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from engine.jobs.chunk_writer import ChunkWriter
from engine.jobs.sweep import _save_chunks
from engine.store.chunk_assembly import ChunkAssembly
from engine.sweep import ChunkResult


def _result(number: int) -> ChunkResult:
    index = np.array([2 * number, 2 * number + 1])
    table = pd.DataFrame({"sharpe": [0.1 * number, 0.2 * number]})
    blocks = np.full((3, 2), float(number))
    return ChunkResult(index=index, table=table, block_sum=blocks, block_sq=blocks**2, block_n=np.full(3, 5.0))


def _rows(number: int, result: ChunkResult) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"combo": result.index}), result.table], axis=1)


def test_chunks_come_back_in_order_once_each_after_their_write() -> None:
    wrote: list[tuple[int, str]] = []

    def write(number: int, result: ChunkResult) -> pd.DataFrame:
        time.sleep(0.01 * (number % 3))  # uneven writes
        wrote.append((number, threading.current_thread().name))
        return _rows(number, result)

    back = []
    with ChunkWriter(write, ahead=2) as writer:
        for number in range(9):
            for chunk in writer.put(number, _result(number)):
                assert chunk.number in {n for n, _ in wrote}  # its write had finished
                back.append(chunk)
        back += writer.drain()
    assert [c.number for c in back] == list(range(9))
    assert [n for n, _ in wrote] == list(range(9))  # one thread, in the order handed over
    assert all(name.startswith("seesaw-chunk-writer") for _, name in wrote)
    pd.testing.assert_frame_equal(back[4].rows, _rows(4, _result(4)))


def test_the_main_thread_waits_only_when_ahead_chunks_are_unwritten() -> None:
    gate = threading.Event()

    def write(number: int, result: ChunkResult) -> pd.DataFrame:
        gate.wait(5)
        return _rows(number, result)

    with ChunkWriter(write, ahead=3) as writer:
        start = time.perf_counter()
        assert [writer.put(n, _result(n)) for n in range(3)] == [[], [], []]  # three waiting: no wait
        assert time.perf_counter() - start < 1.0
        threading.Timer(0.2, gate.set).start()
        out = writer.put(3, _result(3))  # a fourth: waits for the oldest
        assert time.perf_counter() - start >= 0.2
        assert [c.number for c in out][:1] == [0]
        assert [c.number for c in out + writer.drain()] == [0, 1, 2, 3]


def test_a_failed_write_is_raised_when_its_chunk_comes_up_and_later_chunks_still_write() -> None:
    wrote, gate = [], threading.Event()

    def write(number: int, result: ChunkResult) -> pd.DataFrame:
        if number == 1:
            gate.wait(5)
            raise OSError(28, "No space left on device")
        wrote.append(number)
        return _rows(number, result)

    writer = ChunkWriter(write, ahead=1)
    with writer:
        assert [c.number for c in writer.put(0, _result(0)) + writer.drain()] == [0]
        assert writer.put(1, _result(1)) == []  # still writing
        gate.set()
        with pytest.raises(OSError, match="No space left"):
            writer.put(2, _result(2))  # two unwritten: waits for chunk 1, whose write failed
        assert [c.number for c in writer.drain()] == [2]
    assert wrote == [0, 2]


def test_a_stopped_sweep_counts_every_chunk_handed_over_once_written() -> None:
    def evaluated():
        for number in range(3):
            yield number, _result(number)
        raise KeyboardInterrupt

    def slow_write(number: int, result: ChunkResult) -> pd.DataFrame:
        time.sleep(0.05)
        return _rows(number, result)

    assembly, done, counted = ChunkAssembly(6, 3), set(), []
    assert _save_chunks(evaluated(), slow_write, assembly, done, counted.append) is False
    assert done == {0, 1, 2} and counted == [2, 2, 2]
    assert assembly.filled.all()
    np.testing.assert_array_equal(assembly.blocks["sum"][0], [0, 0, 1, 1, 2, 2])
    finished = _save_chunks(iter([(0, _result(0))]), slow_write, ChunkAssembly(6, 3), set(), counted.append)
    assert finished is True


def test_ahead_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ahead"):
        ChunkWriter(lambda number, result: pd.DataFrame(), ahead=0)
