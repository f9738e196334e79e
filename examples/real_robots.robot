*** Settings ***
Documentation     A local Control Room: the emulator runs the real robots of robots/ as the
...               two steps of one process, as Control Room would. The producer (Robot
...               Framework) splits batches of orders into work items with files; the
...               consumer (a Python task) writes a receipt for each, and fails an order
...               without a customer with a business exception. The suite fixes that order,
...               retries it, reads the outputs and keeps the producer's own log.
...
...               The robots need robocorp-workitems (`pip install robocorp-workitems`, or
...               the `test` dependency group); without it this suite is skipped.
...
...               Against Control Room: deploy robots/producer and robots/consumer as the
...               two steps of process `orders`, import ProcessRunLibrary with your
...               workspace and key, and drop the emulator: the test cases stay as they are.

Library           ProcessRunLibrary    workspace_id=example-workspace    api_key=${API KEY}
Library           ProcessRunLibrary.Emulator

Suite Setup       Start The Emulator With The Real Robots
Suite Teardown    Stop Emulator


*** Variables ***
${API KEY}    example-key-not-a-secret
# Two batches of orders, the run's work items (values on several lines are joined by a space).
${BATCHES}    [{"batch": 1, "orders": [{"order": 1, "customer": "Ann", "lines": "2 x widget"},
...           {"order": 2, "customer": null, "lines": "1 x gadget"}]},
...           {"batch": 2, "orders": [{"order": 3, "customer": "Bob", "lines": "5 x bolt"}]}]


*** Test Cases ***
Orders are produced, consumed, fixed and retried
    ${run} =    Start Process Run And Wait    orders    payloads=${BATCHES}
    ...    timeout=3 minutes    poll_interval=0.5 s    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved
    ${failed} =    List Work Items    process_run_id=${run.id}    state=failed
    Length Should Be    ${failed}    1
    Should Be Equal    ${failed}[0][exception][message]    Order 2 has no customer.
    Update Work Item Payload    ${failed}[0][id]    {"order": 2, "customer": "Cecilia"}
    Retry Work Items    ${{[$failed[0].id]}}
    ${run} =    Wait Until Process Run Completes    ${run.id}    timeout=3 minutes    poll_interval=0.5 s
    Should Be Equal    ${run.state}    completed
    ${outputs} =    List Process Run Outputs    ${run.id}
    ${receipts} =    Evaluate    sorted(output["payload"]["receipt"] for output in $outputs)
    Should Be Equal    ${receipts}    ${{[1, 2, 3]}}
    Download Process Run Output Files    ${run.id}    ${OUTPUT DIR}/receipts

The producer's own log is kept with the run
    ${run} =    Start Process Run And Wait    orders    payloads=${BATCHES}
    ...    timeout=3 minutes    poll_interval=0.5 s    fail_on_unresolved=False
    ${step runs} =    List Step Runs    ${run.id}
    Should Be Equal    ${step runs}[0][step][name]    Produce orders
    ${console} =    List Step Run Console Messages    ${step runs}[0][id]
    Should Contain    ${{[m.message for m in $console]}}    Order 3 made.
    Download Step Run Artifacts    ${step runs}[0][id]    ${OUTPUT DIR}/producer    pattern=log.html
    Log    <a href="producer/log.html">The producer's own log</a>    html=True


*** Keywords ***
Start The Emulator With The Real Robots
    ${found} =    Evaluate    importlib.util.find_spec("robocorp.workitems") is not None
    ...    modules=importlib.util
    Skip If    not ${found}    The robots need robocorp-workitems: pip install robocorp-workitems
    ${url} =    Start Emulator    example-workspace    ${API KEY}    allow_commands=True
    Create Control Room Session    emulator    api_url=${url}
    ${python} =    Evaluate    sys.executable    modules=sys
    # %{ROBOT_ARTIFACTS} is the step run's own: the emulator fills it in, not Robot.
    ${producer} =    Create List    ${python}    -m    robot    --outputdir    \%{ROBOT_ARTIFACTS}
    ...    --console    quiet    _producer.robot
    ${consumer} =    Create List    ${python}    -m    robocorp.tasks    run    tasks.py
    ...    --output-dir    \%{ROBOT_ARTIFACTS}
    ${steps} =    Create List
    ...    ${{{"name": "Produce orders", "command": $producer, "cwd": r"${CURDIR}/robots/producer"}}}
    ...    ${{{"name": "Write receipts", "command": $consumer, "cwd": r"${CURDIR}/robots/consumer"}}}
    Define Process    orders    name=Orders    steps=${steps}
