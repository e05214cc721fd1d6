"""Small datasets and functions that spawned worker processes import by name (this module pulls
in neither torch nor the test harness, so a spawned worker starts quickly)."""
import os


def init_marks_worker(worker_id: int) -> None:
    """A worker_init_fn: records the worker's id in its environment."""
    os.environ["NUMTORCH_TEST_WORKER"] = str(worker_id)


class EnvProbe:
    """Item i is (the id init_marks_worker recorded in this worker, i)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        return int(os.environ.get("NUMTORCH_TEST_WORKER", "-1")), i
