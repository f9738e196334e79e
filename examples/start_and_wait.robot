*** Settings ***
Documentation     The smallest orchestration: start a process run and wait until it ends.
...
...               Against Control Room, import the library with your workspace and key
...               (or set ``RC_WORKSPACE_ID`` and ``RC_API_KEY``) and drop the emulator.

Library           ProcessRunLibrary    workspace_id=example-workspace    api_key=${API KEY}
Library           ProcessRunLibrary.Emulator

Suite Setup       Start The Emulator
Suite Teardown    Stop Emulator


*** Variables ***
${API KEY}    example-key-not-a-secret


*** Test Cases ***
Start a run and wait until it completes
    ${run} =    Start Process Run And Wait    invoices    payload={"invoice": "INV-7"}
    ...    timeout=1 minute
    Should Be Equal    ${run.state}    completed
    Log    ${run.process.name} ran for ${run.duration} seconds on Control Room's clock.

Start now, wait later
    ${id} =    Start Process Run    invoices
    Log    Started process run ${id}; the robot may do other work meanwhile.
    ${run} =    Wait Until Process Run Completes    ${id}    timeout=1 minute
    Should Be Equal    ${run.state}    completed


*** Keywords ***
Start The Emulator
    ${url} =    Start Emulator    example-workspace    ${API KEY}
    ...    config=${CURDIR}/emulator-config.json    clock_factor=10
    Create Control Room Session    emulator    api_url=${url}
