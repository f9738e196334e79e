*** Settings ***
Documentation    The producer: a Robot Framework robot that splits each batch of orders
...              (an input work item) into one work item per order, with the order's
...              lines as a file. A batch without orders is an application exception.
...              The file name starts with an underscore so that `robot examples/` does
...              not run it as an example: the emulator runs it as a step.

Library          OrderItems.py


*** Tasks ***
Split Batches Into Orders
    WHILE    True
        Split One Batch
        ${more} =    Reserve Next Input
        IF    not ${more}    BREAK
    END


*** Keywords ***
Split One Batch
    ${batch} =    Get Input Payload
    IF    not $batch.get("orders")
        Log To Console    Batch ${batch}[batch] has no orders.
        Release Input As Failed    NO_ORDERS    Batch ${batch}[batch] has no orders.
        RETURN
    END
    FOR    ${order}    IN    @{batch}[orders]
        Create Order Work Item    ${order}
        Log To Console    Order ${order}[order] made.
    END
    Release Input As Done
