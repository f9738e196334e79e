*** Settings ***
Documentation     Steps that are Robot Framework robots using rpaframework's
...               RPA.Robocorp.WorkItems (atest/robots/rpa_child.robot), unmodified. Skipped
...               where rpaframework is not installed: it is large, so it has an environment
...               of its own (`nox -s rpaframework`).

Library           OperatingSystem
Resource          private_emulator.resource

Suite Setup       Start The Emulator For RPA Robots
Suite Teardown    Private.Stop Emulator


*** Variables ***
${ROBOTS}        ${CURDIR}/../robots
${WAIT}          2 minutes
# Set by the suite setup; declared for `robot --dryrun` and RobotCode.
${ORDER FILE}    ${None}


*** Test Cases ***
Payloads and files flow through two RPA robots
    Define RPA Process    rpa-chain    Echo Orders    Echo Orders
    ${item} =    Create Input Work Item    rpa-chain    {"order": 7}    files=${ORDER FILE}
    ${run} =    Start Process Run And Wait    rpa-chain    work_item_ids=${{[$item]}}    timeout=${WAIT}
    Should Be Equal    ${run.state}    completed
    ${outputs} =    List Process Run Outputs    ${run.id}
    Should Be Equal    ${outputs}[0][payload]    ${{{"order": 7, "steps": 2}}}
    ${paths} =    Download Process Run Output Files    ${run.id}    ${OUTPUT DIR}/rpa-chain
    ${content} =    Get File    ${paths}[0]
    Should Be Equal    ${content}    2 x widget\n
    ${step runs} =    List Step Runs    ${run.id}
    ${artifacts} =    List Step Run Artifacts    ${step runs}[0][id]
    Should Contain    ${{[a.name for a in $artifacts]}}    log.html

A business exception of an RPA robot fails its item
    Define RPA Process    rpa-failing    Fail Orders
    ${run} =    Start Process Run And Wait    rpa-failing
    ...    payloads=${{[{"code": "NO_CUSTOMER", "message": "Order 1 has no customer."}, {"code": "E2", "message": "Two."}]}}
    ...    timeout=${WAIT}    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved
    ${items} =    List Work Items    process_run_id=${run.id}
    ${first} =    Create Dictionary    type=business    code=NO_CUSTOMER    message=Order 1 has no customer.
    ${second} =    Create Dictionary    type=business    code=E2    message=Two.
    Should Be Equal    ${{[i.exception for i in $items]}}    ${{[$first, $second]}}

An RPA robot survives faults on the worker-side paths
    Define RPA Process    rpa-faulty    Echo Orders
    Private.Clear Request Log
    Private.Inject Fault    503    path=/release-work-item$    times=1
    Private.Inject Fault    502    path=/reserve-next-work-item$    times=1
    ${run} =    Start Process Run And Wait    rpa-faulty    payloads=${{[{"order": 1}, {"order": 2}]}}
    ...    timeout=${WAIT}
    Should Be Equal    ${run.state}    completed
    Statuses Should Be    POST    /reserve-next-work-item$    502    200    200
    ${outputs} =    List Process Run Outputs    ${run.id}
    Length Should Be    ${outputs}    2
    [Teardown]    Private.Clear Faults


*** Keywords ***
Start The Emulator For RPA Robots
    ${found} =    Evaluate    importlib.util.find_spec("RPA") is not None    modules=importlib.util
    Skip If    not ${found}    rpaframework is not installed: nox -s rpaframework runs this suite.
    ${url} =    Private.Start Emulator    ${WORKSPACE_ID}    ${API_KEY}    allow_commands=True
    Create Control Room Session    private    api_url=${url}
    ${file} =    Set Variable    ${OUTPUT DIR}/rpa-order.txt
    Create File    ${file}    2 x widget\n
    Set Suite Variable    ${ORDER FILE}    ${file}

Define RPA Process
    [Documentation]    A process whose steps run the tasks of atest/robots/rpa_child.robot.
    [Arguments]    ${process_id}    @{tasks}
    ${python} =    Evaluate    sys.executable    modules=sys
    ${steps} =    Create List
    FOR    ${index}    ${name}    IN ENUMERATE    @{tasks}    start=1
        ${command} =    Create List    ${python}    -m    robot    --task    ${name}
        ...    --outputdir    \%{ROBOT_ARTIFACTS}    --console    none    rpa_child.robot
        ${step} =    Create Dictionary    name=Step ${index}    command=${command}    cwd=${ROBOTS}
        Append To List    ${steps}    ${step}
    END
    Private.Define Process    ${process_id}    steps=${steps}
