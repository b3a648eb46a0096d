"""Training checkpoints: a run killed (SIGKILL, in a subprocess) and resumed ends bitwise identical."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from spectra.empirical.network import MLP
from spectra.empirical.training import SGD, Adam, train

N_STEPS = 150
# one definition of the run, shared by this process and the subprocess that gets killed
SETUP = textwrap.dedent("""
    import numpy as np
    from spectra.empirical.network import MLP
    from spectra.empirical.training import SGD, Adam, train

    OPTS = {"gd": (lambda: "gd", None), "sgd": (lambda: SGD(momentum=0.9), 4), "adam": (lambda: Adam(), 5)}

    def run(kind, n_steps, **kw):
        X = np.random.default_rng(0).standard_normal((16, 3))
        y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
        make_opt, batch = OPTS[kind]
        return train(MLP(3, 16, 2, seed=1), X, y, n_steps=n_steps, lr=0.02, optimizer=make_opt(),
                     batch_size=batch, seed=7, record=("loss", "ntk", "weights"),
                     record_steps=[s for s in (0, 1, 10, 40, 100) if s < n_steps] + [n_steps], **kw)
""")
exec(SETUP)  # defines run(kind, n_steps, **kw) here too


def _same(a, b):
    assert np.array_equal(a.steps, b.steps)
    assert np.array_equal(a.loss_history, b.loss_history) and np.array_equal(a.lr_history, b.lr_history)
    assert np.array_equal(a.train_loss, b.train_loss) and np.array_equal(a.ntk_train, b.ntk_train)
    assert a.weights.keys() == b.weights.keys()
    for k in a.weights:
        assert np.array_equal(a.weights[k], b.weights[k]), k  # bitwise, every snapshot incl. the final one


def _checkpoint_step(path):
    import json

    with np.load(path) as z:
        return json.loads(str(z["__meta__"]))["step"]


@pytest.mark.parametrize("kind", ["gd", "sgd", "adam"])
def test_sigkill_and_resume_gives_the_same_weights(tmp_path, kind):
    ref = run(kind, N_STEPS)
    ckpt = tmp_path / "ckpt.npz"
    script = SETUP + textwrap.dedent(f"""
        import time
        import spectra.empirical.training.loop as L

        # slow every update down a little (1.5 s in all) so that the kill lands mid-run
        due = L.Checkpointer.due
        L.Checkpointer.due = lambda self, done, n: time.sleep(0.01) or due(self, done, n)
        run({kind!r}, {N_STEPS}, checkpoint_path={str(ckpt)!r}, checkpoint_every=5)
    """)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        t0 = time.monotonic()
        while not ckpt.exists():
            assert proc.poll() is None, "the training subprocess ended before its first checkpoint"
            assert time.monotonic() - t0 < 60
            time.sleep(0.01)
        time.sleep(0.05 + 0.25 * np.random.default_rng(len(kind)).random())  # a moment after the first one
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    step = _checkpoint_step(ckpt)
    assert 0 < step < N_STEPS, step  # killed mid-run
    resumed = run(kind, N_STEPS, checkpoint_path=ckpt, checkpoint_every=5, resume=True)
    _same(ref, resumed)
    assert _checkpoint_step(ckpt) == N_STEPS


def test_resume_in_process_after_an_exception_and_of_a_finished_run(tmp_path):
    ref = run("sgd", N_STEPS)
    ckpt = tmp_path / "c.npz"

    class Stop(Exception):
        pass

    def stop(step, net, info):
        if step == 100:
            raise Stop

    with pytest.raises(Stop):
        run("sgd", N_STEPS, checkpoint_path=ckpt, checkpoint_every=7, callbacks=[stop])
    assert _checkpoint_step(ckpt) == 98
    _same(ref, run("sgd", N_STEPS, checkpoint_path=ckpt, checkpoint_every=7, resume=True))
    # resuming a finished run rebuilds it without training; resume=<path> works without checkpoint_path
    _same(ref, run("sgd", N_STEPS, resume=ckpt))
    # resume=True without a checkpoint file starts afresh
    _same(ref, run("sgd", N_STEPS, checkpoint_path=tmp_path / "new.npz", resume=True))
    assert _checkpoint_step(tmp_path / "new.npz") == N_STEPS


def test_checkpoint_of_another_run_or_corrupted_is_refused(tmp_path):
    ckpt = tmp_path / "c.npz"
    run("adam", 20, checkpoint_path=ckpt, checkpoint_every=5)
    with pytest.raises(ValueError, match="c.npz: this checkpoint belongs to another training call"):
        run("adam", 21, resume=ckpt)  # other n_steps
    with pytest.raises(ValueError, match="another training call"):
        run("sgd", 20, resume=ckpt)  # other optimizer
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="another training call"):
        train(MLP(3, 16, 2, seed=1), X, X[:, 0], n_steps=20, lr=0.02, optimizer=Adam(), resume=ckpt)
    raw = ckpt.read_bytes()
    for name, content in {"trunc.npz": raw[: len(raw) // 2], "empty.npz": b"", "junk.npz": b"junk" * 10}.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=name):
            run("adam", 20, resume=tmp_path / name)
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        run("adam", 20, resume=tmp_path / "missing.npz")


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(checkpoint_every=5), ValueError, "checkpoint_every needs checkpoint_path"),
    (dict(resume=True), ValueError, "resume=True needs checkpoint_path"),
    (dict(checkpoint_path="x.npz", checkpoint_every=0), ValueError, "checkpoint_every"),
    (dict(resume=3), TypeError, "resume must be"),
])
def test_checkpoint_argument_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        run("gd", 10, **kwargs)


def test_stale_temp_file_of_a_killed_checkpoint_write_is_removed(tmp_path):
    ckpt = tmp_path / "c.npz"
    stale = tmp_path / ".tmp-0123456789ab-c.npz"
    other = tmp_path / ".tmp-0123456789ab-other.npz"
    stale.write_bytes(b"half a checkpoint")
    other.write_bytes(b"someone else's")
    run("gd", 10, checkpoint_path=ckpt, checkpoint_every=5)
    assert not stale.exists() and other.exists()


def test_save_refuses_a_run_that_load_would_refuse(tmp_path):
    r = run("gd", 10)
    r.train_loss = r.train_loss[:-1]
    with pytest.raises(ValueError, match="bad.npz: mis-shaped array"):
        r.save(tmp_path / "bad.npz")
    assert not os.listdir(tmp_path)
