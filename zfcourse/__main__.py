"""``python -m zfcourse <command>``: the course's command line. Commands: ``train`` (see ``zfcourse.train.cli``) and
``evaluate`` (a finished run → the result files of Tables 2 and 3, see ``zfcourse.train.results``)."""
import sys


def main(argv=None) -> int:
    """Dispatch ``argv[0]`` to its command. Ctrl-C ends with exit status 130 (the command has printed how to resume)
    and a bad option or setting with status 2 and one line naming it, never a traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"train": "zfcourse.train.cli", "evaluate": "zfcourse.train.results"}
    if not argv or argv[0] not in commands:
        print(f"usage: python -m zfcourse {{{','.join(commands)}}} ... ; e.g. python -m zfcourse train --help",
              file=sys.stderr)
        return 2
    import importlib

    from .train.checkpoint import CheckpointError

    try:
        importlib.import_module(commands[argv[0]]).main(argv[1:])
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileExistsError, FileNotFoundError, CheckpointError, FloatingPointError) as err:
        print(f"python -m zfcourse {argv[0]}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
