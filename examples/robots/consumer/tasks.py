"""The consumer: a Python task (robocorp-tasks and robocorp-workitems) that reads each order
the producer made, with its file, and writes a receipt as an output with a file. An order
without a customer is a business exception: that item fails, the others go on."""

import os
import tempfile
from pathlib import Path

from robocorp import workitems
from robocorp.tasks import task


@task
def write_receipts() -> None:
    folder = Path(tempfile.mkdtemp(prefix="consumer-"))
    for item in workitems.inputs:
        order = item.payload
        if not order.get("customer"):
            item.fail(
                "BUSINESS",
                code="NO_CUSTOMER",
                message=f"Order {order.get('order')} has no customer.",
            )
            continue
        lines = item.get_file("order.txt", folder / "order.txt").read_text(encoding="utf-8")
        print(f"Receipt for order {order['order']}: {lines.strip()}")
        receipt = folder / f"receipt-{order['order']}.txt"
        receipt.write_text(f"Receipt {order['order']} for {order['customer']}\n{lines}")
        workitems.outputs.create({"receipt": order["order"]}, files=[receipt])
        item.done()
    # Control Room keeps what a run leaves in ROBOT_ARTIFACTS: so does the emulator.
    summary = Path(os.environ.get("ROBOT_ARTIFACTS", folder)) / "receipts.txt"
    summary.write_text("\n".join(p.name for p in sorted(folder.glob("receipt-*"))) + "\n")
