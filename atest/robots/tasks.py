"""Child robots of atest/suites/real_robots.robot: Python tasks (robocorp-tasks) that read
and write their work items with robocorp-workitems, unmodified, as in Control Room. The
emulator runs one with `python -m robocorp.tasks run tasks.py -t <task>`."""

import os
import tempfile
import time
from pathlib import Path

from robocorp import workitems
from robocorp.tasks import task
from robocorp.workitems import ApplicationException, BusinessException


@task
def echo() -> None:
    """Each input becomes an output: its payload with `steps` counting the steps it went
    through, and its files."""
    folder = Path(tempfile.mkdtemp(prefix="echo-"))
    for item in workitems.inputs:
        payload = dict(item.payload)
        payload["steps"] = payload.get("steps", 0) + 1
        files = [item.get_file(name, folder / name) for name in item.files]
        workitems.outputs.create(payload, files=files)
        print(f"Echoed {payload}", flush=True)


@task
def fail_by_payload() -> None:
    """What the payload asks: a business or application exception, a crash of the robot,
    an exit without releasing; else done."""
    for item in workitems.inputs:
        # `with item`: an exception fails the item (a business or application exception
        # then goes on with the next one; any other ends the robot).
        with item:
            order = item.payload
            what = order.get("fail")
            if what == "business":
                raise BusinessException(code=order["code"], message=order["message"])
            if what == "application":
                raise ApplicationException(code=order["code"], message=order["message"])
            if what == "crash":
                raise RuntimeError(order["message"])
            if what == "exit":
                os._exit(order["code"])  # the item is never released
            print(f"Processed {order}", flush=True)


@task
def slow() -> None:
    """Each item takes the payload's `seconds`."""
    for item in workitems.inputs:
        with item:
            print(f"Working on {item.payload}", flush=True)
            time.sleep(item.payload["seconds"])
