"""Work item keywords of the producer, over robocorp-workitems (the library Control Room
robots use in Python): the same code reads and writes work items in Control Room and under
the emulator."""

from pathlib import Path
from tempfile import mkdtemp
from typing import Any

from robocorp import workitems
from robocorp.workitems import EmptyQueue


def get_input_payload() -> Any:
    """The payload of the input work item in hand (the first is reserved at start)."""
    return workitems.inputs.current.payload


def create_order_work_item(order: dict) -> None:
    """An output work item for one order: its payload and the order's lines as a file."""
    path = Path(mkdtemp(prefix="producer-"), "order.txt")
    path.write_text(order["lines"], encoding="utf-8")
    payload = {"order": order["order"], "customer": order.get("customer")}
    workitems.outputs.create(payload, files=[path])


def release_input_as_done() -> None:
    workitems.inputs.current.done()


def release_input_as_failed(code: str, message: str) -> None:
    """An application exception: something went wrong that a retry may fix."""
    workitems.inputs.current.fail("APPLICATION", code=code, message=message)


def reserve_next_input() -> bool:
    """Take the next input work item; False when there is none left."""
    try:
        workitems.inputs.reserve()
    except EmptyQueue:
        return False
    return True
