"""``python -m tests.faulty_toolkit ARGS``: the ``toolkit`` command line with the test fault hooks
that the ``TOOLKIT_TEST_*`` variables ask for installed (see ``tests/faults.py``).

The toolkit itself reads no test setting: this launcher, which only the tests run, turns
the variables into hooks and calls the same entry point as ``python -m toolkit``. Run it
through ``tests.faults.command``, which puts the repository on PYTHONPATH.
"""

from __future__ import annotations

from tests.faults import from_environment
from toolkit.cli import main
from toolkit.hooks import installed


def run() -> None:
    with installed(from_environment()):
        main()


if __name__ == "__main__":
    run()
