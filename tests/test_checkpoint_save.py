"""chaingrad.save: a crash or an error mid-save keeps the old checkpoint, and tensors are streamed
to the file instead of being gathered into one big bytes object first."""

from __future__ import annotations

import builtins
import io
import os
import stat
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import chaingrad as cg
from faulty_files import FullDisk, opener

CHAINGRAD = os.path.dirname(os.path.dirname(cg.__file__))  # the chaingrad under test, for subprocesses


def test_failed_save_keeps_the_old_checkpoint_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "m.ckpt"
    cg.save({"w": cg.ones(4)}, str(path))
    full_disk_open = opener(lambda f: FullDisk(f, 2**20))
    monkeypatch.setattr(io, "open", full_disk_open)
    monkeypatch.setattr(builtins, "open", full_disk_open)
    with pytest.raises(OSError, match="No space left"):
        cg.save({"w": cg.zeros(2**20)}, str(path))  # 4 MiB: fails a quarter of the way in
    monkeypatch.undo()
    assert cg.load(str(path))["w"].tolist() == [1.0] * 4
    assert os.listdir(tmp_path) == ["m.ckpt"]


def test_killed_save_keeps_the_old_checkpoint(tmp_path):
    path = tmp_path / "m.ckpt"
    cg.save({"w": cg.ones(4)}, str(path))
    # the child writes the first bytes of the new checkpoint, says so, and waits to be killed
    script = textwrap.dedent(f"""
        import builtins, io
        import chaingrad as cg
        from faulty_files import Stalling, opener

        io.open = builtins.open = opener(Stalling)
        cg.save({{"w": cg.zeros(2**20)}}, {str(path)!r})
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([CHAINGRAD, os.path.dirname(__file__)]))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, text=True)
    try:
        # (an editable install may print its rebuild check first)
        assert "writing\n" in iter(child.stdout.readline, "")
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert cg.load(str(path))["w"].tolist() == [1.0] * 4
    # a killed process cannot clean up: what it leaves is a hidden temporary file, never the target
    assert all(name == "m.ckpt" or (name.startswith(".m.ckpt.") and name.endswith(".tmp"))
               for name in os.listdir(tmp_path))


def test_save_streams_tensors_to_the_file(tmp_path):
    tensors = {"a": cg.from_numpy(np.ones(2**23, np.float32)), "b": cg.from_numpy(np.ones(2**23, np.float32))}
    tracemalloc.start()
    try:
        cg.save(tensors, str(tmp_path / "big.ckpt"))  # 64 MiB of tensors
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**22, f"save of 64 MiB of tensors allocated {peak} bytes on the way"
    assert cg.load(str(tmp_path / "big.ckpt"))["b"].sum().item() == 2**23


def test_file_objects_and_unseekable_streams(tmp_path):
    obj = {"w": cg.arange(6.0).reshape(2, 3).t(), "n": 3}
    path = tmp_path / "m.ckpt"
    with open(path, "wb") as fh:
        cg.save(obj, fh)
    with open(path, "rb") as fh:
        assert cg.load(fh)["w"].tolist() == obj["w"].tolist()

    class ReadOnly:
        def __init__(self, data):
            self._data = data

        def read(self, n=-1):
            data, self._data = self._data, b""
            return data

    assert cg.load(ReadOnly(path.read_bytes()))["n"] == 3
    buf = io.BytesIO(b"prefix")
    buf.seek(0, io.SEEK_END)
    cg.save(obj, buf)
    buf.seek(6)
    assert cg.load(buf)["w"].tolist() == obj["w"].tolist()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and symlinks")
def test_overwriting_keeps_permissions_and_symlinks(tmp_path):
    real = tmp_path / "real.ckpt"
    cg.save(cg.ones(1), str(real))
    os.chmod(real, 0o640)
    link = tmp_path / "link.ckpt"
    link.symlink_to(real)
    cg.save(cg.zeros(2), link)
    assert link.is_symlink() and cg.load(str(real)).tolist() == [0.0, 0.0]
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640
