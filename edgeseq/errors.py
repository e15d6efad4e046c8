"""The two ways edgeseq refuses to go on, each with its exit code (see the CLI contract)."""


class EdgeseqError(Exception):
    """Bad usage or bad input the user can fix: the CLI prints the message on one line, exit 2."""

    exit_code = 2


class InputError(EdgeseqError):
    """An input (text, array, file) that does not fit what the model or problem expects."""


class CheckFailed(EdgeseqError):
    """A check that ran and failed (parity gate, skill not reached): exit 1."""

    exit_code = 1
