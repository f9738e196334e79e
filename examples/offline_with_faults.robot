*** Settings ***
Documentation     Test an orchestration robot offline: the emulator answers like Control
...               Room, including when Control Room is busy or an answer is lost, and its
...               request log shows what the robot sent.

Library           ProcessRunLibrary    workspace_id=example-workspace    api_key=${API KEY}
...                   poll_interval=1 s
Library           ProcessRunLibrary.Emulator

Suite Setup       Start The Emulator
Suite Teardown    Stop Emulator
Test Setup        Reset Emulator


*** Variables ***
${API KEY}    example-key-not-a-secret


*** Test Cases ***
A busy Control Room does not stop the robot
    Inject Fault    status=503    method=GET    path=/process-runs/    times=${2}    retry_after=1 s
    ${run} =    Start Process Run And Wait    invoices    timeout=1 minute
    Should Be Equal    ${run.state}    completed
    ${busy} =    Get Requests    method=GET    path=/process-runs/
    Should Be Equal As Integers    ${busy}[0][status]    503

A lost answer to a start never starts a second run
    Inject Fault    method=POST    path=/process-runs$    nth=${1}    lost_answer=${True}
    Run Keyword And Expect Error    *may have been started*
    ...    Start Process Run    invoices
    ${runs} =    Get Emulator Runs    invoices
    Length Should Be    ${runs}    1
    ${starts} =    Get Request Count    POST    /process-runs$
    Should Be Equal    ${starts}    ${1}


*** Keywords ***
Start The Emulator
    ${url} =    Start Emulator    example-workspace    ${API KEY}
    ...    config=${CURDIR}/emulator-config.json    clock_factor=10
    Create Control Room Session    emulator    api_url=${url}
