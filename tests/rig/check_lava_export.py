#!/usr/bin/python3
"""Checks what `rig lava export` wrote with LAVA's own code (Debian's lava-common).

Usage: check_lava_export.py DIR [--device-types LAVA_TYPES] [--render-to OUT]

Every DIR/jobs/*.yaml is validated by lava_common.schemas.validate in strict mode, as
lava-server validates a submitted job. With --device-types (the directory of LAVA's own
device-type templates: base.jinja2, base-uboot.jinja2, ... from the lava-server package), every
DIR/devices/*.jinja2 is rendered as lava-server renders a device dictionary (a sandboxed Jinja2
environment over the devices, DIR/device-types and LAVA's templates; the context of the board's
job, if it has one) and the result validated by lava_common.schemas.device.validate;
--render-to writes each rendered device as OUT/BOARD.yaml, the file lava-run's --device reads.

Prints each problem as "FILE: what is wrong" and exits 1; exits 0 when everything is valid and
2 on a usage error or when lava-common is missing.
"""

import argparse
import pathlib
import sys

try:
    import jinja2.sandbox
    import voluptuous
    import yaml
    from lava_common.schemas import device as device_schema
    from lava_common.schemas import validate as validate_job
except ImportError as exc:
    print(f"check_lava_export.py: {exc}; install lava-common (scripts/setup)", file=sys.stderr)
    sys.exit(2)


def check_jobs(out, problems):
    """Validates every job; returns each board's job context for rendering its device."""
    contexts = {}
    for path in sorted((out / "jobs").glob("*.yaml")):
        try:
            job = yaml.safe_load(path.read_text(encoding="utf-8"))
            validate_job(job, strict=True)
        except (yaml.YAMLError, voluptuous.Invalid) as exc:
            problems.append(f"{path}: {exc}")
            continue
        board = job.get("metadata", {}).get("rig.board")
        if board is None:
            problems.append(f"{path}: metadata has no rig.board")
            continue
        contexts[board] = job.get("context", {})
    return contexts


def check_devices(out, lava_types, contexts, render_to, problems):
    loader = jinja2.FileSystemLoader(
        [str(out / "devices"), str(out / "device-types"), str(lava_types)])
    # The options lava-server's device environment uses.
    env = jinja2.sandbox.SandboxedEnvironment(
        loader=loader, autoescape=False, trim_blocks=True)
    for path in sorted((out / "devices").glob("*.jinja2")):
        board = path.name[: -len(".jinja2")]
        try:
            text = env.get_template(path.name).render(**contexts.get(board, {}))
            device_schema.validate(yaml.safe_load(text))
        except (jinja2.TemplateError, yaml.YAMLError, voluptuous.Invalid) as exc:
            problems.append(f"{path}: {type(exc).__name__}: {exc}")
            continue
        if render_to is not None:
            render_to.mkdir(parents=True, exist_ok=True)
            (render_to / f"{board}.yaml").write_text(text, encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description="Check rig lava export's files with LAVA.")
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--device-types", type=pathlib.Path)
    parser.add_argument("--render-to", type=pathlib.Path)
    args = parser.parse_args()
    if not (args.out / "devices").is_dir():
        print(f"check_lava_export.py: {args.out} holds no devices/", file=sys.stderr)
        return 2
    if args.device_types is not None and not (args.device_types / "base.jinja2").is_file():
        print(f"check_lava_export.py: {args.device_types} has no base.jinja2", file=sys.stderr)
        return 2
    problems = []
    contexts = check_jobs(args.out, problems)
    if args.device_types is not None:
        check_devices(args.out, args.device_types, contexts, args.render_to, problems)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
