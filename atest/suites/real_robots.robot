*** Settings ***
Documentation     Steps that are real robots: a private emulator (started with
...               allow_commands=True) runs the child robots of atest/robots as the steps of
...               its processes. They read and write their work items with robocorp-workitems,
...               unmodified; the library sees what they did through /api/v1.

Library           OperatingSystem
Resource          private_emulator.resource

Suite Setup       Start The Emulator That Runs Commands
Suite Teardown    Private.Stop Emulator


*** Variables ***
${ROBOTS}        ${CURDIR}/../robots
${WAIT}          2 minutes
# Set by the suite setup; declared for `robot --dryrun` and RobotCode.
${ORDER FILE}    ${None}


*** Test Cases ***
Payloads and files flow from one step to the next
    Define Robot Process    chain    echo    echo
    ${item} =    Create Input Work Item    chain    {"order": 7}    files=${ORDER FILE}
    ${run} =    Start Process Run And Wait    chain    work_item_ids=${{[$item]}}    timeout=${WAIT}
    Should Be Equal    ${run.state}    completed
    ${outputs} =    List Process Run Outputs    ${run.id}
    Length Should Be    ${outputs}    1
    Should Be Equal    ${outputs}[0][payload]    ${{{"order": 7, "steps": 2}}}
    ${paths} =    Download Process Run Output Files    ${run.id}    ${OUTPUT DIR}/chain
    ${content} =    Get File    ${paths}[0]
    Should Be Equal    ${content}    2 x widget\n
    ${step runs} =    List Step Runs    ${run.id}
    Should Be Equal    ${{[s.step.name for s in $step_runs]}}    ${{["Step 1", "Step 2"]}}
    Should Be Equal    ${{[s.state for s in $step_runs]}}    ${{["completed", "completed"]}}
    ${console} =    List Step Run Console Messages    ${step runs}[1][id]
    Should Contain    ${{[m.message for m in $console]}}    Echoed {'order': 7, 'steps': 2}
    ${artifacts} =    List Step Run Artifacts    ${step runs}[1][id]
    Should Contain    ${{[a.name for a in $artifacts]}}    log.html

Business and application exceptions, crashes and exits fail their own items
    Define Robot Process    failing    fail_by_payload
    ${payloads} =    Create List
    ...    ${{{"fail": "business", "code": "NO_CUSTOMER", "message": "Order 1 has no customer."}}}
    ...    ${{{"fail": "application", "code": "ERP_DOWN", "message": "The ERP did not answer."}}}
    ...    ${{{"fail": "crash", "message": "The portal changed."}}}
    ...    ${{{"fail": "exit", "code": 3}}}
    ...    ${{{"order": 5}}}
    ${run} =    Start Process Run And Wait    failing    payloads=${payloads}    timeout=${WAIT}
    ...    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved
    ${items} =    List Work Items    process_run_id=${run.id}
    ${step runs} =    List Step Runs    ${run.id}
    Item Should Have Failed With    ${items}[0]    business    NO_CUSTOMER    Order 1 has no customer.
    Item Should Have Failed With    ${items}[1]    application    ERP_DOWN    The ERP did not answer.
    Item Should Have Failed With    ${items}[2]    application    ${EMPTY}    The portal changed.
    # The crash and the exit end their step runs; the items left get new ones.
    Should Be Equal    ${{[(s.state, s.error) for s in $step_runs]}}
    ...    ${{[("failed", {"code": "ROBOT_FAILED"}), ("failed", {"code": "ROBOT_FAILED"}), ("completed", None)]}}
    Item Should Have Failed With    ${items}[3]    application    ROBOT_FAILED
    ...    The command of step run ${step runs}[1][id] exited with code 3 before it released this work item.
    Should Be Equal    ${{($items[4].state, $items[4].exception)}}    ${{("done", None)}}

A retried item runs in a new step run and its fixed payload passes
    Define Robot Process    fixable    fail_by_payload
    ${run} =    Start Process Run And Wait    fixable
    ...    payloads=${{[{"fail": "business", "code": "NO_CUSTOMER", "message": "No customer."}]}}
    ...    timeout=${WAIT}    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved
    ${failed} =    List Work Items    process_run_id=${run.id}    state=failed
    Update Work Item Payload    ${failed}[0][id]    {"order": 1, "customer": "Ann"}
    Retry Work Items    ${{[$failed[0].id]}}
    ${run} =    Wait Until Process Run Completes    ${run.id}    timeout=${WAIT}
    Should Be Equal    ${run.state}    completed
    ${step runs} =    List Step Runs    ${run.id}
    Should Be Equal    ${{[s.state for s in $step_runs]}}    ${{["completed", "completed"]}}
    ${item} =    Get Work Item    ${failed}[0][id]
    Should Be Equal    ${item.step_run.id}    ${step runs}[1][id]

The robots survive faults on the worker-side paths
    Define Robot Process    faulty    echo
    Private.Clear Request Log
    Private.Inject Fault    503    path=/release-work-item$    times=1
    Private.Inject Fault    500    path=/workitems/[^/]+/data$    times=1
    Private.Inject Fault    429    path=/output$    times=1
    ${run} =    Start Process Run And Wait    faulty    payload={"order": 9}    timeout=${WAIT}
    Should Be Equal    ${run.state}    completed
    Statuses Should Be    POST    /release-work-item$    503    200
    Statuses Should Be    POST    /output$    429    200
    ${outputs} =    List Process Run Outputs    ${run.id}
    Should Be Equal    ${outputs}[0][payload]    ${{{"order": 9, "steps": 1}}}
    [Teardown]    Private.Clear Faults

A child robot uses ProcessRunLibrary through RC_API_URL_V1
    ${key file} =    Set Variable    ${OUTPUT DIR}/child-key.txt
    Evaluate    pathlib.Path($key_file).write_text($API_KEY, encoding="utf-8")    modules=pathlib
    ${python} =    Evaluate    sys.executable    modules=sys
    ${command} =    Create List    ${python}    -m    robot    --outputdir    \%{ROBOT_ARTIFACTS}
    ...    --console    none    v1_child.robot
    ${env} =    Create Dictionary    CHILD_API_KEY_FILE=${key file}
    ${step} =    Create Dictionary    name=Ask    command=${command}    cwd=${ROBOTS}    env=${env}
    Private.Define Process    asking    steps=${{[$step]}}
    ${run} =    Start Process Run And Wait    asking    payload={"question": "mine?"}    timeout=${WAIT}
    Remove File    ${key file}
    ${step runs} =    List Step Runs    ${run.id}
    ${paths} =    Download Step Run Artifacts    ${step runs}[0][id]    ${OUTPUT DIR}/asking
    ...    pattern=seen.txt
    ${seen} =    Get File    ${paths}[0]
    Should Be Equal    ${seen}    in_progress ${step runs}[0][id] in_progress mine?

Stop with terminate ends the robot at once
    Define Robot Process    stoppable    slow
    ${id} =    Start Process Run    stoppable    payloads=${{[{"seconds": 600}, {"seconds": 600}]}}
    Wait Until Keyword Succeeds    60 s    0.2 s    A Step Run Should Be In Progress    ${id}
    Stop Process Run    ${id}    terminate_ongoing_activity_runs=True    reason=Enough.
    ${run} =    Wait Until Process Run Completes    ${id}    timeout=30 s    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved
    ${items} =    List Work Items    process_run_id=${id}
    FOR    ${item}    IN    @{items}
        Item Should Have Failed With    ${item}    orchestrator    PROCESS_RUN_STOPPED
        ...    The process run was stopped: Enough.
    END
    ${step runs} =    List Step Runs    ${id}
    Should Be Equal    ${step runs}[0][error]    ${{{"code": "PROCESS_RUN_STOPPED"}}}

A graceful stop lets the robot finish the item in hand
    Define Robot Process    graceful    slow
    ${id} =    Start Process Run    graceful    payloads=${{[{"seconds": 2}, {"seconds": 600}]}}
    Wait Until Keyword Succeeds    60 s    0.2 s    A Step Run Should Be In Progress    ${id}
    Stop Process Run    ${id}    set_remaining_work_items_as_done=True
    ${run} =    Wait Until Process Run Completes    ${id}    timeout=60 s
    Should Be Equal    ${run.state}    completed
    ${step runs} =    List Step Runs    ${id}
    Should Be Equal    ${{[s.state for s in $step_runs]}}    ${{["completed"]}}
    ${console} =    List Step Run Console Messages    ${step runs}[0][id]
    Should Not Contain    ${{[m.message for m in $console]}}    Working on {'seconds': 600}

Define Process refuses a command step without allow_commands
    Run Keyword And Expect Error
    ...    *Process 'sneaky' has steps with a 'command': the emulator runs commands defined through the admin API only when started with --allow-commands (Start Emulator${SPACE}${SPACE}allow_commands=True).
    ...    Emulator.Define Process    sneaky    steps=[{"name": "S", "command": ["echo", "hi"]}]


*** Keywords ***
Start The Emulator That Runs Commands
    ${found} =    Evaluate    importlib.util.find_spec("robocorp.workitems") is not None
    ...    modules=importlib.util
    Skip If    not ${found}    The child robots need robocorp-workitems (the test dependency group).
    ${url} =    Private.Start Emulator    ${WORKSPACE_ID}    ${API_KEY}    allow_commands=True
    Create Control Room Session    private    api_url=${url}
    ${file} =    Set Variable    ${OUTPUT DIR}/order.txt
    Create File    ${file}    2 x widget\n
    Set Suite Variable    ${ORDER FILE}    ${file}

A Step Run Should Be In Progress
    [Arguments]    ${process_run_id}
    ${step runs} =    List Step Runs    ${process_run_id}
    Should Be Equal    ${step runs}[0][state]    in_progress

Item Should Have Failed With
    [Arguments]    ${item}    ${type}    ${code}    ${message}
    Should Be Equal    ${item.state}    failed
    Should Be Equal    ${item.exception}    ${{{"type": $type, "code": $code, "message": $message}}}

Define Robot Process
    [Documentation]    A process whose steps run the tasks of atest/robots/tasks.py, in order.
    [Arguments]    ${process_id}    @{tasks}
    ${python} =    Evaluate    sys.executable    modules=sys
    ${steps} =    Create List
    FOR    ${index}    ${name}    IN ENUMERATE    @{tasks}    start=1
        ${command} =    Create List    ${python}    -m    robocorp.tasks    run    tasks.py    -t    ${name}
        ...    --output-dir    \%{ROBOT_ARTIFACTS}
        ${step} =    Create Dictionary    name=Step ${index}    command=${command}    cwd=${ROBOTS}
        Append To List    ${steps}    ${step}
    END
    Private.Define Process    ${process_id}    steps=${steps}
