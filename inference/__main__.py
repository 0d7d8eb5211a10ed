"""`python -m inference fetch | package | predict | serve`: the inference image's entry point."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from inference import catalog
from inference.errors import ModelError, RequestError
from inference.manifest import Family

DEFAULT_MODEL_DIR = "/opt/ml/model"
# SageMaker injects SAGEMAKER_MULTI_MODEL=true into a multi-model endpoint's container.
# https://docs.aws.amazon.com/sagemaker/latest/dg/build-multi-model-build-container.html
MULTI_MODEL_ENV = "SAGEMAKER_MULTI_MODEL"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.command(args)
    except (ModelError, RequestError) as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2


def _fetch(args: argparse.Namespace) -> int:
    from inference.fetch import fetch

    model_dir = fetch(catalog.resolve(args.model, args.family), args.dest)
    print(model_dir)
    return 0


def _package(args: argparse.Namespace) -> int:
    from inference.artifact import package
    from inference.fetch import fetch

    model_dir = fetch(catalog.resolve(args.model, args.family), args.dest)
    print(package(model_dir, args.output))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from inference import bulk

    if args.overlay and not args.output:
        print("error: --overlay needs --output DIR", file=sys.stderr)
        return 2
    from inference.settings import MAX_PEOPLE_ENV, max_people_setting

    workers = args.workers or len(os.sched_getaffinity(0))
    max_people = args.max_people or max_people_setting(os.environ.get(MAX_PEOPLE_ENV))
    options = bulk.BulkOptions(
        tuple(args.photos), _model_dir(args), args.output, workers, args.overlay, args.force, max_people
    )
    try:
        summary = bulk.run(options)
    except bulk.UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # while looking for photos: nothing was written yet
        print("interrupted before any photo ran", file=sys.stderr)
        return 130
    # With --output the summary is the final output; without it stdout carries only the answers.
    for line in bulk.summary_lines(summary):
        print(line, file=sys.stdout if args.output else sys.stderr)
    return summary.exit_code


def _serve(args: argparse.Namespace) -> int:
    from inference.server import ServerOptions, serve

    cores = len(os.sched_getaffinity(0))
    workers = args.workers or int(os.environ.get("SAGEMAKER_MODEL_SERVER_WORKERS") or cores)
    threads = args.threads or max(1, cores // workers)
    multi_model = args.multi_model or multi_model_setting(os.environ.get(MULTI_MODEL_ENV))
    model_dir = Path(args.model_dir) if multi_model else _model_dir(args)
    serve(ServerOptions(model_dir, args.host, args.port, workers, threads, multi_model=multi_model))
    return 0


def multi_model_setting(value: str | None) -> bool:
    """SAGEMAKER_MULTI_MODEL, which SageMaker sets to "true" on a multi-model endpoint."""
    return (value or "").strip().lower() == "true"


def _model_dir(args: argparse.Namespace) -> Path:
    """`--model NAME` fetches (or reuses) a catalog model; otherwise MODEL_DIR or SageMaker's mount."""
    if args.model:
        from inference.fetch import fetch

        return fetch(catalog.resolve(args.model, args.family), args.dest)
    return Path(args.model_dir)


def _default_port() -> int:
    return int(os.environ.get("SAGEMAKER_BIND_TO_PORT") or os.environ.get("PORT") or 8080)


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _people(text: str) -> int:
    from inference import codec

    count = codec.people_count(text)
    if count is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {codec.MAX_PEOPLE_LIMIT}")
    return count


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m inference", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def model_args(command: argparse.ArgumentParser, required: bool) -> None:
        names = ", ".join(catalog.CATALOG)
        if required:
            command.add_argument("model", metavar="MODEL", help=f"{names}, or a path to a .tflite file")
        command.add_argument(
            "--family", type=Family, choices=tuple(Family), help="family of a local .tflite file"
        )
        command.add_argument("--dest", type=Path, help="model cache directory (default: POSE_MODEL_CACHE)")

    fetch = commands.add_parser("fetch", help="download and verify a model; prints its directory last")
    model_args(fetch, required=True)
    fetch.set_defaults(command=_fetch)

    package = commands.add_parser("package", help="write the SageMaker model.tar.gz")
    model_args(package, required=True)
    package.add_argument("--output", type=Path, default=Path("model.tar.gz"))
    package.set_defaults(command=_package)

    for name, handler, text in (
        ("serve", _serve, "run the HTTP server"),
        ("predict", _predict, "run photos"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--model", help="a catalog model (fetched if needed) instead of --model-dir")
        command.add_argument("--model-dir", default=os.environ.get("MODEL_DIR", DEFAULT_MODEL_DIR))
        model_args(command, required=False)
        command.set_defaults(command=handler)
        if name == "predict":
            command.add_argument("photos", nargs="+", metavar="PHOTO", help="photos, folders or globs")
    serve = commands.choices["serve"]
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=_default_port())
    serve.add_argument("--workers", type=int, help="default: SAGEMAKER_MODEL_SERVER_WORKERS or one per core")
    serve.add_argument("--threads", type=int, help="TFLite threads per worker (default: cores / workers)")
    serve.add_argument(
        "--multi-model",
        action="store_true",
        help="serve models loaded through /models, as on a multi-model endpoint (SAGEMAKER_MULTI_MODEL=true)",
    )
    predict = commands.choices["predict"]
    predict.add_argument(
        "--output", type=Path, metavar="DIR", help="write NAME.json per photo here (default: print them)"
    )
    predict.add_argument("--overlay", action="store_true", help="also NAME.overlay.jpg, the skeletons drawn")
    predict.add_argument("--force", action="store_true", help="redo photos whose results exist")
    predict.add_argument(
        "--workers", type=_at_least_one, metavar="N", help="processes (default: one per core)"
    )
    predict.add_argument(
        "--max-people",
        type=_people,
        metavar="N",
        help="the most people an answer lists, 1 to 20 (default: POSE_MAX_PEOPLE, else 5)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
